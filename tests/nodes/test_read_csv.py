"""ReadCSV on the sklearn engine: options, modes, and one clear error per problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.errors import DataError
from emberflow.engine.frames import is_arrow, to_pandas
from emberflow.engine.params import resolve_params
from emberflow.nodes.read_csv import ReadCSV


def read(path: Path, **params):
    resolved = resolve_params(ReadCSV.params, {"path": str(path), **params}, "sklearn", "ReadCSV")
    ReadCSV.check_params(resolved, "sklearn")
    frame = ReadCSV().run_sklearn(None, {}, resolved)
    return to_pandas(frame) if is_arrow(frame) else frame  # as the runner hands it to a node


@pytest.fixture
def ragged(tmp_path: Path) -> Path:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n")
    return path


def test_reads_header_and_types(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("x,y,name\n1,2.5,a\n3,4.5,b\n")
    frame = read(path)
    assert list(frame.columns) == ["x", "y", "name"]
    assert frame["x"].tolist() == [1, 3] and frame["y"].tolist() == [2.5, 4.5]
    assert pd.api.types.is_integer_dtype(frame["x"]) and pd.api.types.is_float_dtype(frame["y"])


def test_headerless_file_gets_sparks_column_names_or_the_given_ones(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("1;2\n3;4\n")
    assert list(read(path, header=False, separator=";").columns) == ["_c0", "_c1"]
    named = read(path, header=False, separator=";", columns=["p", "q"])
    assert list(named.columns) == ["p", "q"] and named["q"].tolist() == [2, 4]


def test_columns_replace_a_header(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n")
    frame = read(path, columns=["p", "q"])
    assert list(frame.columns) == ["p", "q"] and len(frame) == 1


def test_dtypes_are_applied(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    frame = read(path, dtypes={"a": "float", "b": "string"})
    assert pd.api.types.is_float_dtype(frame["a"]) and frame["b"].tolist() == ["2", "4"]


def test_failfast_names_the_line_of_a_malformed_row(ragged: Path):
    with pytest.raises(DataError, match=rf"malformed row at {ragged}:3, expected 3 fields, got 2"):
        read(ragged)


def test_dropmalformed_skips_bad_rows(ragged: Path):
    assert read(ragged, mode="DROPMALFORMED")["a"].tolist() == [1, 10]


def test_dropmalformed_drops_values_that_do_not_fit_the_dtype(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,x\n2,3\n4,\n")
    frame = read(path, mode="DROPMALFORMED", dtypes={"b": "float"})
    assert frame["a"].tolist() == [2, 4]
    assert frame["b"].iloc[0] == 3.0 and pd.isna(frame["b"].iloc[1])


def test_failfast_reports_a_value_that_does_not_fit_the_dtype(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,x\n")
    with pytest.raises(DataError, match="column 'b' \\(dtype float\\) has the value 'x'"):
        read(path, dtypes={"b": "float"})


def test_permissive_keeps_every_row(ragged: Path):
    frame = read(ragged, mode="PERMISSIVE")
    assert frame["a"].tolist() == [1, 4, 6, 10]
    assert pd.isna(frame["c"].iloc[1]) and frame["c"].iloc[2] == 8


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    (b"", "is empty"),
    (b"a,b\n\xff\xfe,1\n", "is not valid utf-8 text .*set encoding"),
    (b"a,a\n1,2\n", "duplicate column names"),
])
def test_problems_are_one_clear_error(tmp_path: Path, content, message: str):
    path = tmp_path / "d.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read(path)


def test_encoding_and_quote_options(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_bytes("name,v\n'café, au lait',1\n".encode("latin-1"))
    frame = read(path, encoding="latin-1", quote="'")
    assert frame["name"].tolist() == ["café, au lait"]


NA_FILE = 'n,sex,note\n1,male,"x"\nNA,NA,""\n3,female,\nN/A,"NA",NaN\n5,-,null\n'


@pytest.mark.parametrize("mode", ["FAILFAST", "DROPMALFORMED", "PERMISSIVE"])
def test_na_values_are_missing_in_every_column_by_default(tmp_path: Path, mode: str):
    path = tmp_path / "d.csv"
    path.write_text(NA_FILE)
    frame = read(path, mode=mode)
    assert pd.api.types.is_float_dtype(frame["n"]) and frame["n"].isna().tolist() == [False, True, False, True, False]
    assert frame["sex"].dropna().tolist() == ["male", "female", "-"] and frame["sex"].isna().sum() == 2
    assert frame["note"].dropna().tolist() == ["x"]


@pytest.mark.parametrize("mode", ["FAILFAST", "DROPMALFORMED"])
def test_na_values_can_be_changed(tmp_path: Path, mode: str):
    path = tmp_path / "d.csv"
    path.write_text(NA_FILE)
    none = read(path, mode=mode, na_values=[])
    assert none["sex"].tolist()[:2] == ["male", "NA"] and none["n"].tolist()[1] == "NA"
    assert none["note"].iloc[1] == "" and pd.isna(none["note"].iloc[2])  # "" is text; an unquoted empty field not
    dash = read(path, mode=mode, na_values=["-", "NA"])
    assert dash["sex"].isna().tolist() == [False, True, False, True, True]  # quoted or not


def test_permissive_keeps_the_text_of_string_columns(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("zip,n\n08123,3\n00501,4\n")
    frame = read(path, mode="PERMISSIVE", dtypes={"zip": "string", "n": "string"})
    assert frame["zip"].tolist() == ["08123", "00501"] and frame["n"].tolist() == ["3", "4"]


def test_a_quoted_value_spanning_lines_reads_beyond_the_first_block(tmp_path: Path):
    """Arrow splits a file into 1 MB blocks at line breaks unless told values hold some."""
    path = tmp_path / "d.csv"
    path.write_text("a,b\n" + "".join(f'{i},"line {i}\nnext {i}"\n' for i in range(60_000)))
    frame = read(path)
    assert len(frame) == 60_000 and frame["b"].iloc[-1] == "line 59999\nnext 59999"
    batches = list(read(path, batch_rows=25_000))
    assert sum(map(len, batches)) == 60_000 and batches[-1]["b"].iloc[-1] == "line 59999\nnext 59999"


@pytest.mark.parametrize(("header", "name"), [(True, "b"), (False, "_c1")])
def test_a_value_that_does_not_fit_its_dtype_is_named_with_its_column_as_on_spark(tmp_path: Path, header: bool,
                                                                                  name: str):
    path = tmp_path / "d.csv"
    path.write_text(("a,b\n" if header else "") + "1,2.5\n2,NA\n3,x\n")
    with pytest.raises(DataError, match=rf"ReadCSV: .*d.csv: column '{name}' \(dtype float\) has the value 'x'; fix "
                                        r"the value or change the column's dtype"):
        read(path, header=header, dtypes={name: "float"})


def test_a_dtype_applies_to_a_headerless_files_column(tmp_path: Path):
    path = tmp_path / "d.csv"
    path.write_text("007,1\n010,2\n")
    frame = read(path, header=False, dtypes={"_c0": "string"})
    assert list(frame.columns) == ["_c0", "_c1"]
    assert frame["_c0"].tolist() == ["007", "010"]


@pytest.mark.parametrize(("content", "params", "says"), [
    (b"a,b\nx,1\ny\x81z,2\n", {"encoding": "cp1252"},
     "d.csv:3 is not valid cp1252 text; set encoding: to the file's encoding, such as latin-1"),
    (b"a,b\nx,1\ny\xffz,2\n", {"mode": "PERMISSIVE"},
     "d.csv:3 is not valid utf-8 text; set encoding: to the file's encoding, such as latin-1"),
    ("a,b\ncafé,1\n".encode() + b"y\xffz,2\n", {},
     "d.csv:3 is not valid utf-8 text (in columns ['a']); the lines before it hold UTF-8 text, which latin-1 would "
     "garble: fix or remove the bytes on that line"),
])
def test_bytes_not_valid_in_the_encoding_are_one_line_naming_theirs_and_advice_that_works(tmp_path: Path, content,
                                                                                          params, says):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        read(path, **params)
    assert str(caught.value).endswith(says) and "\n" not in str(caught.value), str(caught.value)
