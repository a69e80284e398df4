"""Score on Spark keeps its scored rows cached for the steps after it (the metrics and the writer read them
once), and the run releases the cache when it ends."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.spark

TRAIN_SCORE_WRITE = """
name: t
engine: spark
steps:
  - {id: read, node: ReadCSV, params: {path: data.csv}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: y}}
  - {id: score, node: Score, inputs: {model: train, data: read}, params: {label: y}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: scored.csv}}
"""


def cached_plans(spark) -> bool:
    return not spark._jsparkSession.sharedState().cacheManager().isEmpty()


def test_the_scored_rows_are_cached_during_the_run_and_released_after(spark, run_spark_text, tmp_path: Path,
                                                                        monkeypatch):
    pd.DataFrame({"a": [0.1, 0.9, 0.2, 0.8, 0.3, 0.7] * 5, "y": [0, 1, 0, 1, 0, 1] * 5}).to_csv(
        tmp_path / "data.csv", index=False)
    seen: list[bool] = []
    from emberflow.nodes import write_csv

    original = write_csv.WriteCSV.run_spark

    def spy(self, ctx, inputs, params):
        seen.append(bool(inputs["data"].storageLevel.useMemory))
        return original(self, ctx, inputs, params)

    monkeypatch.setattr(write_csv.WriteCSV, "run_spark", spy)
    assert not cached_plans(spark)
    result = run_spark_text(TRAIN_SCORE_WRITE)
    assert result.ok, result.error
    assert seen == [True]
    assert result.record["metrics"]["score"]["rows"] == 30
    assert len(pd.read_csv(tmp_path / "scored.csv")) == 30
    assert not cached_plans(spark)


def test_sessions_release_what_steps_kept_before_stopping():
    from emberflow.engine.context import Sessions

    calls: list[str] = []
    sessions = Sessions()
    sessions.on_stop(lambda: calls.append("first"))

    def failing() -> None:
        raise RuntimeError("gone")

    sessions.on_stop(failing)
    sessions.on_stop(lambda: calls.append("last"))
    problems = sessions.stop_all()
    assert calls == ["last", "first"]
    assert len(problems) == 1 and "failed: gone" in problems[0]
    assert sessions.stop_all() == [] and calls == ["last", "first"]
