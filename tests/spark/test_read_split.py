"""ReadCSV and SplitData on Spark: options, modes, and one clear error per problem."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine.api import spark_errors
from emberflow.engine.errors import DataError
from emberflow.nodes.read_csv import ReadCSV
from emberflow.nodes.split_data import SplitData

pytestmark = pytest.mark.spark


def rows(frame) -> list[tuple]:
    with spark_errors():
        return [tuple(r) for r in frame.collect()]


def types(frame) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in frame.schema.fields}


@pytest.fixture
def ragged(tmp_path: Path) -> Path:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    return path


def test_header_and_inferred_types(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("x,y,name\n1,2.5,a\n3,4.5,b\n")
    frame = node(ReadCSV, path=str(path))
    assert types(frame) == {"x": "int", "y": "double", "name": "string"}
    assert rows(frame) == [(1, 2.5, "a"), (3, 4.5, "b")]
    assert types(node(ReadCSV, path=str(path), infer_schema=False)) == {"x": "string", "y": "string",
                                                                        "name": "string"}


def test_headerless_file_and_given_names(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("1;2\n3;4\n")
    assert node(ReadCSV, path=str(path), header=False, separator=";").columns == ["_c0", "_c1"]
    named = node(ReadCSV, path=str(path), header=False, sep=";", columns=["p", "q"])
    assert named.columns == ["p", "q"] and rows(named) == [(1, 2), (3, 4)]


def test_columns_replace_a_header(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n")
    frame = node(ReadCSV, path=str(path), columns=["p", "q"])
    assert frame.columns == ["p", "q"] and rows(frame) == [(1, 2)]
    with pytest.raises(DataError, match="columns names 3 columns, but .* has 2"):
        node(ReadCSV, path=str(path), columns=["p", "q", "r"])


def test_dtypes_with_the_other_columns_inferred_or_text(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    frame = node(ReadCSV, path=str(path), dtypes={"a": "float", "b": "string"})
    assert types(frame) == {"a": "double", "b": "string", "c": "int"}
    assert rows(frame) == [(1.0, "2", 3), (4.0, "5", 6)]
    plain = node(ReadCSV, path=str(path), dtypes={"a": "int"}, inferSchema=False)
    assert types(plain) == {"a": "bigint", "b": "string", "c": "string"}
    with pytest.raises(DataError, match=r"dtypes name columns \['z'\]"):
        node(ReadCSV, path=str(path), dtypes={"z": "int"})


def test_failfast_error_names_the_row_and_the_fix(run_spark_text, ragged: Path):
    result = run_spark_text(f"""
name: t
engine: spark
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{ragged}"}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: read}}, params: {{path: out.csv}}}}
""")
    assert not result.ok and result.exit_code == 2 and result.error.step_id == "write"
    message = str(result.error)
    assert "malformed CSV row '4,5'" in message and "mode: DROPMALFORMED" in message
    assert "\n" not in message and "at org.apache" not in message
    assert not Path("out.csv").exists()


def test_dropmalformed_skips_bad_rows(node, ragged: Path):
    assert [r[0] for r in rows(node(ReadCSV, path=str(ragged), mode="DROPMALFORMED"))] == [1, 10]


def test_dropmalformed_drops_values_that_do_not_fit_the_dtype(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,x\n2,3\n4,\n")
    assert rows(node(ReadCSV, path=str(path), mode="DROPMALFORMED", dtypes={"b": "float"})) == [(2, 3.0), (4, None)]


def test_permissive_keeps_every_row(node, ragged: Path):
    kept = rows(node(ReadCSV, path=str(ragged), mode="PERMISSIVE"))
    assert [r[0] for r in kept] == [1, 4, 6, 10]
    assert kept[1][2] is None and kept[2][2] == 8


def test_encoding_quote_and_escape(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_bytes("name,v\n'café, au lait',1\n".encode("latin-1"))
    assert rows(node(ReadCSV, path=str(path), encoding="latin-1", quote="'")) == [("café, au lait", 1)]
    doubled = tmp_path / "q.csv"
    doubled.write_text('name,v\n"say ""hi""",1\n')
    assert rows(node(ReadCSV, path=str(doubled))) == [('say "hi"', 1)]
    backslash = tmp_path / "b.csv"
    backslash.write_text('name,v\n"say \\"hi\\"",1\n')
    assert rows(node(ReadCSV, path=str(backslash), escape="\\")) == [('say "hi"', 1)]


def test_bytes_that_are_not_utf8_are_refused_with_their_line_not_replaced(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_bytes("name,v\nplain,1\ncafé,2\n".encode("latin-1"))
    for dtypes in (None, {"v": "int"}):
        with pytest.raises(DataError, match=r"ReadCSV: .*d.csv:3 is not valid utf-8 text; set encoding: to the "
                                            r"file's encoding, such as latin-1"):
            node(ReadCSV, path=str(path), dtypes=dtypes)
    assert rows(node(ReadCSV, path=str(path), encoding="latin-1")) == [("plain", 1), ("café", 2)]


def test_valid_utf8_holding_u_fffd_reads_as_it_is(node, tmp_path: Path):
    """U+FFFD is what Spark decodes invalid bytes as; here the file holds the character itself."""
    path = tmp_path / "d.csv"
    path.write_text("place,v\n37\ufffd36'N,1\n", encoding="utf-8")
    assert rows(node(ReadCSV, path=str(path))) == [("37\ufffd36'N", 1)]


def test_a_url_is_checked_for_u_fffd_when_read(node, tmp_path: Path):
    """The driver does not read a URL's bytes first: U+FFFD in a text column stops the job, saying it may be the
    character itself."""
    path = tmp_path / "d.csv"
    path.write_bytes("name,v\nplain,1\ncafé,NA\n".encode("latin-1"))
    frame = node(ReadCSV, path=path.as_uri())
    assert types(frame) == {"name": "string", "v": "int"}
    with pytest.raises(DataError, match=r"holds U\+FFFD in column 'name': bytes that are not valid utf-8 text, "
                                        r"read as that character, or the character itself; set encoding"):
        rows(frame)
    assert rows(node(ReadCSV, path=path.as_uri(), encoding="latin-1")) == [("plain", 1), ("café", None)]


NA_FILE = 'n,sex,note\n1,male,"x"\nNA,NA,""\n3,female,\nN/A,"NA",NaN\n5,-,null\n'


def test_na_values_are_missing_in_every_column(node, tmp_path: Path):
    """Spark reads only one text as missing: a label with NA was a class of its own, a column of numbers with NA
    was text."""
    path = tmp_path / "d.csv"
    path.write_text(NA_FILE)
    frame = node(ReadCSV, path=str(path))
    assert types(frame) == {"n": "int", "sex": "string", "note": "string"}
    assert rows(frame) == [(1, "male", "x"), (None, None, None), (3, "female", None), (None, None, None),
                           (5, "-", None)]
    floats = tmp_path / "f.csv"
    floats.write_text("x,y\n1.5,NaN\n2.5,3\n")
    assert rows(node(ReadCSV, path=str(floats))) == [(1.5, None), (2.5, 3.0)]


def test_na_values_can_be_changed(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text(NA_FILE)
    kept = rows(node(ReadCSV, path=str(path), na_values=[]))
    assert kept[1] == ("NA", "NA", "") and kept[2] == ("3", "female", None)  # "" is text, an unquoted empty not
    dashed = node(ReadCSV, path=str(path), na_values=["-", "NA", "N/A"])
    assert [r[1] for r in rows(dashed)] == ["male", None, "female", None, None] and types(dashed)["n"] == "int"
    typed = node(ReadCSV, path=str(path), dtypes={"n": "float", "sex": "string"}, na_values=["NA", "N/A", ""])
    assert [r[:2] for r in rows(typed)] == [(1.0, "male"), (None, None), (3.0, "female"), (None, None), (5.0, "-")]
    quoted_empty = tmp_path / "q.csv"
    quoted_empty.write_text('x,y\n1,NA\n"",2\n')  # "" is text then, as on the sklearn engine: x is a text column
    assert rows(node(ReadCSV, path=str(quoted_empty), na_values=["NA"])) == [("1", None), ("", 2)]


MULTI_LINE = 'a,b,c\n1,2,3\n"Once upon \na time",5,6\n7,8,9\n'


@pytest.mark.parametrize("mode", ["FAILFAST", "DROPMALFORMED", "PERMISSIVE"])
def test_a_quoted_value_spanning_lines_reads_in_every_mode(node, tmp_path: Path, mode: str):
    """Without multiLine, FAILFAST refused the file and the other modes corrupted its rows."""
    path = tmp_path / "d.csv"
    path.write_text(MULTI_LINE)
    assert rows(node(ReadCSV, path=str(path), mode=mode)) == [("1", 2, 3), ("Once upon \na time", 5, 6), ("7", 8, 9)]


def test_multi_line_false_is_refused_for_a_file_that_needs_it(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text(MULTI_LINE)
    with pytest.raises(DataError, match="has a quoted value that spans lines, which multi_line: false reads as "
                                        "broken rows; remove multi_line"):
        node(ReadCSV, path=str(path), multi_line=False)
    plain = tmp_path / "p.csv"
    plain.write_text("a,b\n1,2\n")
    assert rows(node(ReadCSV, path=str(plain), multiLine=True)) == rows(node(ReadCSV, path=str(plain))) == [(1, 2)]


def test_failfast_names_the_column_and_the_value_that_does_not_fit_its_dtype(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2.5\n2,NA\n3,x\n")
    frame = node(ReadCSV, path=str(path), dtypes={"b": "float"})
    with pytest.raises(DataError, match=r"ReadCSV: .*d.csv: column 'b' \(dtype float\) has the value 'x'; fix the "
                                        r"value or change the column's dtype"):
        rows(frame)
    assert rows(node(ReadCSV, path=str(path), dtypes={"b": "float"}, mode="PERMISSIVE")) == [
        (1, 2.5), (2, None), (3, None)]


@pytest.mark.parametrize("content, params, message", [
    (None, {}, "no such file"),
    (b"", {}, "is empty"),
    (b"a,a\n1,2\n", {}, "duplicate column names"),
    (b"a,b\n1,2\n", {"encoding": "no-such-codec"}, "unknown encoding"),
])
def test_problems_are_one_clear_error(node, tmp_path: Path, content, params, message: str):
    path = tmp_path / "d.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        node(ReadCSV, path=str(path), **params)


def test_split_is_a_seeded_partition_of_the_rows(node, spark):
    data = spark.range(400).toDF("id")
    first = node(SplitData, {"data": data}, test_size=0.25, seed=3)
    again = node(SplitData, {"data": data}, test_size=0.25, seed=3)
    other = node(SplitData, {"data": data}, test_size=0.25, seed=4)
    train, test = ({r.id for r in first[p].collect()} for p in ("train", "test"))
    assert train.isdisjoint(test) and train | test == set(range(400))
    assert 50 < len(test) < 150  # each row goes to the test part with probability 0.25
    assert {r.id for r in again["test"].collect()} == test
    assert {r.id for r in other["test"].collect()} != test


def test_split_refuses_a_share_of_zero(node, spark):
    """Refused when the step's parameters are checked, before Spark sees anything."""
    from emberflow.engine.params import ParamProblem

    with pytest.raises(ParamProblem, match="expected a share between 0 and 1, exclusive, got 0.0"):
        node(SplitData, {"data": spark.range(10)}, test_size=0.0)
