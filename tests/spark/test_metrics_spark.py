"""Score's metrics computed by Spark jobs equal scikit-learn's on the same predictions, rows whose label is null or
NaN left out and counted: classification (with precision, recall, F1, macro F1) and regression."""

from __future__ import annotations

import math

import numpy as np
import pytest
from emberflow.engine.errors import DataError
from emberflow.nodes.spark_metrics import spark_metrics, spark_regression_metrics
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    explained_variance_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)

pytestmark = pytest.mark.spark

PARAMS = {"prediction_col": "prediction", "probability_col": "p"}


def gaps(rng: np.random.Generator, values: list, blanks: list) -> tuple[list, np.ndarray]:
    """``values`` with about a fifth replaced by the ``blanks`` in turn; which ones were replaced."""
    missing = rng.random(len(values)) < 0.2
    held = list(values)
    for count, index in enumerate(np.flatnonzero(missing)):
        held[index] = blanks[count % len(blanks)]
    return held, missing


def test_binary_metrics_equal_scikit_learns(spark):
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 2, 80).astype(float)
    probability = np.clip(truth * 0.4 + rng.random(80) * 0.6, 0.0, 1.0)
    predicted = np.where(probability > 0.5, 1, 0)
    label, missing = gaps(rng, truth.tolist(), [None, math.nan])
    frame = spark.createDataFrame(list(zip(label, predicted.tolist(), probability.tolist(), strict=True)),
                                  "y double, prediction long, p double")
    ours = spark_metrics(frame, "y", [0, 1], PARAMS)
    y, guess, p = truth[~missing], predicted[~missing], probability[~missing]
    assert (ours["rows"], ours["rows_without_label"]) == (len(y), int(missing.sum()))
    expected = {"accuracy": accuracy_score(y, guess), "roc_auc": roc_auc_score(y, p),
                "log_loss": log_loss(y, np.column_stack([1 - p, p]), labels=[0, 1]),
                "precision": precision_score(y, guess, zero_division=0),
                "recall": recall_score(y, guess, zero_division=0), "f1": f1_score(y, guess, zero_division=0)}
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-9), key
    assert ours["confusion_matrix"]["matrix"] == confusion_matrix(y, guess, labels=[0, 1]).tolist()


def test_multiclass_text_metrics_equal_scikit_learns(spark):
    rng = np.random.default_rng(2)
    classes = ["a", "b", "c"]
    raw = rng.random((90, 3))
    proba = raw / raw.sum(axis=1, keepdims=True)
    truth = np.asarray(classes, dtype=object)[rng.integers(0, 3, 90)]
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    label, missing = gaps(rng, truth.tolist(), [None])
    rows = [(t, g, *map(float, p)) for t, g, p in zip(label, predicted.tolist(), proba, strict=True)]
    frame = spark.createDataFrame(rows, "y string, prediction string, p_a double, p_b double, p_c double")
    ours = spark_metrics(frame, "y", classes, PARAMS)
    y, guess, kept = truth[~missing].tolist(), predicted[~missing].tolist(), proba[~missing]
    assert (ours["rows"], ours["rows_without_label"]) == (len(y), int(missing.sum()))
    assert "precision" not in ours
    expected = {"accuracy": accuracy_score(y, guess), "log_loss": log_loss(y, kept, labels=classes),
                "roc_auc": roc_auc_score(y, kept, multi_class="ovr", labels=classes),
                "macro_f1": f1_score(y, guess, average="macro", zero_division=0)}
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-9), key
    assert ours["confusion_matrix"]["matrix"] == confusion_matrix(y, guess, labels=classes).tolist()


def regression_case(name: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = rng.normal(50.0, 20.0, 60)
    return {
        "far from zero": (y + 1e6, y + 1e6 + rng.normal(0.0, 0.5, 60)),
        "constant, wrong": (np.full(60, 3.0), 3.0 + rng.normal(0.0, 1.0, 60)),
        "constant, exact": (np.full(60, -2.0), np.full(60, -2.0)),
    }[name]


@pytest.mark.parametrize("case", ["far from zero", "constant, wrong", "constant, exact"])
def test_regression_metrics_equal_scikit_learns(spark, case: str):
    rng = np.random.default_rng(3)
    truth, predicted = regression_case(case, rng)
    label, missing = gaps(rng, truth.tolist(), [None, math.nan])
    frame = spark.createDataFrame(list(zip(label, predicted.tolist(), strict=True)), "y double, prediction double")
    ours = spark_regression_metrics(frame, "y", "prediction")
    y, guess = truth[~missing], predicted[~missing]
    assert (ours["rows"], ours["rows_without_label"]) == (len(y), int(missing.sum()))
    expected = {"rmse": root_mean_squared_error(y, guess), "mae": mean_absolute_error(y, guess),
                "r2": r2_score(y, guess), "explained_variance": explained_variance_score(y, guess)}
    assert ours.keys() == {"rows", "rows_without_label", *expected}
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-9, rel=1e-12), key


def test_a_whole_number_label_and_its_problems(spark):
    frame = spark.createDataFrame([(1, 1.5), (None, 2.0), (3, 2.5), (4, None)], "y long, prediction double")
    with pytest.raises(DataError, match="no prediction for 1 rows"):
        spark_regression_metrics(frame, "y", "prediction")
    ours = spark_regression_metrics(frame.where("prediction IS NOT NULL"), "y", "prediction")
    assert ours["rows_without_label"] == 1
    assert ours["r2"] == pytest.approx(r2_score([1, 3], [1.5, 2.5]), abs=1e-12)
    text = spark.createDataFrame([("1", 1.0)], "y string, prediction double")
    with pytest.raises(DataError, match="the label column holds text, but a regression model predicts numbers"):
        spark_regression_metrics(text, "y", "prediction")
