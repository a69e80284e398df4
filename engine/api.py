"""The engine's public API: everything a node (built-in or plugin) may use.

Nodes import from here and nowhere else in the engine, so the engine's insides can change freely.

The node interface (``Node``, ``Param``, port types) and the errors are imported with this module; the rest is
imported on first use (PEP 562 ``__getattr__``), so importing node modules to validate a workflow loads neither
the model store, the formats nor the frame helpers. ``from emberflow.engine.api import save_to_store`` works as
for any other name.
"""

from importlib import import_module
from typing import TYPE_CHECKING

from .arrow import is_arrow
from .errors import DataError, EmberflowError, EngineUnavailable, ModelNotFound, UserError
from .names import check_name
from .node import ANY, FRAME, MODEL, ColumnNeeds, Node, with_columns
from .params import MAX_JAVA_INT, MAX_SEED, Param, ParamProblem
from .paths import looked_for
from .suggest import did_you_mean, did_you_mean_each

if TYPE_CHECKING:  # what __getattr__ below returns, for type checkers and editors
    from .batches import FrameBatches
    from .context import Sessions, StepContext
    from .formats import choose_format, format_names
    from .formats.h2o import estimator_of as h2o_estimator
    from .formats.h2o import mojo_probabilities
    from .frames import frame_engine, to_engine, to_pandas
    from .h2o_rows import MISSING_LEVEL, predict_mojo
    from .model import Model, class_type
    from .models import load_from_path, load_from_store, save_to_path, save_to_store
    from .predictor import (
        Prediction,
        category_text,
        check_features,
        conform,
        model_inputs,
        predict,
        predicted_labels,
        threads_for,
    )
    from .spark_compat import raise_error as spark_raise_error
    from .spark_compat import try_cast as spark_try_cast
    from .spark_errors import spark_errors
    from .spark_scoring import category_text_sql, predicted_index, spark_scores

# name: (module under emberflow.engine, attribute there)
_LAZY = {
    "FrameBatches": ("batches", "FrameBatches"),
    "Sessions": ("context", "Sessions"),
    "StepContext": ("context", "StepContext"),
    "choose_format": ("formats", "choose_format"),
    "format_names": ("formats", "format_names"),
    "h2o_estimator": ("formats.h2o", "estimator_of"),
    "mojo_probabilities": ("formats.h2o", "mojo_probabilities"),
    "MISSING_LEVEL": ("h2o_rows", "MISSING_LEVEL"),
    "predict_mojo": ("h2o_rows", "predict_mojo"),
    "Prediction": ("predictor", "Prediction"),
    "category_text": ("predictor", "category_text"),
    "conform": ("predictor", "conform"),
    "predict": ("predictor", "predict"),
    "predicted_labels": ("predictor", "predicted_labels"),
    "model_inputs": ("predictor", "model_inputs"),
    "threads_for": ("predictor", "threads_for"),
    "check_features": ("predictor", "check_features"),
    "frame_engine": ("frames", "frame_engine"),
    "to_engine": ("frames", "to_engine"),
    "to_pandas": ("frames", "to_pandas"),
    "Model": ("model", "Model"),
    "class_type": ("model", "class_type"),
    "load_from_path": ("models", "load_from_path"),
    "load_from_store": ("models", "load_from_store"),
    "save_to_path": ("models", "save_to_path"),
    "save_to_store": ("models", "save_to_store"),
    "spark_errors": ("spark_errors", "spark_errors"),
    "spark_raise_error": ("spark_compat", "raise_error"),
    "spark_try_cast": ("spark_compat", "try_cast"),
    "category_text_sql": ("spark_scoring", "category_text_sql"),
    "predicted_index": ("spark_scoring", "predicted_index"),
    "spark_scores": ("spark_scoring", "spark_scores"),
}

__all__ = [
    "ANY", "ColumnNeeds", "FRAME", "MAX_JAVA_INT", "MAX_SEED", "MISSING_LEVEL", "MODEL", "DataError", "EmberflowError",
    "EngineUnavailable", "FrameBatches", "Model", "ModelNotFound", "Node", "Param", "ParamProblem", "Prediction",
    "Sessions", "StepContext", "UserError", "category_text", "check_features", "check_name", "choose_format",
    "class_type",
    "conform", "did_you_mean", "did_you_mean_each", "format_names", "frame_engine", "h2o_estimator", "is_arrow",
    "load_from_path", "load_from_store", "looked_for", "model_inputs", "mojo_probabilities", "predict",
    "predict_mojo", "predicted_index", "predicted_labels", "save_to_path", "save_to_store", "spark_errors",
    "spark_raise_error", "spark_scores", "spark_try_cast", "category_text_sql", "threads_for", "to_engine",
    "to_pandas", "with_columns",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = getattr(import_module(f"{__package__}.{module}"), attribute)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
