"""The serve-h2o benchmark runs, tiny (10 one-row requests and a 50-row batch, a GLM on 2,000 rows): emberflow
serve of an H2O MOJO against h2o.mojo_predict_pandas, both sides' probabilities agreeing (the case checks them),
and its two figures in the report. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.h2o

ROOT = Path(__file__).resolve().parents[2]


def test_the_serve_h2o_benchmark_runs_and_reports_both_figures(tmp_path: Path):
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--only", "serve-h2o", "--quick", "--results",
                           str(results)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = json.loads((results / "latest.json").read_text())["rows"]
    names = [row["name"] for row in rows]
    assert any("10 one-row requests" in name for name in names), names
    assert any("one request of 50 rows" in name for name in names), names
    assert all(row["ratio"] > 0 for row in rows)
