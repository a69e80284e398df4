"""Fixtures shared by every test: a temporary store, the example data, and ways to run the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / "workflows"


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding a copy of workflows/ (with its data), as a user's checkout would; cwd is set
    there, and the store is its ./models."""
    shutil.copytree(WORKFLOWS, tmp_path / "workflows")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMBERFLOW_STORE", raising=False)
    return tmp_path


@pytest.fixture
def cli(capsys: pytest.CaptureFixture):
    """Run ``emberflow ARGS`` in this process; returns exit code, stdout and stderr."""
    from emberflow.engine.cli import main

    def run(*args: str) -> CliResult:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


def run_subprocess(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600) -> CliResult:
    """Run ``emberflow ARGS`` in a fresh Python process (for what must be seen from outside: imports, JVMs)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "emberflow.engine.cli", *map(str, args)],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def emberflow_subprocess():
    return run_subprocess


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the formats whose ``load`` ran during the test: the deserializers that ran."""
    from emberflow.engine.formats import all_formats

    calls: list[str] = []
    for fmt in all_formats():
        original = type(fmt).load

        def spy(self, *args, _original=original, **kwargs):
            calls.append(self.name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(type(fmt), "load", spy)
    return calls


@pytest.fixture
def sessions():
    """Engine sessions for loading models in a test, stopped after it as a run stops its own."""
    from emberflow.engine.context import Sessions

    opened = Sessions()
    yield opened
    assert opened.stop_all() == []
