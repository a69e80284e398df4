"""The benchmark tests run ``python -m bench.run --quick`` in a fresh process, as a user would, and read its
report."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class QuickRun:
    report: dict[str, Any]  # latest.json
    results: Path  # the folder holding latest.json, latest.md and latest.png
    stdout: str


@pytest.fixture
def quick_bench(tmp_path: Path):
    """Run the quick benchmark with further arguments (``--only CASE``); what it wrote, once it passed."""

    def run(*args: str, timeout: float = 600) -> QuickRun:
        results = tmp_path / "results"
        done = subprocess.run([sys.executable, "-m", "bench.run", *args, "--quick", "--results", str(results)],
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return QuickRun(json.loads((results / "latest.json").read_text()), results, done.stdout)

    return run
