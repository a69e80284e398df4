"""Score's metrics in NumPy, computed as scikit-learn computes them: for classification ``accuracy_score``,
``roc_auc_score``, ``log_loss``, ``confusion_matrix``, ``precision_score``, ``recall_score`` and ``f1_score``
(``zero_division=0``); for regression ``root_mean_squared_error``, ``mean_absolute_error``, ``r2_score`` and
``explained_variance_score``. The Spark engine computes the same figures by Spark jobs (``spark_metrics``), and
shares the pure functions here that work on counts.

Importing scikit-learn takes about 0.6 s, more than scoring 250,000 rows on H2O, whose runs have no other use for
it. Rows whose label is missing (None, NaN, pandas' NA) are left out of the metrics and counted as
``rows_without_label``. Where scikit-learn would stop with an error (labels of another kind than the classes, a
missing probability or prediction), these raise a DataError that says so; classes need not be in sorted order.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from emberflow.engine.api import DataError

Counts = dict[tuple[Any, Any], int]  # (true label, predicted label) -> rows


def labelled_rows(y_true: Any, *columns: Any) -> tuple[Any, list[Any], int]:
    """``y_true`` and the matching rows of ``columns`` without the rows whose label is missing, and how many
    rows were left out."""
    import numpy as np
    import pandas as pd

    y_true = np.asarray(y_true)
    missing = np.asarray(pd.isna(y_true), dtype=bool)
    left_out = int(missing.sum())
    if not left_out:
        return y_true, [np.asarray(c) for c in columns], 0
    kept = ~missing
    return y_true[kept], [np.asarray(c)[kept] for c in columns], left_out


def counted_rows(rows: int, without_label: int) -> dict[str, int]:
    """``rows`` (the rows measured), and ``rows_without_label`` when some rows had no label."""
    return {"rows": int(rows), **({"rows_without_label": int(without_label)} if without_label else {})}


def check_targets(y_true: Any, proba: Any, labels: Any) -> None:
    """Every row has a probability, and the labels are of the classes' kind (text or numbers)."""
    import numpy as np

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

    return float(np.mean(row_log_losses(y_true, proba, labels)))


def row_log_losses(y_true: Any, proba: Any, labels: Any) -> Any:
    """Each row's negative log of its probability for its true class (which must be one of ``labels``)."""
    import numpy as np

    eps = np.finfo(np.float64).eps
    chosen = proba[np.arange(len(y_true)), class_index(y_true, labels)]
    return -np.log(np.clip(chosen.astype(np.float64), eps, 1 - eps))


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


def pair_counts(y_true: Any, predicted: Any, labels: Any) -> Counts:
    """How many rows hold each (true label, predicted label) pair: the confusion matrix of every label present,
    those that are none of ``labels`` too (precision and F1 count them; the recorded matrix leaves them out)."""
    import numpy as np

    known = labels.tolist()
    every = np.asarray(known + [v for v in np.unique(y_true).tolist() if v not in known], dtype=object)
    truth, guess = class_index(y_true, every), class_index(predicted, every)
    kept = (truth >= 0) & (guess >= 0)
    counts = np.bincount(truth[kept] * len(every) + guess[kept], minlength=len(every) ** 2)
    return {(every[i // len(every)], every[i % len(every)]): int(counts[i]) for i in np.flatnonzero(counts)}


def confusion_of(counts: Counts, classes: list[Any]) -> dict[str, Any]:
    """The recorded confusion matrix: rows the true class, columns the predicted one, in the classes' order."""
    return {"labels": list(classes),
            "matrix": [[counts.get((truth, guess), 0) for guess in classes] for truth in classes]}


def label_scores(counts: Counts, classes: list[Any]) -> dict[str, float]:
    """For two classes the precision, recall and F1 of the second; beyond two the F1 of each label present (in
    the labels or the predictions) averaged, as scikit-learn's ``f1_score(average="macro")``. A ratio of no rows
    is 0 (``zero_division=0``)."""

    def tallies(label: Any) -> tuple[int, int, int]:
        hits = counts.get((label, label), 0)
        predicted = sum(n for (_, guess), n in counts.items() if guess == label)
        actual = sum(n for (truth, _), n in counts.items() if truth == label)
        return hits, predicted, actual

    if len(classes) == 2:
        hits, predicted, actual = tallies(classes[1])
        return {"precision": ratio(hits, predicted), "recall": ratio(hits, actual),
                "f1": ratio(2 * hits, predicted + actual)}
    present = {truth for truth, _ in counts} | {guess for _, guess in counts}
    f1s = [ratio(2 * hits, predicted + actual) for hits, predicted, actual in map(tallies, present)]
    return {"macro_f1": sum(f1s) / len(f1s)} if f1s else {}


def ratio(part: float, whole: float) -> float:
    return float(part / whole) if whole else 0.0


def probability_scores(y_true: Any, proba: Any, labels: Any) -> dict[str, float]:
    """ROC AUC (one-vs-rest beyond two classes) and log loss, when the labels are classes and not all one."""
    import numpy as np

    present = set(np.unique(y_true).tolist())
    if len(present) < 2 or not present <= set(labels.tolist()):
        return {}
    auc = roc_auc(y_true == labels[1], proba[:, 1]) if len(labels) == 2 else roc_auc_ovr(y_true, proba, labels)
    return {"roc_auc": auc, "log_loss": log_loss(y_true, proba, labels)}


def classification_metrics(y_true, proba, classes: list[Any], threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, ROC AUC, log loss, the confusion matrix, and precision, recall and F1 of the second class (two
    classes) or macro F1 (more), of the rows that have a label; ``threshold`` picks the second of two classes as
    Score's predictions do."""
    import numpy as np
    from emberflow.engine.api import predicted_labels

    labels = np.asarray(classes)
    y_true, (proba,), without_label = labelled_rows(y_true, np.asarray(proba, dtype=np.float64))
    metrics: dict[str, Any] = counted_rows(len(y_true), without_label)
    counts: Counts = {}
    if len(y_true):
        check_targets(y_true, proba, labels)
        predicted = predicted_labels(proba, classes, threshold)
        counts = pair_counts(y_true, predicted, labels)
        metrics["accuracy"] = accuracy(y_true, predicted)
        metrics.update(probability_scores(y_true, proba, labels))
        metrics.update(label_scores(counts, labels.tolist()))
    metrics["confusion_matrix"] = confusion_of(counts, labels.tolist())
    return metrics


class BatchMetrics:
    """Score's classification metrics summed batch by batch, equal to those of all the rows at once: counts of
    (label, prediction) pairs give accuracy, the confusion matrix, precision, recall and F1; log loss sums each
    row's. ROC AUC is left out, as it needs every score at once."""

    def __init__(self, classes: list[Any], threshold: float):
        self.classes, self.threshold = list(classes), threshold
        self.without_label, self.loss = 0, 0.0
        self.counts: Counter[tuple[Any, Any]] = Counter()

    def add(self, y_true, proba) -> None:
        import numpy as np
        from emberflow.engine.api import predicted_labels

        labels = np.asarray(self.classes)
        y_true, (proba,), without_label = labelled_rows(y_true, np.asarray(proba, dtype=np.float64))
        self.without_label += without_label
        if not len(y_true):
            return
        check_targets(y_true, proba, labels)
        predicted = predicted_labels(proba, self.classes, self.threshold)
        self.counts.update(pair_counts(y_true, predicted, labels))
        if set(np.unique(y_true).tolist()) <= set(labels.tolist()):
            self.loss += float(np.sum(row_log_losses(y_true, proba, labels)))

    def result(self) -> dict[str, Any]:
        import numpy as np

        classes = np.asarray(self.classes).tolist()
        rows = sum(self.counts.values())
        metrics: dict[str, Any] = counted_rows(rows, self.without_label)
        if rows:
            metrics["accuracy"] = sum(n for (truth, guess), n in self.counts.items() if truth == guess) / rows
            present = {truth for truth, _ in self.counts}
            if len(present) > 1 and present <= set(classes):
                metrics["log_loss"] = self.loss / rows
            metrics.update(label_scores(self.counts, classes))
        metrics["confusion_matrix"] = confusion_of(self.counts, classes)
        return metrics


def numeric_values(values: Any, what: str) -> Any:
    """``values`` as float64; a DataError when they are text (a regression model predicts numbers)."""
    import numpy as np

    if values.dtype.kind in "USO" and any(isinstance(v, (str, bytes)) for v in values.tolist()):
        raise text_for_regression(what)
    return values.astype(np.float64)


def text_for_regression(what: str) -> DataError:
    return DataError(f"Score: the {what} holds text, but a regression model predicts numbers; convert it to "
                     "numbers first (CastColumns), or score without the label")


def regression_metrics(y_true, predicted) -> dict[str, Any]:
    """RMSE, MAE, R² and explained variance of the rows that have a label, as scikit-learn's
    ``root_mean_squared_error``, ``mean_absolute_error``, ``r2_score`` and ``explained_variance_score``. R² needs
    two rows (scikit-learn gives NaN for one) and is left out below that."""
    import numpy as np

    y_true, (predicted,), without_label = labelled_rows(y_true, predicted)
    y, guess = numeric_values(y_true, "label column"), numeric_values(predicted, "prediction")
    check_predictions(int(np.isnan(guess).sum()))
    metrics: dict[str, Any] = counted_rows(len(y), without_label)
    if len(y):
        error = y - guess
        label_spread = 0.0 if y.min() == y.max() else float(np.sum((y - np.mean(y)) ** 2))
        metrics.update(regression_figures(len(y), float(np.sum(error**2)), float(np.sum(np.abs(error))),
                                          label_spread, float(np.sum((error - np.mean(error)) ** 2))))
    return metrics


def check_predictions(missing: int) -> None:
    if missing:
        raise DataError(f"Score: the model gave no prediction for {missing} rows; check those rows' features")


def regression_figures(rows: int, squared: float, absolute: float, label_spread: float,
                       error_spread: float) -> dict[str, float]:
    """The regression metrics from sums over ``rows`` rows: of the squared and absolute errors, and of the squared
    deviations of the label, and of the error, from their means. ``label_spread`` must be exactly 0 for a
    constant label: R² and explained variance are then 1 for exact predictions and 0 otherwise, as
    scikit-learn's (``force_finite``)."""
    import math

    figures = {"rmse": math.sqrt(squared / rows), "mae": absolute / rows}
    if rows >= 2:
        figures["r2"] = fraction_explained(squared, label_spread)
    figures["explained_variance"] = fraction_explained(error_spread, label_spread)
    return figures


def fraction_explained(unexplained: float, total: float) -> float:
    if unexplained == 0:
        return 1.0
    return 0.0 if total == 0 else 1.0 - unexplained / total


class RegressionBatchMetrics:
    """The regression metrics summed batch by batch, equal to those of all the rows at once: the label's and the
    error's mean and squared deviations are merged batch by batch (Chan et al.), which stays exact to rounding
    where running sums of squares would cancel."""

    def __init__(self):
        self.without_label = 0
        self.squared = self.absolute = 0.0
        self.label, self.error = Moments(), Moments()
        self.lowest, self.highest = float("inf"), float("-inf")

    def add(self, y_true, predicted) -> None:
        import numpy as np

        y_true, (predicted,), without_label = labelled_rows(y_true, predicted)
        self.without_label += without_label
        if not len(y_true):
            return
        y, guess = numeric_values(y_true, "label column"), numeric_values(predicted, "prediction")
        check_predictions(int(np.isnan(guess).sum()))
        error = y - guess
        self.squared += float(np.sum(error**2))
        self.absolute += float(np.sum(np.abs(error)))
        self.label.add(y)
        self.error.add(error)
        self.lowest, self.highest = min(self.lowest, float(y.min())), max(self.highest, float(y.max()))

    def result(self) -> dict[str, Any]:
        rows = self.label.count
        metrics: dict[str, Any] = counted_rows(rows, self.without_label)
        if rows:
            label_spread = 0.0 if self.lowest == self.highest else self.label.spread
            metrics.update(regression_figures(rows, self.squared, self.absolute, label_spread, self.error.spread))
        return metrics


class Moments:
    """Count, mean and sum of squared deviations from the mean of values seen batch by batch."""

    def __init__(self):
        self.count, self.mean, self.spread = 0, 0.0, 0.0

    def add(self, values: Any) -> None:
        import numpy as np

        count, mean = len(values), float(np.mean(values))
        spread = float(np.sum((values - mean) ** 2))
        total = self.count + count
        delta = mean - self.mean
        self.spread += spread + delta * delta * self.count * count / total
        self.mean += delta * count / total
        self.count = total
