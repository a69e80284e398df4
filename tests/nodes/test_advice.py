"""The advice in the trainers' messages works: the step a message names, added as it says, lets the run pass
without the message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROWS = "a,b,y\n1,2,0\n2,,1\n3,1,\n4,3,1\n5,2,0\n6,1,1\n7,,0\n8,3,1\n"

WORKFLOW = """name: advice
steps:
  - {{id: read, node: ReadCSV, params: {{path: rows.csv}}}}
{extra}  - {{id: train, node: TrainLR, inputs: {{data: {source}}}, params: {{label: y{more}}}}}
"""


def run(cli, tmp_path: Path, extra: str = "", source: str = "read", more: str = ""):
    (tmp_path / "rows.csv").write_text(ROWS)
    (tmp_path / "wf.yaml").write_text(WORKFLOW.format(extra=extra, source=source, more=more))
    return cli("run", tmp_path / "wf.yaml", "--store", tmp_path / "models")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)


def advised_step(err: str, number: int, source: str) -> str:
    """The DropMissing step the last message advises, as a workflow line (its columns written as YAML reads
    them)."""
    columns = re.findall(r"DropMissing step \(columns: (\[[^\]]*\])\)", err)[-1]
    return f"  - {{id: drop{number}, node: DropMissing, inputs: {{data: {source}}}, params: {{columns: {columns}}}}}\n"


def test_each_missing_values_advice_names_a_step_that_fixes_it(cli, tmp_path: Path):
    refused = run(cli, tmp_path, more=", impute: none")
    assert refused.code == 2 and "features ['b'] have missing values and impute is none" in refused.err
    steps = advised_step(refused.err, 1, "read")
    warned = run(cli, tmp_path, steps, "drop1", more=", impute: none")
    assert warned.code == 0 and "left out 1 of 6 training rows whose label 'y' is missing" in warned.err, warned.err
    steps += advised_step(warned.err, 2, "drop1")
    result = run(cli, tmp_path, steps, "drop2", more=", impute: none")
    assert result.code == 0 and "warning" not in result.err, result.err


def test_the_fill_advice_works_too(cli, tmp_path: Path):
    steps = ("  - {id: drop, node: DropMissing, inputs: {data: read}, params: {columns: [y]}}\n"
             "  - {id: fill, node: FillMissing, inputs: {data: drop}, params: {strategy: median}}\n")
    result = run(cli, tmp_path, steps, "fill", more=", impute: none")
    assert result.code == 0, result.err
