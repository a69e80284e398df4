"""csv-spectrum on Spark: every case reads as its JSON gives the rows (as on the sklearn engine), and a file
WriteCSV writes from it reads back the same. One test goes through every case, to keep the Spark jobs few."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine.api import spark_errors
from emberflow.nodes.read_csv import ReadCSV
from emberflow.nodes.write_csv import WriteCSV
from nodes.spectrum_cases import case_names, expected_rows, read_params, write_params

pytestmark = pytest.mark.spark


def spark_rows(frame) -> list[dict]:
    with spark_errors():
        return [row.asDict() for row in frame.collect()]


def test_every_case_reads_as_its_json_says_and_reads_back_the_same_once_written(node, tmp_path: Path):
    problems = []
    for name in case_names():
        frame = node(ReadCSV, **read_params(name))
        rows = spark_rows(frame)
        if rows != expected_rows(name):
            problems.append(f"{name}: read {rows}, expected {expected_rows(name)}")
        target = tmp_path / f"{name}.csv"
        node(WriteCSV, {"data": frame}, **write_params(target))
        again = spark_rows(node(ReadCSV, **read_params(name, target)))
        if again != rows:
            problems.append(f"{name}: written and read again {again}, first read {rows}")
        kept = spark_rows(node(ReadCSV, **read_params(name, na_values=[])))
        if kept != expected_rows(name, empty_is_missing=False):
            problems.append(f"{name} with na_values []: read {kept}")
    assert problems == []
