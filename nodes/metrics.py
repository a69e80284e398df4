"""Classification metrics in NumPy, computed as scikit-learn's ``accuracy_score``, ``roc_auc_score``, ``log_loss``
and ``confusion_matrix`` compute them.

Importing scikit-learn takes about 0.6 s, more than scoring 250,000 rows on H2O, whose runs have no other use for
it. Where scikit-learn would stop with an error (a missing label, labels of another kind than the classes, a
missing probability), these raise a DataError that says so; classes need not be in sorted order.
"""

from __future__ import annotations

from typing import Any

from emberflow.engine.api import DataError


def check_targets(y_true: Any, proba: Any, labels: Any) -> None:
    """Every row has a label and a probability, and the labels are of the classes' kind (text or numbers)."""
    import numpy as np
    import pandas as pd

    missing = int(pd.isna(y_true).sum())
    if missing:
        raise DataError(f"Score: the label has {missing} missing values, and metrics need every row's label; drop "
                        "those rows first, or score without the label (leave out label, or drop the column)")
    if np.isnan(proba).any():
        raise DataError(f"Score: the model gave no probability for {int(np.isnan(proba).any(axis=1).sum())} rows; "
                        "check those rows' features")
    kinds = {isinstance(value, str) for value in set(y_true.tolist())}
    if len(kinds) > 1 or kinds != {isinstance(value, str) for value in labels.tolist()}:
        what = "text and numbers" if len(kinds) > 1 else "text" if True in kinds else "numbers"
        classes = "text" if isinstance(labels.tolist()[0], str) else "numbers"
        raise DataError(f"Score: the label column holds {what}, but the model's classes are {classes} "
                        f"({', '.join(map(str, labels.tolist()))}); give the label as the model was trained on it")


def accuracy(y_true: Any, predicted: Any) -> float:
    import numpy as np

    return float(np.mean(y_true == predicted))


def confusion(y_true: Any, predicted: Any, labels: Any) -> list[list[int]]:
    """Rows: the true class, columns: the predicted one, in the order of ``labels``; rows whose label is not
    one of ``labels`` are left out."""
    import numpy as np

    true_index, predicted_index = class_index(y_true, labels), class_index(predicted, labels)
    known = (true_index >= 0) & (predicted_index >= 0)
    pairs = true_index[known] * len(labels) + predicted_index[known]
    return np.bincount(pairs, minlength=len(labels) ** 2).reshape(len(labels), len(labels)).tolist()


def class_index(values: Any, labels: Any) -> Any:
    """Each value's position in ``labels``, -1 for a value that is none of them."""
    import numpy as np

    index = np.full(len(values), -1, dtype=np.int64)
    for position, label in enumerate(labels.tolist()):
        index[values == label] = position
    return index


def log_loss(y_true: Any, proba: Any, labels: Any) -> float:
    """The mean negative log of each row's probability for its true class, clipped to [eps, 1 - eps] as
    scikit-learn does (eps of float64)."""
    import numpy as np

    eps = np.finfo(np.float64).eps
    chosen = proba[np.arange(len(y_true)), class_index(y_true, labels)]
    return float(np.mean(-np.log(np.clip(chosen.astype(np.float64), eps, 1 - eps))))


def roc_auc(positive: Any, score: Any) -> float:
    """ROC AUC of a binary problem: the chance that a positive row scores above a negative one, ties counting
    half (the area under scikit-learn's ROC curve); NaN when only one class is present."""
    import numpy as np

    positives = int(np.count_nonzero(positive))
    negatives = len(positive) - positives
    if not positives or not negatives:
        return float("nan")
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    average_rank = np.cumsum(counts) - (counts - 1) / 2.0  # 1-based, ties sharing their mean rank
    rank_sum = float(average_rank[inverse][positive.astype(bool)].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def roc_auc_ovr(y_true: Any, proba: Any, labels: Any) -> float:
    """Multiclass ROC AUC, one class against the rest, averaged over the classes (macro)."""
    import numpy as np

    return float(np.mean([roc_auc(y_true == label, proba[:, k]) for k, label in enumerate(labels.tolist())]))



def classification_metrics(y_true, proba, classes: list[Any], threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, ROC AUC (one-vs-rest beyond two classes), log loss and the confusion matrix, computed in NumPy
    as scikit-learn computes them (``metrics``: a run on H2O need not import scikit-learn)."""
    import numpy as np
    from emberflow.nodes.score import predicted_labels

    labels = np.asarray(classes)
    y_true, proba = np.asarray(y_true), np.asarray(proba, dtype=np.float64)
    predicted = predicted_labels(proba, classes, threshold)
    metrics: dict[str, Any] = {"rows": int(len(y_true))}
    if len(y_true):
        check_targets(y_true, proba, labels)
        metrics["accuracy"] = accuracy(y_true, predicted)
        present = set(np.unique(y_true).tolist())
        if len(present) > 1 and present <= set(labels.tolist()):
            if len(classes) == 2:
                metrics["roc_auc"] = roc_auc(y_true == labels[1], proba[:, 1])
            else:
                metrics["roc_auc"] = roc_auc_ovr(y_true, proba, labels)
            metrics["log_loss"] = log_loss(y_true, proba, labels)
    metrics["confusion_matrix"] = {
        "labels": [c.item() if hasattr(c, "item") else c for c in labels],
        "matrix": confusion(y_true, predicted, labels),
    }
    return metrics


class BatchMetrics:
    """Accuracy, log loss and the confusion matrix summed batch by batch: equal to those of all the rows at once
    (ROC AUC is left out, as it needs every score at once)."""

    def __init__(self, classes: list[Any], threshold: float):
        self.classes, self.threshold = classes, threshold
        self.rows, self.correct, self.loss = 0, 0, 0.0
        self.present: set[Any] = set()
        self.matrix = None

    def add(self, y_true, proba) -> None:
        import numpy as np
        from emberflow.nodes.score import predicted_labels
        from sklearn.metrics import confusion_matrix, log_loss

        labels = np.asarray(self.classes)
        predicted = predicted_labels(proba, self.classes, self.threshold)
        self.rows += len(y_true)
        self.correct += int((y_true == predicted).sum())
        self.present |= set(np.unique(y_true).tolist())
        if self.present <= set(labels.tolist()):
            self.loss += float(log_loss(y_true, proba, labels=labels, normalize=False))
        matrix = confusion_matrix(y_true, predicted, labels=labels)
        self.matrix = matrix if self.matrix is None else self.matrix + matrix

    def result(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {"rows": self.rows, "accuracy": self.correct / max(self.rows, 1)}
        if len(self.present) > 1 and self.present <= set(self.classes):
            metrics["log_loss"] = self.loss / self.rows
        metrics["confusion_matrix"] = {
            "labels": [c.item() if hasattr(c, "item") else c for c in self.classes],
            "matrix": self.matrix.tolist() if self.matrix is not None else [],
        }
        return metrics
