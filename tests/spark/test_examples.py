"""The Spark example pair: train_spark.yaml saves a Spark ML directory into the store, score_spark.yaml loads it
by name in a second run and writes scored CSV."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark


def stored_files(folder: Path) -> dict[str, str]:
    """Every file of a version folder but its manifest, with its SHA-256, computed here."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json"}


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_train_then_score_by_name_on_spark(spark, cli, project: Path):
    trained = cli("run", "workflows/train_spark.yaml", "--json")
    assert trained.code == 0, trained.err
    record = trained.json()
    assert record["engines"] == ["spark"]
    assert {s["engine"] for s in record["steps"]} == {"spark"}
    assert [(m["name"], m["version"], m["format"]) for m in record["models"]] == [("diabetes-spark-lr", 1, "spark-ml")]
    assert 0.6 < record["metrics"]["score"]["accuracy"] <= 1.0 and 0.6 < record["metrics"]["score"]["roc_auc"] <= 1

    version = project / "models" / "diabetes-spark-lr" / "1"
    manifest = json.loads((version / "manifest.json").read_text())
    listed = {rel: meta["sha256"] for rel, meta in manifest["files"].items()}
    assert listed == stored_files(version)
    names = [Path(rel).name for rel in listed]
    assert "_SUCCESS" in names and any(n.endswith(".crc") for n in names)
    assert any(rel.endswith(".parquet") for rel in listed) and any("/metadata/part-" in rel for rel in listed)
    assert manifest["format"] == "spark-ml" and manifest["engine"] == "spark"
    assert manifest["spark"]["version"] == spark.version
    assert manifest["spark"]["class"] == "org.apache.spark.ml.PipelineModel"
    assert [s["class"].rsplit(".", 1)[1] for s in manifest["spark"]["stages"]] == [
        "SQLTransformer", "ImputerModel", "VectorAssembler", "LogisticRegressionModel"]  # numbers only: no one-hot
    assert manifest["libraries"]["pyspark"] == spark.version
    assert manifest["classes"] == [0, 1] and manifest["label"] == "class"
    assert manifest["params"]["regParam"] == 0.01 and "C" not in manifest["params"]

    scored = cli("run", "workflows/score_spark.yaml", "--json")
    assert scored.code == 0, scored.err
    rows = read_csv_rows(project / "output" / "scored_new_spark.csv")
    new_rows = read_csv_rows(project / "workflows" / "data" / "diabetes_new.csv")
    assert len(rows) == len(new_rows)
    assert list(rows[0]) == [*new_rows[0], "prediction", "probability"]
    assert all(r["prediction"] in ("0", "1") and 0.0 < float(r["probability"]) < 1.0 for r in rows)
    assert all((float(r["probability"]) > 0.5) == (r["prediction"] == "1") for r in rows)
    assert [r["age"] for r in rows] == [r["age"] for r in new_rows]

    verified = cli("models", "verify", "diabetes-spark-lr")
    assert verified.code == 0 and f"ok ({len(listed)} files)" in verified.out
    assert spark.range(3).count() == 3  # emberflow left the session it did not start running


def test_a_changed_file_in_the_spark_directory_is_refused_before_loading(spark, cli, project: Path):
    assert cli("run", "workflows/train_spark.yaml", "--quiet").code == 0
    version = project / "models" / "diabetes-spark-lr" / "1"
    metadata = next((version / "model" / "metadata").glob("part-*"))
    metadata.write_text(metadata.read_text().replace("PipelineModel", "PipelineModeX"))
    result = cli("run", "workflows/score_spark.yaml")
    assert result.code != 0
    assert "does not match its manifest" in result.err and "metadata/part-" in result.err
    assert not (project / "output" / "scored_new_spark.csv").exists()
