"""Spark ML models outside the store: saved to a plain folder with a manifest beside it, and a Spark ML directory
written by Spark itself (no manifest) loaded by its metadata's class."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from emberflow.engine.errors import IntegrityError
from emberflow.engine.formats.spark import python_class

pytestmark = pytest.mark.spark

DATA = Path(__file__).resolve().parents[2] / "workflows" / "data"

SAVE_TO_PATH = f"""
name: save-path
engine: spark
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{DATA / 'diabetes.csv'}"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{path: saved/lr}}}}
"""

LOAD_FROM_PATH = f"""
name: load-path
engine: spark
steps:
  - {{id: load, node: LoadModel, params: {{path: "${{model}}", format: "${{format}}"}}}}
  - {{id: read, node: ReadCSV, params: {{path: "{DATA / 'diabetes_new.csv'}"}}}}
  - {{id: score, node: Score, inputs: {{model: load, data: read}}, params: {{label: class}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: scored.csv}}}}
"""


def scored_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_spark_model_saved_to_a_path_loads_back_checked(run_spark_text, tmp_path: Path):
    assert run_spark_text(SAVE_TO_PATH).ok
    folder = tmp_path / "saved" / "lr"
    manifest = json.loads((tmp_path / "saved" / "lr.manifest.json").read_text())
    assert manifest["layout"] == "folder" and manifest["format"] == "spark-ml"
    assert set(manifest["files"]) == {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    loaded = run_spark_text(LOAD_FROM_PATH, model="saved/lr", format="auto")
    assert loaded.ok, loaded.error
    assert {r["prediction"] for r in scored_rows(tmp_path / "scored.csv")} <= {"0", "1"}
    assert loaded.record["metrics"]["score"]["rows"] == len(scored_rows(tmp_path / "scored.csv"))

    crc = next(folder.rglob("*.parquet.crc"))
    crc.write_bytes(crc.read_bytes()[:-1] + b"\x00")
    refused = run_spark_text(LOAD_FROM_PATH, model="saved/lr", format="auto")
    assert not refused.ok and crc.name in str(refused.error)


def test_a_directory_written_by_spark_itself_loads_by_its_metadata(run_spark_text, spark, tmp_path: Path):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.functions import vector_to_array

    data = spark.read.csv(str(DATA / "diabetes.csv"), header=True, inferSchema=True)
    features = [c for c in data.columns if c != "class"]
    pipeline = Pipeline(stages=[VectorAssembler(inputCols=features, outputCol="features"),
                                LogisticRegression(labelCol="class")])
    fitted = pipeline.fit(data.withColumn("class", data["class"].cast("double")))
    fitted.write().save(str(tmp_path / "pipeline"))
    new = spark.read.csv(str(DATA / "diabetes_new.csv"), header=True, inferSchema=True)
    expected = [r[0] for r in fitted.transform(new).select(vector_to_array("probability")[1]).collect()]

    result = run_spark_text(LOAD_FROM_PATH, model="pipeline", format="spark-ml")
    assert result.ok, result.error
    rows = scored_rows(tmp_path / "scored.csv")
    assert max(abs(float(r["probability"]) - e) for r, e in zip(rows, expected, strict=True)) < 1e-12
    assert {r["prediction"] for r in rows} <= {"0.0", "1.0"}
    recognised = run_spark_text(LOAD_FROM_PATH, model="pipeline", format="auto")
    assert recognised.ok, recognised.error
    (tmp_path / "not-a-model").mkdir()
    unknown = run_spark_text(LOAD_FROM_PATH, model="not-a-model", format="auto")
    assert not unknown.ok and "set format: to one of" in str(unknown.error) and "spark-ml" in str(unknown.error)


def test_only_spark_ml_classes_are_loaded():
    assert python_class("org.apache.spark.ml.PipelineModel").__name__ == "PipelineModel"
    with pytest.raises(IntegrityError, match="not a Spark ML model class"):
        python_class("java.lang.Runtime")
