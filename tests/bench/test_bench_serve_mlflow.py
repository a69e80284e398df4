"""The serve-mlflow benchmark runs, tiny (TrainLR on 2,000 rows, 20 one-row requests a client, 100-row batches):
emberflow serve, whose linear pipeline prepares its rows with NumPy, against mlflow models serve of the same
version exported to MLflow, both servers answering the batch's rows alike (the case checks them), and its
figures in the report. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_serve_mlflow_benchmark_runs_and_both_servers_agree(tmp_path: Path):
    results = tmp_path / "results"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--only", "serve-mlflow", "--quick", "--results",
                           str(results)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    names = [row["name"] for row in json.loads((results / "latest.json").read_text())["rows"]]
    for expected in ("1 client: time per request", "p99 latency vs 10 ms", "100-row requests",
                     "16 concurrent clients: time per request"):
        assert any(expected in name for name in names), (expected, names)
