"""TrainLR, Score and WriteCSV on Spark: Spark's parameters reach the model, metrics match scikit-learn's
formulas on the same predictions, and CSV output is one file or a folder of parts."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from emberflow.engine.api import spark_errors
from emberflow.engine.errors import DataError, WorkflowError
from emberflow.engine.workflow import parse_workflow
from emberflow.nodes.read_csv import ReadCSV
from emberflow.nodes.score import Score
from emberflow.nodes.train import TrainLR
from emberflow.nodes.write_csv import WriteCSV

from .helpers import write_three_classes

pytestmark = pytest.mark.spark

DIABETES = Path(__file__).resolve().parents[2] / "workflows" / "data" / "diabetes.csv"


@pytest.fixture
def diabetes(node):
    return node(ReadCSV, path=str(DIABETES))


@pytest.fixture
def species(node, tmp_path: Path):
    return node(ReadCSV, path=str(write_three_classes(tmp_path / "species.csv", rows=120, seed=5)))


def fit_by_hand(frame, label: str, weight: str | None = None, **lr_params):
    """The same Pipeline written directly with pyspark, for comparison."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    features = [c for c in frame.columns if c not in (label, weight)]
    lr = LogisticRegression(featuresCol="f", labelCol=label, **lr_params)
    if weight:
        lr.setWeightCol(weight)
    return Pipeline(stages=[VectorAssembler(inputCols=features, outputCol="f"), lr]).fit(
        frame.withColumn(label, frame[label].cast("double"))).stages[-1]


def test_sparks_parameters_reach_the_pipeline(node, diabetes):
    model = node(TrainLR, {"data": diabetes}, label="class", maxIter=50, regParam=0.05, elasticNetParam=0.5,
                 fitIntercept=False, standardization=False, tol=1e-6)
    lr = model.obj.stages[-1]
    assert (lr.getMaxIter(), lr.getRegParam(), lr.getElasticNetParam()) == (50, 0.05, 0.5)
    assert (lr.getFitIntercept(), lr.getStandardization(), lr.getTol()) == (False, False, 1e-6)
    by_hand = fit_by_hand(diabetes, "class", maxIter=50, regParam=0.05, elasticNetParam=0.5, fitIntercept=False,
                          standardization=False, tol=1e-6)
    np.testing.assert_allclose(lr.coefficients.toArray(), by_hand.coefficients.toArray(), rtol=1e-12, atol=1e-12)
    assert model.engine == "spark" and model.classes == [0, 1] and model.features == [
        "preg", "plas", "pres", "skin", "test", "mass", "pedi", "age"]
    assert model.feature_types["mass"] == "double" and model.metrics["train_rows"] == 700
    assert {"regParam", "standardization", "family"} <= set(model.params) and "solver" not in model.params


def test_training_caches_its_rows_only_while_it_runs(node, diabetes, spark):
    persisted = set(spark.sparkContext._jsc.getPersistentRDDs().keySet())
    node(TrainLR, {"data": diabetes}, label="class")
    assert not diabetes.is_cached and set(spark.sparkContext._jsc.getPersistentRDDs().keySet()) == persisted
    cached = diabetes.persist()  # rows the caller cached stay cached
    node(TrainLR, {"data": cached}, label="class")
    assert cached.is_cached
    cached.unpersist()


def test_scikit_learn_names_that_map(node, diabetes):
    model = node(TrainLR, {"data": diabetes}, label="class", max_iter=30, l1_ratio=0.25, regParam=0.01,
                 fit_intercept=True, threshold=0.3)
    lr = model.obj.stages[-1]
    assert (lr.getMaxIter(), lr.getElasticNetParam(), lr.getThreshold()) == (30, 0.25, 0.3)
    with pytest.raises(WorkflowError, match="either l1_ratio or elasticNetParam"):
        parse_workflow("""
name: t
engine: spark
steps:
  - {id: r, node: ReadCSV, params: {path: x.csv}}
  - {id: t, node: TrainLR, inputs: {data: r}, params: {label: y, l1_ratio: 0.1, elasticNetParam: 0.2}}
""")


def test_class_weight_balanced_is_row_weights(node, diabetes):
    from pyspark.sql import functions as F

    model = node(TrainLR, {"data": diabetes}, label="class", class_weight="balanced", regParam=0.01)
    counts = {r["class"]: r["count"] for r in diabetes.groupBy("class").count().collect()}
    weight = F.when(F.col("class") == 1, 700 / (2 * counts[1])).otherwise(700 / (2 * counts[0]))
    by_hand = fit_by_hand(diabetes.withColumn("w", weight), "class", weight="w", regParam=0.01, tol=1e-4)
    np.testing.assert_allclose(model.obj.stages[-1].coefficients.toArray(), by_hand.coefficients.toArray(),
                               rtol=1e-9, atol=1e-12)
    weighted = node(TrainLR, {"data": diabetes.withColumn("w", weight)}, label="class", weightCol="w",
                    regParam=0.01)
    assert "w" not in weighted.features
    np.testing.assert_allclose(weighted.obj.stages[-1].coefficients.toArray(), by_hand.coefficients.toArray(),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("data, params", [
    ("diabetes", {}), ("diabetes", {"threshold": 0.3}), ("diabetes", {"class_weight": "balanced"}),
    ("species", {"class_weight": "balanced"}),
])
def test_the_training_accuracy_is_scores_accuracy_on_the_training_rows(node, request, data: str, params: dict):
    """train_accuracy counts the rows predicted right as Score does, and as on the other engines: at the step's
    threshold, each row once (Spark's own summary weighs the rows by their class weights)."""
    frame = request.getfixturevalue(data)
    label = {"diabetes": "class", "species": "species"}[data]
    model = node(TrainLR, {"data": frame}, label=label, regParam=0.01, **params)
    node(Score, {"model": model, "data": frame})
    assert model.metrics["train_accuracy"] == pytest.approx(node.metrics["accuracy"], abs=1e-12)


def test_text_labels_of_three_classes(node, species):
    model = node(TrainLR, {"data": species}, label="species", family="multinomial")
    assert model.classes == ["setosa", "versicolor", "virginica"]
    scored = node(Score, {"model": model, "data": species})
    assert scored.columns == ["x1", "x2", "x3", "species", "prediction", "probability_setosa",
                              "probability_versicolor", "probability_virginica"]
    assert dict(scored.dtypes)["prediction"] == "string" and dict(scored.dtypes)["probability_setosa"] == "double"


@pytest.mark.parametrize("params, message", [
    ({"label": "class", "features": ["name"]}, None),  # a text feature is one-hot encoded
    ({"label": "only", "features": ["x"]}, "has only one class"),
    ({"label": "class", "family": "binomial", "features": ["x"]}, None),
    ({"label": "class", "weightCol": "nope", "features": ["x"]}, "weight column 'nope' is not in the data"),
])
def test_training_problems_are_clear(node, tmp_path: Path, params, message):
    data = node(ReadCSV, path=str(small_csv(tmp_path)))
    if message is None:
        assert node(TrainLR, {"data": data}, **params).classes == [0, 1]
        return
    with pytest.raises(DataError, match=message):
        node(TrainLR, {"data": data}, **params)


def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "d.csv"
    path.write_text("x,name,only,gap,class\n1,a,1,0,0\n2,b,1,,1\n3,c,1,1,0\n4,d,1,0,1\n")
    return path


def test_rows_without_a_label_are_left_out_with_a_warning(node, tmp_path: Path):
    model = node(TrainLR, {"data": node(ReadCSV, path=str(small_csv(tmp_path)))}, label="gap", features=["x"])
    assert model.classes == [0, 1] and model.metrics["train_rows"] == 3
    assert any("left out 1 of 4 training rows whose label 'gap' is missing" in w for w in node.warnings)


def test_binomial_refuses_three_classes(node, species):
    with pytest.raises(DataError, match="family binomial takes two classes"):
        node(TrainLR, {"data": species}, label="species", family="binomial")


def test_few_iterations_warn(node, diabetes):
    node(TrainLR, {"data": diabetes}, label="class", maxIter=2)
    assert any("may not have converged" in w for w in node.warnings)


def sklearn_metrics(scored, label: str, classes: list, probability_columns: list[str]) -> dict:
    """scikit-learn's metrics on the collected predictions, to check the ones Spark computed."""
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score

    pandas = scored.toPandas()
    y, predicted = pandas[label].to_numpy(), pandas["prediction"].to_numpy()
    proba = pandas[probability_columns].to_numpy()
    if len(classes) == 2:
        proba = np.column_stack([1 - proba[:, 0], proba[:, 0]])
        auc = roc_auc_score(y == classes[1], proba[:, 1])
    else:
        auc = roc_auc_score(y, proba, multi_class="ovr", labels=classes)
    return {"rows": len(y), "accuracy": accuracy_score(y, predicted), "roc_auc": auc,
            "log_loss": log_loss(y, proba, labels=classes),
            "confusion_matrix": confusion_matrix(y, predicted, labels=classes).tolist()}


def test_binary_metrics_match_scikit_learns(node, diabetes):
    model = node(TrainLR, {"data": diabetes}, label="class", regParam=0.01)
    scored = node(Score, {"model": model, "data": diabetes})
    assert dict(scored.dtypes)["probability"] == "double" and dict(scored.dtypes)["prediction"] == "int"
    assert scored.columns == [*diabetes.columns, "prediction", "probability"]
    expected = sklearn_metrics(scored, "class", [0, 1], ["probability"])
    got = node.metrics
    assert got["rows"] == expected["rows"] == 700
    for key in ("accuracy", "roc_auc", "log_loss"):
        assert got[key] == pytest.approx(expected[key], abs=1e-9), key
    assert got["confusion_matrix"] == {"labels": [0, 1], "matrix": expected["confusion_matrix"]}


def test_multiclass_metrics_match_scikit_learns(node, species):
    model = node(TrainLR, {"data": species}, label="species")
    scored = node(Score, {"model": model, "data": species}, probability_col="p")
    classes = ["setosa", "versicolor", "virginica"]
    expected = sklearn_metrics(scored, "species", classes, [f"p_{c}" for c in classes])
    for key in ("accuracy", "roc_auc", "log_loss"):
        assert node.metrics[key] == pytest.approx(expected[key], abs=1e-9), key
    assert node.metrics["confusion_matrix"]["matrix"] == expected["confusion_matrix"]


def test_score_needs_the_models_features(node, diabetes):
    model = node(TrainLR, {"data": diabetes}, label="class")
    with pytest.raises(DataError, match=r"lacks the model's feature columns \['age'\]"):
        node(Score, {"model": model, "data": diabetes.drop("age")})
    with pytest.raises(DataError, match="no label column 'outcome'"):
        node(Score, {"model": model, "data": diabetes}, label="outcome")


def read_back(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_write_one_file_by_default_or_a_folder_of_parts(node, spark, tmp_path: Path):
    frame = spark.createDataFrame([(i, f'say "{i}", twice') for i in range(50)], ["id", "text"]).repartition(3)
    target = tmp_path / "out" / "one.csv"
    node(WriteCSV, {"data": frame}, path=str(target))
    assert target.is_file()
    assert sorted(int(r["id"]) for r in read_back(target)) == list(range(50))
    assert {r["text"] for r in read_back(target)} == {f'say "{i}", twice' for i in range(50)}
    assert sorted(p.name for p in target.parent.iterdir()) == ["one.csv"]

    folder = tmp_path / "out" / "parts"
    node(WriteCSV, {"data": frame}, path=str(folder), parts=True, separator=";")
    parts = sorted(folder.glob("part-*.csv"))
    assert len(parts) == 3 and (folder / "_SUCCESS").exists()
    ids = [int(line.split(";")[0]) for p in parts for line in p.read_text().splitlines()[1:]]
    assert sorted(ids) == list(range(50))
    node(WriteCSV, {"data": frame.limit(5).coalesce(1)}, path=str(folder), parts=True)
    assert len(list(folder.glob("part-*.csv"))) == 1
    assert sorted(p.name for p in target.parent.iterdir()) == ["one.csv", "parts"]


def test_write_keeps_an_existing_file_unless_overwrite(node, spark, tmp_path: Path):
    target = tmp_path / "kept.csv"
    target.write_text("old\n")
    frame = spark.range(3)
    with pytest.raises(DataError, match="exists and overwrite is false"):
        node(WriteCSV, {"data": frame}, path=str(target), overwrite=False)
    assert target.read_text() == "old\n"
    node(WriteCSV, {"data": frame}, path=str(target), header=False)
    assert target.read_text().split() == ["0", "1", "2"]


def test_a_failed_write_leaves_the_old_file_and_no_temporaries(node, spark, tmp_path: Path):
    from pyspark.sql import functions as F

    target = tmp_path / "kept.csv"
    target.write_text("old\n")
    failing = spark.range(10).withColumn("x", F.when(F.col("id") > 5, F.raise_error(F.lit("boom"))).otherwise("ok"))
    with pytest.raises(Exception, match="boom"), spark_errors():
        node(WriteCSV, {"data": failing}, path=str(target))
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["kept.csv"]
