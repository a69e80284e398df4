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


def test_bytes_that_are_not_utf8_are_refused_not_replaced(node, tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_bytes("name,v\nplain,1\ncafé,2\n".encode("latin-1"))
    frame = node(ReadCSV, path=str(path))
    with pytest.raises(DataError, match=r"ReadCSV: .*d.csv is not valid utf-8 text \(in column 'name', read as "
                                        r"U\+FFFD\); set encoding: to the file's encoding, such as latin-1"):
        rows(frame)
    assert rows(node(ReadCSV, path=str(path), encoding="latin-1")) == [("plain", 1), ("café", 2)]
    typed = node(ReadCSV, path=str(path), dtypes={"v": "int"})
    with pytest.raises(DataError, match=r"not valid utf-8 text \(in column 'name'"):
        rows(typed)
    assert types(frame) == {"name": "string", "v": "int"}


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
