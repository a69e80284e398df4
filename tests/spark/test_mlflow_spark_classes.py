"""MLflow's Spark models imported with their classes: a PipelineModel whose classifier learns from a StringIndexer's
index of a text label imports with the indexer's labels as its classes, so that Score predicts the label as Spark's
own model and IndexToString give it; a classifier of a numeric label imports without classes, saying so on stderr,
and a regression as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.spark

SCORE_IMPORTED = """
name: score-imported-labels
engine: spark
steps:
  - {id: new, node: ReadCSV, params: {path: new.csv}}
  - {id: load, node: LoadModel, params: {name: imported}}
  - {id: score, node: Score, inputs: {model: load, data: new}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: scored.csv}}
"""


def rows(count: int, seed: int) -> pd.DataFrame:
    """Two numeric features and a text label, 'yes' mostly where ``a`` is above 0."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=count), "b": rng.normal(size=count)})
    return frame.assign(answer=np.where(frame["a"] + rng.normal(scale=0.5, size=count) > 0, "yes", "no"))


def save_with_mlflow(model, features: pd.DataFrame, target: Path, example_output: list) -> Path:
    import mlflow.spark
    from mlflow.models import infer_signature

    signature = infer_signature(features, pd.Series(example_output * len(features)))
    mlflow.spark.save_model(model, str(target), signature=signature, pip_requirements=["pyspark"])
    return target


def manifest_of(store: Path) -> dict:
    return json.loads((store / "imported" / "1" / "manifest.json").read_text())


def test_imported_classifier_of_indexed_text_labels_predicts_the_labels(run_spark_text, spark, tmp_path: Path,
                                                                        cli):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import IndexToString, StringIndexer, VectorAssembler

    train = rows(40, seed=1)
    fitted = Pipeline(stages=[StringIndexer(inputCol="answer", outputCol="label"),
                              VectorAssembler(inputCols=["a", "b"], outputCol="features"),
                              LogisticRegression()]).fit(spark.createDataFrame(train))
    saved = save_with_mlflow(fitted, train[["a", "b"]], tmp_path / "saved", ["yes"])
    result = cli("models", "import", saved, "--name", "imported", "--store", tmp_path / "models")
    assert result.code == 0, result.err
    assert "warning:" not in result.err
    labels = list(fitted.stages[0].labels)
    assert sorted(labels) == ["no", "yes"] and manifest_of(tmp_path / "models")["classes"] == labels

    new = rows(30, seed=2)[["a", "b"]]
    new.to_csv(tmp_path / "new.csv", index=False)
    scored = run_spark_text(SCORE_IMPORTED)
    assert scored.ok, scored.error
    own = IndexToString(inputCol="prediction", outputCol="predicted_label", labels=labels).transform(
        fitted.transform(spark.createDataFrame(new))).toPandas()
    got = pd.read_csv(tmp_path / "scored.csv")["prediction"]
    assert set(got) == {"yes", "no"}
    assert list(got) == list(own["predicted_label"])


def test_numeric_label_is_said_on_stderr_and_regression_is_unchanged(spark, tmp_path: Path, cli):
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    train = rows(20, seed=3).assign(label=lambda f: (f["answer"] == "yes").astype(float)).drop(columns="answer")
    frame = spark.createDataFrame(train)
    assemble = VectorAssembler(inputCols=["a", "b"], outputCol="features")
    for estimator, task, warned in ((LogisticRegression(), "classification", True),
                                    (LinearRegression(), "regression", False)):
        fitted = Pipeline(stages=[assemble, estimator]).fit(frame)
        saved = save_with_mlflow(fitted, train[["a", "b"]], tmp_path / task, [0.0])
        store = tmp_path / f"{task}-models"
        result = cli("models", "import", saved, "--name", "imported", "--store", store)
        assert result.code == 0, result.err
        warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]  # not the JVM's
        assert len(warnings) == int(warned) and all("predicts the class index" in w for w in warnings), result.err
        manifest = manifest_of(store)
        assert manifest["task"] == task and manifest["classes"] == []
