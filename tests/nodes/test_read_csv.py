"""ReadCSV on the sklearn engine: options, modes, and one clear error per problem."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.errors import DataError
from emberflow.engine.params import resolve_params
from emberflow.nodes.read_csv import ReadCSV


def read(path: Path, **params):
    resolved = resolve_params(ReadCSV.params, {"path": str(path), **params}, "sklearn", "ReadCSV")
    ReadCSV.check_params(resolved, "sklearn")
    return ReadCSV().run_sklearn(None, {}, resolved)


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
    with pytest.raises(DataError, match="invalid value 'x'"):
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
