"""A step's warnings (``ctx.warn``) reach the user however `run` prints: on stderr beside the progress, and under
--json and --quiet too (stdout then holds only the JSON record, or nothing), and in the run record kept in the
store and printed by --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# One iteration of the solver cannot converge: TrainLR warns, and the run still succeeds.
UNCONVERGED = """name: one-iteration
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: class, max_iter: 1}}
"""


def saved_record(project: Path) -> dict:
    (path,) = (project / "models" / "runs").glob("*.json")
    return json.loads(path.read_text())


def warning_lines(err: str) -> list[str]:
    """The ``warning:`` lines of stderr; with progress shown a warning may follow a step's ``... `` on its line."""
    return [line[line.index("warning: "):] for line in err.splitlines() if "warning: " in line]


@pytest.mark.parametrize("flags", [("--json",), ("--quiet",), ()])
def test_a_step_warning_is_on_stderr_and_in_the_record(cli, project: Path, flags: tuple[str, ...]):
    (project / "wf.yaml").write_text(UNCONVERGED)
    result = cli("run", "wf.yaml", *flags)
    assert result.code == 0, result.err
    warnings = saved_record(project)["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("train: ") and "converge" in warnings[0]
    assert warning_lines(result.err) == [f"warning: {warnings[0]}"]
    if "--json" in flags:
        assert result.err == f"warning: {warnings[0]}\n"  # no progress under --json
        assert result.json()["warnings"] == warnings  # stdout is the JSON record alone
    if "--quiet" in flags:
        assert result.out == "" and result.err == f"warning: {warnings[0]}\n"


def test_a_run_without_warnings_keeps_stderr_empty_under_json(cli, project: Path):
    (project / "wf.yaml").write_text(UNCONVERGED.replace("max_iter: 1", "solver: liblinear"))
    result = cli("run", "wf.yaml", "--json")
    assert result.code == 0 and result.err == ""
    assert result.json()["warnings"] == [] == saved_record(project)["warnings"]
