"""Score: a model's predictions and probabilities for a frame, and metrics when the label is there."""

from __future__ import annotations

from typing import Any

from emberflow.engine.api import FRAME, MODEL, DataError, Model, Node, Param, StepContext


class Score(Node):
    """Add prediction and probability columns to a frame.

    A binary model adds ``probability`` (of the second class); a model of more classes adds one
    ``probability_<class>`` column per class. When the frame holds the label column, the step records accuracy,
    ROC AUC, log loss and the confusion matrix in the run's record.
    """

    kind = "ml-predict"
    inputs = {"model": MODEL, "data": FRAME}
    outputs = {"data": FRAME}
    params = (
        Param("label", "string", None, "the label column, for metrics (default: the model's label, if present)"),
        Param("prediction_col", "string", "prediction", "the name of the prediction column"),
        Param("probability_col", "string", "probability", "the name (or prefix) of the probability column(s)"),
    )

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        model: Model = inputs["model"]
        frame = inputs["data"]
        if model.engine not in ("sklearn", "portable"):
            raise DataError(f"Score on engine sklearn cannot use a {model.engine} model; run the step with "
                            f"engine: {model.engine}")
        X = model_inputs(model, frame)
        proba = model.obj.predict_proba(X)
        classes = list(model.classes) or list(getattr(model.obj, "classes_", []))
        scored = add_predictions(frame, proba, classes, params, model.params.get("threshold", 0.5))
        label = params["label"] or model.label
        if label and label in frame.columns:
            ctx.record_metrics(classification_metrics(frame[label].to_numpy(), proba, classes,
                                                      model.params.get("threshold", 0.5)))
        elif params["label"]:
            raise DataError(f"Score: no label column '{label}' in the data; columns: "
                            f"{', '.join(map(str, frame.columns))}")
        return scored


def model_inputs(model: Model, frame):
    """The model's feature columns of ``frame``, in the model's order, as the model expects them."""
    columns = [str(c) for c in frame.columns]
    missing = [f for f in model.features if f not in columns]
    if missing:
        raise DataError(f"the data lacks the model's feature columns {missing}; columns: {', '.join(columns)}")
    X = frame[model.features]
    if model.engine == "portable":
        return X.to_numpy(dtype="float64")
    return X


def predicted_labels(proba, classes: list[Any], threshold: float = 0.5):
    """The predicted class: above ``threshold`` for the second of two classes, else the most probable."""
    import numpy as np

    labels = np.asarray(classes)
    if proba.shape[1] == 2:
        return np.where(proba[:, 1] > threshold, labels[1], labels[0])
    return labels[proba.argmax(axis=1)]


def add_predictions(frame, proba, classes: list[Any], params: dict[str, Any], threshold: float = 0.5):
    scored = frame.copy()
    scored[params["prediction_col"]] = predicted_labels(proba, classes, threshold)
    if proba.shape[1] == 2:
        scored[params["probability_col"]] = proba[:, 1]
    else:
        for index, cls in enumerate(classes):
            scored[f"{params['probability_col']}_{cls}"] = proba[:, index]
    return scored


def classification_metrics(y_true, proba, classes: list[Any], threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy, ROC AUC (one-vs-rest beyond two classes), log loss and the confusion matrix."""
    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score

    labels = np.asarray(classes)
    predicted = predicted_labels(proba, classes, threshold)
    metrics: dict[str, Any] = {"rows": int(len(y_true)), "accuracy": float(accuracy_score(y_true, predicted))}
    present = set(np.unique(y_true).tolist())
    if len(present) > 1 and present <= set(labels.tolist()):
        if len(classes) == 2:
            metrics["roc_auc"] = float(roc_auc_score(y_true == labels[1], proba[:, 1]))
        else:
            metrics["roc_auc"] = float(roc_auc_score(y_true, proba, multi_class="ovr", labels=labels))
        metrics["log_loss"] = float(log_loss(y_true, proba, labels=labels))
    metrics["confusion_matrix"] = {
        "labels": [c.item() if hasattr(c, "item") else c for c in labels],
        "matrix": confusion_matrix(y_true, predicted, labels=labels).tolist(),
    }
    return metrics
