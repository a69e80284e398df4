"""Score's metrics, computed in NumPy, equal scikit-learn's; where scikit-learn stops with an error, a DataError
says what is wrong."""

from __future__ import annotations

import numpy as np
import pytest
from emberflow.engine.errors import DataError
from emberflow.nodes.score import classification_metrics
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score


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


@pytest.mark.parametrize(("y_true", "proba", "message"), [
    (np.array([0.0, 1.0, np.nan]), [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]], "the label has 1 missing values"),
    (np.array(["a", "b", "a"], dtype=object), [[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]],
     "the label column holds text, but the model's classes are numbers"),
    (np.array([0, 1, 1]), [[0.2, 0.8], [np.nan, np.nan], [0.5, 0.5]], "no probability for 1 rows"),
])
def test_what_scikit_learn_refuses_is_a_data_error(y_true, proba, message: str):
    with pytest.raises(DataError, match=message):
        classification_metrics(y_true, np.asarray(proba), [0, 1])
