"""Every malformed workflow gives one clear line with its location, exit code 2, and writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

BAD = Path(__file__).resolve().parent.parent / "fixtures" / "bad_workflows"
# Files that cannot carry an "# expect:" comment of their own.
EXPECT_WITHOUT_COMMENT = {
    "empty.yaml": "the workflow file is empty",
    "binary.yaml": "is a binary file",
    "latin1.yaml": "is not valid UTF-8",
}


def expectation(path: Path) -> tuple[str, str | None]:
    """(message fragment, 'line' or 'line:col' or None) from the file's first-line comment."""
    if path.name in EXPECT_WITHOUT_COMMENT:
        return EXPECT_WITHOUT_COMMENT[path.name], None
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.match(r"# expect: (.*?)(?: @ (\d+(?::\d+)?))?$", first)
    assert match, f"{path.name} needs an '# expect: message [@ line[:col]]' first line"
    return match.group(1), match.group(2)


CASES = sorted(BAD.glob("*.yaml"))


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_validate_reports_one_clear_located_line(path: Path, cli, project: Path):
    fragment, location = expectation(path)
    result = cli("validate", path)
    assert result.code == 2, result.err
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err
    assert fragment in lines[0]
    assert lines[0].startswith(f"error: {path}")
    if location:
        assert f"{path}:{location}" in lines[0]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_run_refuses_before_anything_runs(path: Path, cli, project: Path):
    result = cli("run", path, "--store", project / "store")
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert not (project / "store").exists(), "nothing may be written for an invalid workflow"
    assert not (project / "pwned").exists()


# ----- paths that are not regular files -----

# Reads the workflow in a process of its own, with its memory capped, so that reading without bound (which
# /dev/zero invites: its size reads as 0) fails with MemoryError instead of filling the machine.
BOUNDED_VALIDATE = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from emberflow.engine.cli import main
sys.exit(main(["validate", sys.argv[1]]))
"""


def validate_in_a_capped_process(path: Path) -> tuple[int, str]:
    import subprocess
    import sys

    # the timeout only ends a read that blocks (a FIFO with no writer), so the suite cannot hang on it
    proc = subprocess.run([sys.executable, "-c", BOUNDED_VALIDATE, str(path)], capture_output=True, text=True,
                          timeout=60)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_a_path_that_is_not_a_regular_file_is_refused_without_reading_it(kind: str, tmp_path: Path):
    import os

    if kind == "device":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "wf.yaml"
        os.mkfifo(path)
    else:
        path = tmp_path / "wf.yaml"
        path.mkdir()
    code, err = validate_in_a_capped_process(path)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    expected = {"device": "is a device, not a regular file", "fifo": "is a FIFO (named pipe), not a regular file",
                "folder": "is a folder; expected a workflow YAML file"}[kind]
    assert lines[0] == f"error: {path}: {expected}" + ("" if kind == "folder" else
                                                          "; save the workflow to a file and give its path")


def test_a_file_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli):
    from emberflow.engine import source

    path = tmp_path / "big.yaml"
    path.write_text("name: x\n" + "# padding\n" * 10)
    monkeypatch.setattr(source, "MAX_WORKFLOW_BYTES", 64)
    result = cli("validate", path)
    assert result.code == 2
    assert result.err == f"error: {path}: file is over 64 bytes; a workflow file is expected to be smaller\n"


def test_a_missing_workflow_file_names_the_absolute_path_tried(tmp_path, monkeypatch):
    from emberflow.engine.errors import WorkflowError
    from emberflow.engine.source import read_text

    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkflowError) as caught:
        read_text("flows/missing.yaml")
    assert f"looked for {tmp_path / 'flows' / 'missing.yaml'}" in str(caught.value)
