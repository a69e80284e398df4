"""The Spark backend's trainers on raw data: a text column with a missing value, a numeric column with gaps and
rows without a label. Each algorithm trains, saves to the store, loads and scores new raw rows (an unseen
category, missing values); least squares equals scikit-learn's on the same rows; the refusals are one line."""

from __future__ import annotations

import numpy as np
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError
from emberflow.engine.models import load_from_store, save_to_store
from emberflow.engine.params import resolve_params
from emberflow.engine.store import ModelStore
from emberflow.nodes.score import Score
from emberflow.nodes.train import TrainGBT, TrainLinearRegression, TrainLR, TrainRandomForest

from nodes import learner_cases as lc

pytestmark = pytest.mark.spark

SCHEMA = "colour string, size double, count int, kind string, amount double"
FEATURES = ["colour", "size", "count"]
EFFECT = {"red": 2.0, "green": -1.0, "blue": 0.5, None: 1.0}


def rows(n: int, seed: int, colours=("red", "green", "blue")) -> list[tuple]:
    """Rows whose ``kind`` (text) and ``amount`` (number) follow the features, with every third colour or
    fourth size missing where ``seed`` says so."""
    rng = np.random.default_rng(seed)
    data = []
    for i in range(n):
        colour = None if i % 9 == 4 else str(rng.choice(colours))
        size = None if i % 8 == 3 else round(float(rng.normal(10, 3)), 3)
        count = int(rng.integers(0, 6))
        amount = 1.5 * (size if size is not None else 10) - 0.8 * count + EFFECT.get(colour, 0.0) + rng.normal()
        data.append((colour, size, count, "big" if amount > 12 else "small", round(float(amount), 4)))
    return data


@pytest.fixture(scope="module")
def frames(spark):
    train = rows(41, seed=3)
    train[5] = (*train[5][:3], None, None)  # a row without either label
    new = rows(12, seed=4) + [("purple", 9.0, 2, "big", 13.0), (None, None, 1, None, None)]
    return spark.createDataFrame(train, SCHEMA), spark.createDataFrame(new, SCHEMA).select(
        "amount", "count", "kind", "size", "colour")  # another order


CASES = [  # a classifier and a regressor (the conformance matrix below runs every algorithm)
    (TrainLR, "kind", {}),
    (TrainRandomForest, "amount", {"n_estimators": 5, "max_depth": 4, "seed": 1}),
]


@pytest.mark.parametrize("trainer, label, params", CASES, ids=lambda c: getattr(c, "__name__", str(c)))
def test_each_algorithm_trains_saves_loads_and_scores_raw_rows(node, frames, tmp_path, trainer, label, params):
    train, new = frames
    model = node(trainer, {"data": train}, label=label, features=FEATURES, **params)
    assert any("left out 1 of 41 training rows" in w for w in node.warnings)
    assert model.task == ("classification" if label == "kind" else "regression")
    assert model.metrics["train_rows"] == 40 and model.features == FEATURES
    assert model.input_schema[0] == {"name": "colour", "kind": "categorical", "dtype": "string",
                                     "levels": ["blue", "green", "red"]}
    store = ModelStore(tmp_path / "store")
    save_to_store(store, model, "m", "auto", {})
    loaded, _, _ = load_from_store(store, "m", Sessions())
    assert (loaded.task, loaded.input_schema, loaded.algorithm) == (model.task, model.input_schema, model.algorithm)
    fresh = node(Score, {"model": model, "data": new.drop(label)}).toPandas()  # no label: no metrics
    scored = node(Score, {"model": loaded, "data": new}, label=label).toPandas()
    assert list(scored.columns[:5]) == ["amount", "count", "kind", "size", "colour"] and len(scored) == 14
    assert scored.drop(columns=label).equals(fresh)
    if label == "amount":
        assert list(scored.columns[5:]) == ["prediction"] and scored["prediction"].notna().all()
        known = scored[scored["amount"].notna()]
        rmse = float(np.sqrt(np.mean((known["amount"] - known["prediction"]) ** 2)))
        assert node.metrics["rmse"] == pytest.approx(rmse, rel=1e-9)
        assert node.metrics["rows"] == 13 and node.metrics["rows_without_label"] == 1
        assert {"mae", "r2", "explained_variance"} <= set(node.metrics)
    else:
        assert list(scored.columns[5:]) == ["prediction", "probability"]
        assert set(scored["prediction"]) <= {"big", "small"} and scored["probability"].between(0, 1).all()
        assert model.metrics["train_accuracy"] > 0.6


def sklearn_model(trainer, pandas_frame, **given):
    """The same step trained by the scikit-learn backend, for comparison."""
    from emberflow.engine.context import RunState, Sessions, StepContext
    from emberflow.nodes.learners import sklearn_backend

    params = resolve_params(trainer.params, given, "sklearn", trainer.node_name())
    state = RunState(run_id="sklearn", workflow=None, store=None, sessions=Sessions())
    ctx = StepContext(step_id="step", engine="sklearn", run=state)
    return sklearn_backend.train(trainer.spec, trainer.node_name(), ctx, pandas_frame, params)


@pytest.mark.parametrize("params, tolerance", [
    ({}, 1e-6),
    ({"regParam": 0.1, "elasticNetParam": 0.5, "standardization": False, "tol": 1e-10}, 1e-5),
])
def test_linear_regression_equals_scikit_learns_on_raw_rows(node, frames, params, tolerance):
    """Imputation, the missing level, one-hot columns and an unseen category's zeros, and the fit itself, as
    scikit-learn's pipeline makes them (the imputed column has an odd count of values: both medians agree).
    Least squares leaves the intercept against a full one-hot encoding undetermined (each solver picks its own
    among equal fits), so its unseen category is left out; a penalty makes it one answer."""
    from emberflow.engine.api import predict

    train, new = frames
    if not params:
        new = new.where("colour IS NULL OR colour <> 'purple'")
    model = node(TrainLinearRegression, {"data": train}, label="amount", features=FEATURES, **params)
    on_spark = node(Score, {"model": model, "data": new}).toPandas()
    reference = sklearn_model(TrainLinearRegression, train.toPandas(), label="amount", features=FEATURES, **params)
    expected = predict(reference, new.toPandas()).values
    np.testing.assert_allclose(on_spark["prediction"], expected, rtol=tolerance, atol=tolerance)


def test_logistic_regressions_default_is_scikit_learns_c_1(node, frames):
    """Without regParam the regularization is C = 1's: regParam = 1 / rows, on features standardized by their
    population deviation (Spark's own standardization divides by the sample one)."""
    from emberflow.engine.api import predict

    train, new = frames
    model = node(TrainLR, {"data": train}, label="kind", features=["size", "count"], tol=1e-10)
    assert model.obj.stages[-1].getRegParam() == pytest.approx(1 / 40 * 39 / 40)
    on_spark = node(Score, {"model": model, "data": new}).toPandas()
    reference = sklearn_model(TrainLR, train.toPandas(), label="kind", features=["size", "count"], tol=1e-10)
    np.testing.assert_allclose(on_spark["probability"], predict(reference, new.toPandas()).proba[:, 1], atol=1e-6)


def test_gbt_refuses_more_than_two_classes(node, spark):
    frame = spark.createDataFrame([(float(i), "abc"[i % 3]) for i in range(12)], "x double, y string")
    with pytest.raises(DataError, match=r"Spark's GBT classifier takes two classes only, and the label 'y' has 3 "
                                        r"\(a, b, c\); use TrainRandomForest, or TrainGBT with engine: sklearn or h2o"):
        node(TrainGBT, {"data": frame}, label="y")


def test_scoring_problems_are_one_line_naming_the_column(node, frames, spark):
    train, new = frames
    model = node(TrainLR, {"data": train}, label="kind", features=FEATURES, unknown_category="error")
    with pytest.raises(DataError, match="column 'colour' holds 'purple' in the scored data, a category the model "
                                        "never saw \\(it knows blue, green, red\\)"):
        node(Score, {"model": model, "data": new})
    known = new.where("colour <> 'purple' OR colour IS NULL")  # a missing value is no category
    assert node(Score, {"model": model, "data": known}).count() == 13
    as_text = known.selectExpr("colour", "CAST(size AS STRING) AS size", "count")
    assert node(Score, {"model": model, "data": as_text}).count() == 13  # numbers as text are numbers
    with pytest.raises(DataError, match="column 'size' holds 'large' in the scored data, and the model takes numbers"):
        node(Score, {"model": model, "data": as_text.selectExpr("colour", "'large' AS size", "count")})
    with pytest.raises(DataError, match=r"lacks the model's feature columns \['size'\]"):
        node(Score, {"model": model, "data": new.drop("size")})


def test_training_refusals(node, spark):
    dated = spark.createDataFrame([(1.0, "a"), (2.0, "b")], "x double, y string").selectExpr(
        "x", "y", "current_date() AS day")
    with pytest.raises(DataError, match="feature 'day' is a date or time column \\(date\\)"):
        node(TrainLR, {"data": dated}, label="y")
    gaps = spark.createDataFrame([(1.0, "a"), (None, "b"), (3.0, "a")], "x double, y string")
    with pytest.raises(DataError, match=r"features \['x'\] have missing values and impute is none"):
        node(TrainLR, {"data": gaps}, label="y", impute="none")
    many = spark.createDataFrame([(float(i), i * 0.37) for i in range(30)], "x double, y double")
    with pytest.raises(DataError, match="more than 20 distinct numbers that are not all whole"):
        node(TrainRandomForest, {"data": many}, label="y", task="classification")


def test_category_texts_are_the_other_engines(node, spark):
    """Booleans, whole numbers of a double column named in categorical and text give the levels scikit-learn's
    backend records for the same rows; a text of 40 levels trains a forest (one-hot columns are binary features,
    so maxBins, 32, does not bound the levels)."""
    data = [(i % 2 == 0, float(i % 3) if i % 7 else None, f"level{i % 40}", i % 4, "ab"[i % 2]) for i in range(80)]
    frame = spark.createDataFrame(data, "flag boolean, code double, name string, n int, y string")
    given = {"label": "y", "categorical": ["code", "n"]}
    model = node(TrainRandomForest, {"data": frame}, n_estimators=3, **given)
    reference = sklearn_model(TrainRandomForest, frame.toPandas(), n_estimators=3, **given)
    assert [(c["name"], c["kind"], c.get("levels")) for c in model.input_schema] == [
        (c["name"], c["kind"], c.get("levels")) for c in reference.input_schema]
    assert model.input_schema[1]["levels"] == ["0", "1", "2"] and len(model.input_schema[2]["levels"]) == 40


@pytest.fixture(scope="module")
def matrix(spark, tmp_path_factory: pytest.TempPathFactory):
    """The conformance matrix's workflow file (tests/nodes/learner_cases.py) run on Spark, its saved models
    loaded and scored again in a new process (a JVM of its own), and the same file on the sklearn engine."""
    import os
    import subprocess
    import sys

    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.workflow import parse_workflow

    results = {}
    for engine in ("spark", "sklearn"):
        folder = tmp_path_factory.mktemp(f"matrix-{engine}")
        lc.write_data(folder)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            workflow = parse_workflow(lc.train_workflow("spark"), "train.yaml", {"engine": engine})
            results[engine] = (folder, run_workflow(workflow, ModelStore(folder / "models"), reporter=Reporter(None)))
        finally:
            os.chdir(cwd)
        assert results[engine][1].ok, results[engine][1].error
    folder = results["spark"][0]
    (folder / "rescore.yaml").write_text(lc.rescore_workflow("spark"))
    rescored = subprocess.run([sys.executable, "-m", "emberflow.engine.cli", "run", "rescore.yaml", "--store",
                               "models", "--var", "engine=spark"], cwd=folder, capture_output=True, text=True,
                              timeout=600, check=False)
    assert rescored.returncode == 0, rescored.stderr
    return results


@pytest.mark.parametrize("case", lc.cases_for("spark"), ids=repr)
def test_the_conformance_matrix_on_spark(matrix, case: lc.Case):
    """The same workflow file as on the other engines: each model scores raw rows (an unseen category, gaps),
    scores them alike once reloaded in a new process, and agrees with scikit-learn's on the same data."""
    folder, result = matrix["spark"]
    sklearn_folder, reference = matrix["sklearn"]
    lc.check_scored_rows(folder, case)
    lc.assert_rescored_alike(folder, case)
    step = f"score_{case.name}"
    lc.assert_agrees_with_sklearn(result.record["metrics"][step], reference.record["metrics"][step], case, folder,
                                  sklearn_folder)
