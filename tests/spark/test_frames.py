"""Steps of one workflow on different engines: frames move between pandas and Spark through Arrow, and models
score frames of the other engine where they can."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.frames import frame_engine, row_count, to_engine, to_pandas

pytestmark = pytest.mark.spark

DATA = Path(__file__).resolve().parents[2] / "workflows" / "data"
NEW_ROWS = len((DATA / "diabetes_new.csv").read_text().strip().splitlines()) - 1


def probabilities(path: Path) -> list[tuple[str, float]]:
    with open(path, newline="") as handle:
        return [(r["prediction"], float(r["probability"])) for r in csv.DictReader(handle)]


def test_pandas_and_spark_frames_convert_both_ways(spark):
    sessions = Sessions()
    frame = pd.DataFrame({"n": [1, 2, 3], "x": [0.5, None, 2.5], "s": ["a", None, "c"], 7: [True, False, True]})
    on_spark = to_engine(frame, "spark", sessions)
    assert frame_engine(on_spark) == "spark" and row_count(on_spark) is None
    assert [(f.name, f.dataType.simpleString()) for f in on_spark.schema.fields] == [
        ("n", "bigint"), ("x", "double"), ("s", "string"), ("7", "boolean")]
    back = to_pandas(on_spark)
    assert frame_engine(back) == "sklearn" and row_count(back) == 3
    assert back["n"].tolist() == [1, 2, 3] and back["s"].tolist()[::2] == ["a", "c"] and pd.isna(back["x"][1])
    assert to_engine(on_spark, "spark", sessions) is on_spark
    assert sessions.stop_all() == [] and spark.range(1).count() == 1


def test_an_arrow_table_goes_to_spark_as_its_pandas_frame_does(spark):
    """ReadCSV's Arrow table on its way to a Spark step becomes pandas first: an integer column with a missing
    value is a double column on Spark, as from the pandas frame."""
    import pyarrow as pa

    table = pa.table({"n": pa.array([1, None, 3], pa.int64()), "s": pa.array(["a", None, "c"])})
    on_spark, from_pandas = to_engine(table, "spark", Sessions()), to_engine(table.to_pandas(), "spark", Sessions())
    assert frame_engine(table) == "sklearn" and row_count(table) == 3
    assert on_spark.schema == from_pandas.schema and on_spark.schema["n"].dataType.simpleString() == "double"
    assert [str(row) for row in on_spark.collect()] == [str(row) for row in from_pandas.collect()]


def test_a_scikit_learn_model_scores_a_spark_frame_like_pandas_does(run_spark_text, tmp_path: Path):
    text = f"""
name: cross
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{DATA / 'diabetes.csv'}"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class, solver: liblinear}}}}
  - {{id: new_pandas, node: ReadCSV, params: {{path: "{DATA / 'diabetes_new.csv'}"}}}}
  - {{id: new_spark, node: ReadCSV, engine: spark, params: {{path: "{DATA / 'diabetes_new.csv'}"}}}}
  - {{id: score_pandas, node: Score, inputs: {{model: train, data: new_pandas}}}}
  - {{id: score_spark, node: Score, engine: spark, inputs: {{model: train, data: new_spark}}}}
  - {{id: write_pandas, node: WriteCSV, inputs: {{data: score_pandas}}, params: {{path: pandas.csv}}}}
  - {{id: write_spark, node: WriteCSV, engine: spark, inputs: {{data: score_spark}}, params: {{path: spark.csv}}}}
"""
    result = run_spark_text(text)
    assert result.ok, result.error
    by_step = {s["id"]: s for s in result.record["steps"]}
    assert by_step["new_spark"]["rows"] is None and by_step["new_pandas"]["rows"] == NEW_ROWS
    assert result.record["engines"] == ["spark"]
    on_pandas, on_spark = probabilities(tmp_path / "pandas.csv"), probabilities(tmp_path / "spark.csv")
    assert [p for p, _ in on_spark] == [p for p, _ in on_pandas]
    assert max(abs(a - b) for (_, a), (_, b) in zip(on_spark, on_pandas, strict=True)) < 1e-12
    metrics = result.record["metrics"]
    for key in ("accuracy", "roc_auc", "log_loss"):
        assert metrics["score_spark"][key] == pytest.approx(metrics["score_pandas"][key], abs=1e-9)
    assert metrics["score_spark"]["confusion_matrix"] == metrics["score_pandas"]["confusion_matrix"]


def test_pandas_data_trains_on_spark_and_spark_output_feeds_pandas_steps(run_spark_text, tmp_path: Path):
    text = f"""
name: cross
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{DATA / 'diabetes.csv'}"}}}}
  - {{id: train, node: TrainLR, engine: spark, inputs: {{data: read}}, params: {{label: class, regParam: 0.01}}}}
  - {{id: score, node: Score, engine: spark, inputs: {{model: train, data: read}}}}
  - {{id: split, node: SplitData, inputs: {{data: score}}, params: {{test_size: 0.5, seed: 1}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: split.test}}, params: {{path: half.csv}}}}
"""
    result = run_spark_text(text)
    assert result.ok, result.error
    assert {s["id"]: s["rows"] for s in result.record["steps"]}["split"] == 350
    assert len(probabilities(tmp_path / "half.csv")) == 350


def test_a_spark_model_on_the_sklearn_engine_is_a_clear_error(run_spark_text):
    text = f"""
name: cross
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{DATA / 'diabetes.csv'}"}}}}
  - {{id: train, node: TrainLR, engine: spark, inputs: {{data: read}}, params: {{label: class}}}}
  - {{id: score, node: Score, inputs: {{model: train, data: read}}}}
"""
    result = run_spark_text(text)
    assert not result.ok and result.error.step_id == "score"
    assert "cannot use a spark model; run the step with engine: spark" in str(result.error)
