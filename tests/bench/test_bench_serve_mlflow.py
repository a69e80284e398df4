"""The serve-mlflow benchmark runs, tiny (TrainLR on 2,000 rows, 20 one-row requests a client, 100-row batches):
emberflow serve, whose linear pipeline prepares its rows with NumPy, against mlflow models serve of the same
version exported to MLflow, both servers answering the batch's rows alike (the case checks them), and its
figures in the report. No timing is asserted."""

from __future__ import annotations


def test_the_serve_mlflow_benchmark_runs_and_both_servers_agree(quick_bench):
    names = [row["name"] for row in quick_bench("--only", "serve-mlflow").report["rows"]]
    for expected in ("1 client: time per request", "p99 latency vs 10 ms", "100-row requests",
                     "16 concurrent clients: time per request"):
        assert any(expected in name for name in names), (expected, names)
