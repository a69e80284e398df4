"""Rows into an H2O model's MOJO, and its answer into a Prediction: the one preparation that Score's
``mode: mojo`` (h2o-genmodel's PredictCsv, a JVM per call) and ``emberflow serve`` (a JVM kept for the
server's life, ``serving.mojo``) both use, so that both give the same predictions for the same rows.

The rows are conformed to the model's input schema as on the other engines (numbers as float64, categories as
their text, see ``predictor``; ``unknown_category: error`` refuses an unseen category), and a missing category
becomes ``MISSING_LEVEL``, the level H2O's trainers give missing categories (``nodes/learners/h2o_backend.py``).
A model saved before input schemas takes its feature columns as they are. The MOJO's probabilities become the
prediction as on every engine: for two classes the second's probability against the model's threshold (H2O's
own label uses the threshold that maximizes F1), beyond two the most probable class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model
    from .predictor import Prediction

# A missing category's level: a level of its own, as a one-hot encoding gives it on the other engines (H2O's GLM
# would take the most frequent level instead). Not "NA" or empty, which h2o-genmodel reads as missing.
MISSING_LEVEL = "(missing)"


def mojo_rows(model: Model, frame):
    """``frame``'s feature columns as the model's MOJO takes them (see the module's doc)."""
    from .predictor import check_features, conform

    check_features(model, [str(c) for c in frame.columns])
    if not model.input_schema:
        return frame[list(model.features)]
    inputs = conform(frame, model.input_schema, model.params.get("unknown_category", "ignore"))
    for column in model.input_schema:
        if column.get("kind") == "categorical":
            inputs[column["name"]] = inputs[column["name"]].fillna(MISSING_LEVEL)
    return inputs[list(model.features)]


def predict_mojo(model: Model, frame, probabilities: Callable[[Any], Any]) -> Prediction:
    """The model's Prediction for ``frame``'s rows, given ``probabilities``: prepared rows to the MOJO's class
    probabilities (a regression's numbers as one column), as ``formats.h2o.mojo_result`` reads them."""
    from .predictor import Prediction, predicted_labels

    if model.engine != "h2o":
        raise ValueError(f"a MOJO scores H2O models, not {model.engine} ones")
    proba = probabilities(mojo_rows(model, frame))
    if model.is_regression:
        return Prediction("regression", proba[:, 0])
    classes, threshold = list(model.classes), model.params.get("threshold", 0.5)
    return Prediction("classification", predicted_labels(proba, classes, threshold), proba, classes)
