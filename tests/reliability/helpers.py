"""Shared by the reliability tests: starting writer processes and reading what they say."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from emberflow.engine.model import Model

WRITERS = Path(__file__).resolve().parent / "writers.py"


def start_writer(*args: str, stdin: bool = False) -> subprocess.Popen:
    """Start ``writers.py ARGS`` in a fresh Python process, its stdout (and with ``stdin`` its stdin) a pipe of
    lines. One BLAS thread: the fork server forks, and a thread pool does not survive a fork."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(WRITERS), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.PIPE if stdin else None, text=True,
                            env=env)


def expect_line(proc: subprocess.Popen, wanted: str) -> None:
    """Read the writer's next line, which must be ``wanted``."""
    line = proc.stdout.readline().strip()
    if line != wanted:
        proc.kill()
        raise AssertionError(f"writer said {line!r}, expected {wanted!r}; stderr: {proc.stderr.read()[-2000:]}")


def saved_versions(output: str) -> list[int]:
    return [int(line.split()[1]) for line in output.splitlines() if line.startswith("saved ")]


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(".tmp-*")) if folder.exists() else []


def lr_model() -> Model:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    y = np.where(X["a"] > 0, "yes", "no")
    return Model(obj=LogisticRegression().fit(X, y), engine="sklearn", features=["a", "b"], label="c",
                 classes=["no", "yes"])


DIABETES = Path(__file__).resolve().parents[2] / "workflows" / "data" / "diabetes.csv"


def train_and_save(engine: str, store_root: Path, name: str = "m", format_name: str = "auto",
                   rows: Path = DIABETES) -> dict:
    """Train a logistic regression on ``engine`` in this process and save it as ``name``; the run record."""
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    text = f"""\
name: train-{engine}
engine: {engine}
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{rows}"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class, max_iter: 50}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: {name}, format: {format_name}}}}}
"""
    result = run_workflow(parse_workflow(text, "train.yaml"), ModelStore(store_root), reporter=Reporter(None))
    assert result.error is None, result.error
    return result.record
