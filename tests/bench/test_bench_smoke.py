"""The benchmark suite still runs: its quick mode (tiny data, one repetition, no Spark or H2O) from start to
end, with every scikit-learn benchmark's figures in its JSON, table and plot. No timing is asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
CASES = ("startup", "train", "model-io", "score", "stream", "prep-sql", "tutorial", "rf")


def test_the_quick_benchmark_runs_and_reports_every_figure(quick_bench):
    done = quick_bench(timeout=900)
    report, results = done.report, done.results
    assert report["settings"]["cases"] == list(CASES)
    names = [row["name"] for row in report["rows"]]
    for expected in ("emberflow --help", "emberflow validate", "train workflow", "the tutorial", "save KNN", "load KNN",
                     "mmap: true", "score 5,000 rows", "peak RSS", "time per row", "SQL group-by, 5,000 rows",
                     "random forest (100 trees, max depth 10), sklearn: train + score 2,000 rows"):
        assert any(expected in name for name in names), (expected, names)
    for row in report["rows"]:
        assert row["ratio"] is not None and row["ratio"] > 0, row
    assert report["machine"]["cpus"] >= 1 and report["machine"]["libraries"]["scikit-learn"] != "not installed"
    for case in ("start-up", "train", "model save/load", "score", "stream", "prep-sql", "tutorial", "rf sklearn"):
        assert report["series"][case], case

    table = (results / "latest.md").read_text()
    assert table.startswith("| benchmark | emberflow | baseline | ratio | target | met |")
    assert all(name in table for name in names)
    assert (results / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| benchmark |" in done.stdout


def test_the_streaming_benchmark_output_matches_the_in_memory_one(tmp_path: Path):
    """The benchmark's own workflows agree: the batched scoring of a file equals the in-memory scoring."""
    rng = np.random.default_rng(8)
    features = pd.DataFrame(rng.normal(size=(4000, 8)), columns=[f"x{i}" for i in range(8)])
    train, data = tmp_path / "train.csv", tmp_path / "features.csv"
    features.iloc[:1000].assign(label=(features["x0"].iloc[:1000] > 0).astype(int)).to_csv(train, index=False)
    features.iloc[1000:].to_csv(data, index=False)
    emberflow = [str(Path(sys.executable).parent / "emberflow"), "run", "--store", str(tmp_path / "store"),
                 "--quiet"]
    workflows = ROOT / "bench" / "workflows"

    def run(name: str, **variables) -> None:
        args = [part for k, v in variables.items() for part in ("--var", f"{k}={v}")]
        done = subprocess.run([*emberflow[:2], str(workflows / name), *emberflow[2:], *args], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr

    run("train_sklearn.yaml", data=train, out=tmp_path / "test.csv")
    run("score_sklearn.yaml", data=data, out=tmp_path / "whole.csv")
    run("score_stream.yaml", data=data, out=tmp_path / "batched.csv", batch_rows=700)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "batched.csv"), pd.read_csv(tmp_path / "whole.csv"),
                                  check_exact=False, rtol=1e-12)
