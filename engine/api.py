"""The engine's public API: everything a node (built-in or plugin) may use.

Nodes import from here and nowhere else in the engine, so the engine's insides can change freely.
"""

from .batches import FrameBatches
from .context import Sessions, StepContext
from .errors import DataError, EmberflowError, EngineUnavailable, ModelNotFound, UserError
from .formats import choose_format, format_names
from .formats.h2o import estimator_of as h2o_estimator
from .formats.h2o import mojo_probabilities
from .frames import frame_engine, to_engine, to_pandas
from .model import Model
from .models import load_from_path, load_from_store, save_to_path, save_to_store
from .node import ANY, FRAME, MODEL, Node
from .params import Param, ParamProblem
from .spark_errors import spark_errors
from .store import check_name

__all__ = [
    "ANY", "FRAME", "MODEL", "DataError", "EmberflowError", "EngineUnavailable", "FrameBatches", "Model",
    "ModelNotFound", "Node", "Param", "ParamProblem", "Sessions", "StepContext", "UserError", "check_name",
    "choose_format", "format_names", "frame_engine", "h2o_estimator", "load_from_path", "load_from_store",
    "mojo_probabilities", "save_to_path", "save_to_store", "spark_errors", "to_engine", "to_pandas",
]
