"""Score's metrics, computed in NumPy, equal scikit-learn's, also summed batch by batch; rows without a label are
left out and counted; where scikit-learn stops with an error, a DataError says what is wrong."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from emberflow.engine.errors import DataError
from emberflow.nodes.metrics import BatchMetrics, RegressionBatchMetrics, regression_metrics
from emberflow.nodes.score import classification_metrics
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


def probabilities(rng: np.random.Generator, rows: int, classes: int, ties: bool) -> np.ndarray:
    raw = rng.random((rows, classes))
    if ties:  # few distinct scores, so many rows tie
        raw = np.round(raw, 1) + 0.05
    return raw / raw.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("classes", [[0, 1], ["no", "yes"], [1, 2, 3], ["a", "b", "c", "d"]])
def test_metrics_equal_scikit_learns(classes: list, ties: bool):
    rng = np.random.default_rng(len(classes) + ties)
    proba = probabilities(rng, 5_000, len(classes), ties)
    y_true = np.asarray(classes, dtype=object if isinstance(classes[0], str) else None)[
        rng.integers(0, len(classes), 5_000)]
    ours = classification_metrics(y_true, proba, classes, threshold=0.5)
    predicted = np.asarray(classes)[proba.argmax(axis=1)] if len(classes) > 2 else \
        np.where(proba[:, 1] > 0.5, classes[1], classes[0])
    assert ours["rows"] == 5_000
    assert ours["accuracy"] == pytest.approx(accuracy_score(y_true, predicted), rel=1e-12)
    expected_auc = roc_auc_score(y_true == classes[1], proba[:, 1]) if len(classes) == 2 else \
        roc_auc_score(y_true, proba, multi_class="ovr", labels=classes)
    assert ours["roc_auc"] == pytest.approx(expected_auc, rel=1e-12)
    assert ours["log_loss"] == pytest.approx(log_loss(y_true, y_proba=proba, labels=classes), rel=1e-12)
    assert ours["confusion_matrix"] == {"labels": classes,
                                        "matrix": confusion_matrix(y_true, predicted, labels=classes).tolist()}
    assert_label_scores_equal_scikit_learns(ours, y_true, predicted, classes)


def test_probabilities_at_the_edges_are_clipped_as_scikit_learn_clips_them():
    y_true = np.array([0, 1, 1, 0, 1])
    proba = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.3, 0.7], [0.5, 0.5]])
    ours = classification_metrics(y_true, proba, [0, 1])
    assert ours["log_loss"] == pytest.approx(log_loss(y_true, y_proba=proba, labels=[0, 1]), rel=1e-12)
    assert ours["roc_auc"] == pytest.approx(roc_auc_score(y_true, proba[:, 1]), rel=1e-12)


def test_labels_that_are_not_all_classes():
    """Labels outside the classes: no ROC AUC or log loss (as before); one class only: likewise."""
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    unseen = classification_metrics(np.array([0, 1, 2]), proba, [0, 1])
    assert "roc_auc" not in unseen and "log_loss" not in unseen
    assert unseen["confusion_matrix"]["matrix"] == confusion_matrix([0, 1, 2], [1, 0, 0], labels=[0, 1]).tolist()
    single = classification_metrics(np.array([1, 1, 1]), proba, [0, 1])
    assert single["accuracy"] == pytest.approx(1 / 3) and "roc_auc" not in single


def test_classes_out_of_sorted_order_keep_their_columns():
    """H2O gives a numeric label's classes in its levels' text order (10 before 2): each column is its class's."""
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.1, 0.6, 0.3]])
    y_true = np.array([10, 2, 3, 2])
    ours = classification_metrics(y_true, proba, [10, 2, 3])
    sorted_columns = proba[:, [1, 2, 0]]
    assert ours["accuracy"] == 1.0
    assert ours["log_loss"] == pytest.approx(log_loss(y_true, y_proba=sorted_columns, labels=[2, 3, 10]))
    assert ours["roc_auc"] == pytest.approx(roc_auc_score(y_true, sorted_columns, multi_class="ovr"))


def test_no_rows_gives_counts_only():
    ours = classification_metrics(np.array([], dtype=np.int64), np.zeros((0, 2)), [0, 1])
    assert ours == {"rows": 0, "confusion_matrix": {"labels": [0, 1], "matrix": [[0, 0], [0, 0]]}}


def sklearn_label_scores(y_true, predicted, classes: list) -> dict:
    """scikit-learn's precision, recall and F1 of the second class (two classes), or macro F1 (more)."""
    if len(classes) > 2:
        return {"macro_f1": f1_score(y_true, predicted, average="macro", zero_division=0)}
    if set(np.asarray(y_true).tolist()) <= set(classes):
        options = {"pos_label": classes[1], "zero_division": 0}
        return {"precision": precision_score(y_true, predicted, **options),
                "recall": recall_score(y_true, predicted, **options), "f1": f1_score(y_true, predicted, **options)}
    options = {"labels": [classes[1]], "average": None, "zero_division": 0}  # labels beyond the two classes
    return {"precision": precision_score(y_true, predicted, **options)[0],
            "recall": recall_score(y_true, predicted, **options)[0], "f1": f1_score(y_true, predicted, **options)[0]}


def assert_label_scores_equal_scikit_learns(ours: dict, y_true, predicted, classes: list) -> None:
    expected = sklearn_label_scores(y_true, predicted, classes)
    assert {k: ours[k] for k in ("precision", "recall", "f1", "macro_f1") if k in ours}.keys() == expected.keys()
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-9), key


def predictions(proba: np.ndarray, classes: list, threshold: float = 0.5) -> np.ndarray:
    if len(classes) > 2:
        return np.asarray(classes)[proba.argmax(axis=1)]
    return np.where(proba[:, 1] > threshold, classes[1], classes[0])


def test_the_threshold_decides_precision_and_recall():
    rng = np.random.default_rng(7)
    proba = probabilities(rng, 2_000, 2, ties=False)
    y_true = rng.integers(0, 2, 2_000)
    ours = classification_metrics(y_true, proba, [0, 1], threshold=0.3)
    assert_label_scores_equal_scikit_learns(ours, y_true, predictions(proba, [0, 1], 0.3), [0, 1])
    assert ours["recall"] != pytest.approx(classification_metrics(y_true, proba, [0, 1])["recall"])


def test_labels_beyond_the_classes_count_in_precision_and_macro_f1():
    proba = np.array([[0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.9, 0.1], [0.4, 0.6]])
    y_true = np.array([0, 1, 2, 1, 2])
    ours = classification_metrics(y_true, proba, [0, 1])
    assert ours["rows"] == 5
    assert_label_scores_equal_scikit_learns(ours, y_true, predictions(proba, [0, 1]), [0, 1])
    three = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    y_three = np.array([10, 2, 3, 7])
    ours = classification_metrics(y_three, three, [10, 2, 3])
    assert_label_scores_equal_scikit_learns(ours, y_three, predictions(three, [10, 2, 3]), [10, 2, 3])


def test_macro_f1_averages_the_labels_present_as_scikit_learn_does():
    """Class 3 is neither a label nor a prediction: scikit-learn leaves it out of the average, and so do we."""
    proba = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.1, 0.1, 0.7, 0.1]])
    y_true = np.array([0, 1, 2, 2])
    ours = classification_metrics(y_true, proba, [0, 1, 2, 3])
    assert_label_scores_equal_scikit_learns(ours, y_true, predictions(proba, [0, 1, 2, 3]), [0, 1, 2, 3])
    y_true = np.array([0, 1, 1, 0])  # class 2 predicted once, never a label: it counts, with an F1 of 0
    ours = classification_metrics(y_true, proba, [0, 1, 2, 3])
    assert_label_scores_equal_scikit_learns(ours, y_true, predictions(proba, [0, 1, 2, 3]), [0, 1, 2, 3])


def test_no_positive_rows_give_zero_precision_and_recall_as_scikit_learn_with_zero_division_0():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    ours = classification_metrics(np.array(["no", "no", "no"], dtype=object), proba, ["no", "yes"])
    assert_label_scores_equal_scikit_learns(ours, np.array(["no"] * 3), np.array(["no"] * 3), ["no", "yes"])


def with_missing(rng: np.random.Generator, values: np.ndarray, kind: str):
    """``values`` with about a fifth of them missing, as ``kind`` holds a missing value."""
    missing = rng.random(len(values)) < 0.2
    if kind == "Int64":
        return pd.Series(values, dtype="Int64").mask(missing).to_numpy(), missing  # as Score gets it: NaN
    if kind == "string":
        return pd.Series(values, dtype="string").mask(missing).to_numpy(), missing  # pd.NA
    held = values.astype(object if kind != "float" else np.float64)
    gaps = {"float": [np.nan], "None": [None], "mixed": [None, np.nan, pd.NA]}[kind]
    held[missing] = np.asarray(gaps, dtype=object)[np.arange(missing.sum()) % len(gaps)]
    return held, missing


@pytest.mark.parametrize(("classes", "kind"), [([0, 1], "float"), ([0, 1], "Int64"), (["no", "yes"], "None"),
                                               (["no", "yes"], "string"), ([1, 2, 3], "mixed"),
                                               (["a", "b", "c"], "None")])
def test_rows_without_a_label_are_left_out_and_counted(classes: list, kind: str):
    rng = np.random.default_rng(len(classes))
    proba = probabilities(rng, 500, len(classes), ties=False)
    values = np.asarray(classes, dtype=object)[rng.integers(0, len(classes), 500)]
    y_true, missing = with_missing(rng, values if kind != "float" else values.astype(np.float64), kind)
    ours = classification_metrics(y_true, proba, classes)
    kept, kept_proba = values[~missing], proba[~missing]
    predicted = predictions(kept_proba, classes)
    assert (ours["rows"], ours["rows_without_label"]) == (len(kept), int(missing.sum()))
    assert ours["accuracy"] == pytest.approx(accuracy_score(kept.tolist(), predicted.tolist()), abs=1e-12)
    assert ours["log_loss"] == pytest.approx(log_loss(kept.tolist(), kept_proba, labels=classes), abs=1e-9)
    assert ours["confusion_matrix"]["matrix"] == confusion_matrix(kept.tolist(), predicted.tolist(),
                                                                  labels=classes).tolist()
    assert_label_scores_equal_scikit_learns(ours, kept.tolist(), predicted.tolist(), classes)


def test_no_label_at_all_counts_the_rows_only():
    ours = classification_metrics(np.array([None, np.nan, None], dtype=object), np.full((3, 2), 0.5), [0, 1])
    assert ours == {"rows": 0, "rows_without_label": 3,
                    "confusion_matrix": {"labels": [0, 1], "matrix": [[0, 0], [0, 0]]}}
    assert "rows_without_label" not in classification_metrics(np.array([0, 1]), np.full((2, 2), 0.5), [0, 1])


@pytest.mark.parametrize(("y_true", "proba", "message"), [
    (np.array(["a", "b", "a"], dtype=object), [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]],
     "the label column holds text, but the model's classes are numbers"),
    (np.array([0, 1, 1]), [[0.2, 0.8], [np.nan, np.nan], [0.5, 0.5]], "no probability for 1 rows"),
])
def test_what_scikit_learn_refuses_is_a_data_error(y_true, proba, message: str):
    with pytest.raises(DataError, match=message):
        classification_metrics(y_true, np.asarray(proba), [0, 1])


BATCH_EDGES = [0, 7, 8, 300, 301, 650, 999, 1000]  # batches of 7, 1, 292, 1, 349, 349 and 1 rows


@pytest.mark.parametrize("classes", [[0, 1], ["no", "yes"], [1, 2, 3], ["a", "b", "c", "d"]])
def test_batches_sum_to_the_whole_datas_classification_metrics(classes: list):
    rng = np.random.default_rng(len(classes) + 10)
    proba = probabilities(rng, 1000, len(classes), ties=True)
    y_true, _ = with_missing(rng, np.asarray(classes, dtype=object)[rng.integers(0, len(classes), 1000)], "None")
    y_true[300] = None  # a batch without any label
    whole = classification_metrics(y_true, proba, classes)
    totals = BatchMetrics(classes, 0.5)
    for start, end in pairwise(BATCH_EDGES):
        totals.add(y_true[start:end], proba[start:end])
    summed = totals.result()
    del whole["roc_auc"]
    assert summed.keys() == whole.keys()
    assert summed["rows"] + summed["rows_without_label"] == 1000
    for key, value in whole.items():
        assert summed[key] == (pytest.approx(value, abs=1e-9) if isinstance(value, float) else value), key


def assert_regression_equals_scikit_learns(ours: dict, y_true, predicted) -> None:
    expected = {"rmse": root_mean_squared_error(y_true, predicted), "mae": mean_absolute_error(y_true, predicted),
                "r2": r2_score(y_true, predicted), "explained_variance": explained_variance_score(y_true, predicted)}
    assert ours["rows"] == len(y_true)
    assert {k: v for k, v in ours.items() if k not in ("rows", "rows_without_label")}.keys() == expected.keys()
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, abs=1e-9, rel=1e-12), key


def regression_case(name: str, rng: np.random.Generator, rows: int) -> tuple[np.ndarray, np.ndarray]:
    y = rng.normal(50.0, 20.0, rows)
    return {
        "random": (y, y + rng.normal(0.0, 5.0, rows)),
        "far from zero": (y + 1e6, y + 1e6 + rng.normal(0.0, 0.5, rows)),
        "integers": (np.round(y), np.round(y) + rng.integers(-3, 4, rows)),
        "constant, wrong": (np.full(rows, 3.0), 3.0 + rng.normal(0.0, 1.0, rows)),
        "constant, exact": (np.full(rows, -2.0), np.full(rows, -2.0)),
        "exact": (y, y.copy()),
        "off by a constant": (np.arange(rows, dtype=np.float64), np.arange(rows, dtype=np.float64) + 2.0),
    }[name]


REGRESSION_CASES = ["random", "far from zero", "integers", "constant, wrong", "constant, exact", "exact",
                    "off by a constant"]


@pytest.mark.parametrize("case", REGRESSION_CASES)
def test_regression_metrics_equal_scikit_learns(case: str):
    y_true, predicted = regression_case(case, np.random.default_rng(3), 400)
    ours = regression_metrics(y_true, predicted)
    assert_regression_equals_scikit_learns(ours, y_true, predicted)
    assert "rows_without_label" not in ours


def test_a_constant_label_follows_scikit_learns_convention_despite_rounding():
    """The mean of three 0.1s is not 0.1 in floating point, so scikit-learn's own sums give R² of about -3e33 for
    a constant label; ours is its convention for a constant label (0 unless the predictions are exact)."""
    ours = regression_metrics(np.full(3, 0.1), np.array([0.0, 0.1, 0.2]))
    assert ours["r2"] == ours["explained_variance"] == r2_score([3.0] * 3, [2.9, 3.0, 3.1]) == 0.0


def test_one_row_has_no_r2_as_scikit_learn_gives_none():
    ours = regression_metrics(np.array([2.0]), np.array([2.5]))
    assert "r2" not in ours
    assert ours["rmse"] == pytest.approx(root_mean_squared_error([2.0], [2.5]), abs=1e-12)
    assert ours["explained_variance"] == explained_variance_score([2.0], [2.5])


@pytest.mark.parametrize("kind", ["float", "Int64", "mixed"])
def test_regression_rows_without_a_label_are_left_out_and_counted(kind: str):
    rng = np.random.default_rng(5)
    values = rng.integers(0, 100, 300)
    predicted = values + rng.normal(0.0, 4.0, 300)
    y_true, missing = with_missing(rng, values if kind != "float" else values.astype(np.float64), kind)
    ours = regression_metrics(y_true, predicted)
    assert ours["rows_without_label"] == int(missing.sum()) > 0
    assert_regression_equals_scikit_learns(ours, values[~missing].astype(np.float64), predicted[~missing])
    assert regression_metrics(pd.Series([None, np.nan], dtype=object), np.zeros(2)) == {
        "rows": 0, "rows_without_label": 2}


@pytest.mark.parametrize(("y_true", "predicted", "message"), [
    (np.array(["1.5", "2", "3"], dtype=object), np.zeros(3), "the label column holds text, but a regression"),
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 2.0]), "no prediction for 1 rows"),
])
def test_what_regression_refuses_is_a_data_error(y_true, predicted, message: str):
    with pytest.raises(DataError, match=message):
        regression_metrics(y_true, predicted)


@pytest.mark.parametrize("case", REGRESSION_CASES)
def test_batches_sum_to_the_whole_datas_regression_metrics(case: str):
    rng = np.random.default_rng(11)
    values, predicted = regression_case(case, rng, 1000)
    y_true, missing = with_missing(rng, values, "float")
    y_true[300] = np.nan  # a batch without any label
    missing[300] = True
    totals = RegressionBatchMetrics()
    for start, end in pairwise(BATCH_EDGES):
        totals.add(y_true[start:end], predicted[start:end])
    summed = totals.result()
    assert summed["rows_without_label"] == int(missing.sum())
    assert_regression_equals_scikit_learns(summed, values[~missing], predicted[~missing])
