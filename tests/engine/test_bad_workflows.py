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
