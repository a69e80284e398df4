"""The advice in TrainLR's refusals works: the step its message names, added as it says, lets the run pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROWS = "a,b,y\n1,2,0\n2,,1\n3,1,\n4,3,1\n5,2,0\n6,1,1\n7,,0\n8,3,1\n"

WORKFLOW = """name: advice
steps:
  - {{id: read, node: ReadCSV, params: {{path: rows.csv}}}}
{extra}  - {{id: train, node: TrainLR, inputs: {{data: {source}}}, params: {{label: y}}}}
"""


def run(cli, tmp_path: Path, extra: str = "", source: str = "read"):
    (tmp_path / "rows.csv").write_text(ROWS)
    (tmp_path / "wf.yaml").write_text(WORKFLOW.format(extra=extra, source=source))
    return cli("run", tmp_path / "wf.yaml", "--store", tmp_path / "models")


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)


def advised_step(err: str, number: int, source: str) -> str:
    """The DropMissing step a refusal advises, as a workflow line (its columns are written as YAML reads them)."""
    columns = re.search(r"DropMissing step \(columns: (\[[^\]]*\])\)", err).group(1)
    return f"  - {{id: drop{number}, node: DropMissing, inputs: {{data: {source}}}, params: {{columns: {columns}}}}}\n"


def test_each_missing_values_advice_names_a_step_that_fixes_it(cli, tmp_path: Path):
    refused = run(cli, tmp_path)
    assert refused.code == 2 and "features ['b'] have missing values" in refused.err
    assert "fill them with a FillMissing step" in refused.err
    steps = advised_step(refused.err, 1, "read")
    refused = run(cli, tmp_path, steps, "drop1")
    assert refused.code == 2 and "the label 'y' has 1 missing values" in refused.err
    steps += advised_step(refused.err, 2, "drop1")
    result = run(cli, tmp_path, steps, "drop2")
    assert result.code == 0, result.err


def test_the_fill_advice_works_too(cli, tmp_path: Path):
    steps = ("  - {id: drop, node: DropMissing, inputs: {data: read}, params: {columns: [y]}}\n"
             "  - {id: fill, node: FillMissing, inputs: {data: drop}, params: {strategy: median}}\n")
    result = run(cli, tmp_path, steps, "fill")
    assert result.code == 0, result.err
