"""ReadCSV batch_rows: the rows flow in batches through Score to WriteCSV, with the in-memory run's results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from emberflow.engine.errors import WorkflowError

from .helpers import run_text

TRAIN = """
name: train
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: label, features: [a, b, c]}}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {name: m}}
"""

SCORE = """
name: score
vars: {batch_rows: 0}
steps:
  - {id: load, node: LoadModel, params: {name: m}}
  - {id: read, node: ReadCSV, params: {path: "${data}"%s}}
  - {id: score, node: Score, inputs: {model: load, data: read}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: "${out}"}}
"""
BATCHED = SCORE % ', batch_rows: "${batch_rows}"'
IN_MEMORY = SCORE % ""


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A store holding model 'm', and data.csv of 2,000 labelled rows (with a text column) beside it."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(2000, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["label"] = (X @ [1.0, -1.0, 0.5] + rng.normal(scale=0.7, size=2000) > 0).astype(int)
    frame["note"] = np.where(rng.random(2000) < 0.1, "with, comma", "plain")
    frame.to_csv(tmp_path / "data.csv", index=False)
    trained = run_text(TRAIN.replace("${data}", str(tmp_path / "data.csv")), tmp_path / "store")
    assert trained.ok, trained.error
    return tmp_path


def score(folder: Path, text: str, out: str, **variables):
    return run_text(text, folder / "store", data=str(folder / "data.csv"), out=str(folder / out), **variables)


def test_batches_give_the_in_memory_output_and_metrics(stored: Path):
    whole = score(stored, IN_MEMORY, "whole.csv")
    batched = score(stored, BATCHED, "batched.csv", batch_rows=300)
    assert whole.ok and batched.ok, (whole.error, batched.error)
    expected, got = pd.read_csv(stored / "whole.csv"), pd.read_csv(stored / "batched.csv")
    assert list(got.columns) == list(expected.columns) == ["a", "b", "c", "label", "note", "prediction",
                                                             "probability"]
    assert len(got) == 2000
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    ours, theirs = batched.record["metrics"]["score"], whole.record["metrics"]["score"]
    assert ours["rows"] == theirs["rows"] == 2000
    assert ours["accuracy"] == theirs["accuracy"]
    assert ours["log_loss"] == pytest.approx(theirs["log_loss"], rel=1e-12)
    assert ours["confusion_matrix"] == theirs["confusion_matrix"]
    assert "roc_auc" in theirs and "roc_auc" not in ours


def test_the_batches_are_read_as_they_are_written(stored: Path):
    """ReadCSV returns at once; the reading happens in the step that consumes the batches."""
    batched = score(stored, BATCHED, "batched.csv", batch_rows=300)
    steps = {s["id"]: s for s in batched.record["steps"]}
    assert steps["read"]["rows"] is None and steps["score"]["rows"] is None


def test_a_node_that_needs_every_row_refuses_batches(stored: Path):
    text = """
name: t
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}", batch_rows: 100}}
  - {id: split, node: SplitData, inputs: {data: read}}
"""
    result = run_text(text, stored / "store", data=str(stored / "data.csv"))
    assert not result.ok
    assert result.exit_code == 2
    assert "SplitData needs all its rows at once" in str(result.error) and "batch_rows" in str(result.error)


def test_batch_rows_and_permissive_do_not_go_together(stored: Path):
    text = BATCHED.replace('batch_rows: "${batch_rows}"', 'batch_rows: 10, mode: PERMISSIVE')
    with pytest.raises(WorkflowError, match="batch_rows reads with mode FAILFAST or DROPMALFORMED"):
        score(stored, text, "x.csv")


def test_a_bad_row_in_a_later_batch_fails_and_leaves_no_file(stored: Path):
    lines = (stored / "data.csv").read_text().splitlines()
    lines[1500] += ",extra"
    (stored / "data.csv").write_text("\n".join(lines) + "\n")
    result = score(stored, BATCHED, "batched.csv", batch_rows=200)
    assert not result.ok
    assert "malformed row" in str(result.error) and ":1501" in str(result.error)
    assert not (stored / "batched.csv").exists()
    assert list(stored.glob(".batched.csv*")) == []


def test_dropmalformed_batches_skip_the_bad_rows(stored: Path):
    lines = (stored / "data.csv").read_text().splitlines()
    lines[700] += ",extra"
    (stored / "data.csv").write_text("\n".join(lines) + "\n")
    text = BATCHED.replace('batch_rows: "${batch_rows}"', 'batch_rows: 250, mode: DROPMALFORMED')
    result = score(stored, text, "batched.csv")
    assert result.ok, result.error
    assert len(pd.read_csv(stored / "batched.csv")) == 1999
