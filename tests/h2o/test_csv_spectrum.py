"""csv-spectrum on H2O: every case reads as its JSON gives the rows (as on the sklearn engine), through H2O's own
parser (PERMISSIVE) and through the sklearn engine's reader and an upload (FAILFAST), and the file WriteCSV writes
from it reads back the same. One test goes through every case, to keep the H2O jobs few."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine.frames import to_pandas
from emberflow.nodes.read_csv import ReadCSV
from emberflow.nodes.write_csv import WriteCSV
from h2o_nodes import node_runner
from nodes.spectrum_cases import case_names, expected_rows, pandas_rows, read_params, write_params

pytestmark = pytest.mark.h2o


@pytest.fixture
def run(h2o_engine):
    with node_runner() as runner:
        yield runner


def test_every_case_reads_as_its_json_says_and_reads_back_the_same_once_written(run, tmp_path: Path):
    problems = []
    for name in case_names():
        for mode in ("PERMISSIVE", "FAILFAST"):
            frame = run(ReadCSV, **read_params(name, mode=mode))
            rows = pandas_rows(to_pandas(frame))
            if rows != expected_rows(name):
                problems.append(f"{name} ({mode}): read {rows}, expected {expected_rows(name)}")
            target = tmp_path / f"{name}-{mode}.csv"
            run(WriteCSV, {"data": frame}, **write_params(target))
            again = pandas_rows(to_pandas(run(ReadCSV, **read_params(name, target, mode=mode))))
            if again != rows:
                problems.append(f"{name} ({mode}): written and read again {again}, first read {rows}")
    assert problems == []
