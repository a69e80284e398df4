"""csv-spectrum on the sklearn engine: every case reads as its JSON gives the rows, in every mode, and a file
WriteCSV writes from it reads back the same. (tests/spark and tests/h2o hold the same test for their engines.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine.frames import is_arrow, to_pandas
from emberflow.engine.params import resolve_params
from emberflow.nodes.read_csv import MODES, ReadCSV
from emberflow.nodes.write_csv import WriteCSV

from nodes.spectrum_cases import case_names, expected_rows, pandas_rows, read_params, write_params

CASES = case_names()


def run(node_class, inputs: dict | None = None, **params):
    """The node's output as the next step gets it unless that takes Arrow: pandas."""
    return to_pandas(run_as_is(node_class, inputs, **params))


def run_as_is(node_class, inputs: dict | None = None, **params):
    resolved = resolve_params(node_class.params, params, "sklearn", node_class.node_name())
    node_class.check_params(resolved, "sklearn")
    return node_class().run_sklearn(None, inputs or {}, resolved)


def read(**params):
    return run(ReadCSV, **params)


def test_every_case_of_the_package_is_here():
    assert len(CASES) == 12 and {"newlines_crlf", "quotes_and_newlines", "location_coordinates"} <= set(CASES)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", CASES)
def test_each_case_reads_as_its_json_says(name: str, mode: str):
    assert pandas_rows(read(**read_params(name, mode=mode))) == expected_rows(name)


@pytest.mark.parametrize("name", CASES)
def test_without_empty_text_in_na_values_a_quoted_empty_field_is_empty_text(name: str):
    rows = pandas_rows(read(**read_params(name, na_values=[])))
    assert rows == expected_rows(name, empty_is_missing=False)


@pytest.mark.parametrize("na_values", [None, []], ids=["default", "none"])
@pytest.mark.parametrize("name", CASES)
def test_written_and_read_again_each_case_gives_the_same_rows(name: str, na_values, tmp_path: Path):
    more = {} if na_values is None else {"na_values": na_values}
    first = read(**read_params(name, **more))
    target = tmp_path / "out.csv"
    run(WriteCSV, {"data": first}, **write_params(target))
    assert pandas_rows(read(**read_params(name, target, **more))) == pandas_rows(first)


@pytest.mark.parametrize("na_values", [None, []], ids=["default", "none"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", CASES)
def test_writing_the_arrow_table_read_gives_the_bytes_its_pandas_frame_gives(name: str, mode: str, na_values,
                                                                             tmp_path: Path):
    """ReadCSV hands WriteCSV the table Arrow read; written from it or from the pandas frame other nodes get, the
    file is the same, byte for byte."""
    more = {} if na_values is None else {"na_values": na_values}
    table = run_as_is(ReadCSV, **read_params(name, mode=mode, **more))
    assert is_arrow(table) == (mode == "FAILFAST")  # DROPMALFORMED with dtypes and PERMISSIVE: pandas
    run_as_is(WriteCSV, {"data": table}, **write_params(tmp_path / "arrow.csv"))
    run_as_is(WriteCSV, {"data": to_pandas(table)}, **write_params(tmp_path / "pandas.csv"))
    assert (tmp_path / "arrow.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
