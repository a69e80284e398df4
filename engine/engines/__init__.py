"""Engine sessions: the connection to Spark or H2O that a run starts lazily, once, and stops at its end.

The embedded engine (pandas + scikit-learn) needs no session. Spark and H2O each have a module here whose
``Engine`` class is imported only when a step of that engine runs, so a pandas workflow never imports pyspark
or h2o.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from ..errors import EngineUnavailable

ENGINE_MODULES = {
    "spark": ("emberflow.engine.engines.spark", "pyspark", "spark"),
    "h2o": ("emberflow.engine.engines.h2o", "h2o", "h2o"),
}


class EngineSession:
    """Start and stop one engine for a run. ``settings`` is the workflow's section merged with the CLI's."""

    name = "base"

    def __init__(self, settings: dict[str, Any]):
        self.settings = settings

    def warn(self, message: str) -> None:
        """Report a warning; ``Sessions`` routes it to the run's warnings."""
        print(f"warning: {message}", file=sys.stderr)

    def start(self) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def produced(self, value: Any) -> None:
        """A step of the run returned ``value`` (a frame, a model ...). An engine whose objects would outlive
        the run on a shared cluster notes them here to free them when the run stops; by default nothing."""


def engine_class(name: str) -> type[EngineSession]:
    module_name, library, extra = ENGINE_MODULES[name]
    try:
        importlib.import_module(library)
    except ImportError:
        raise EngineUnavailable(
            f"engine '{name}' needs the {library} package, which is not installed; "
            f"install it with: pip install 'emberflow[{extra}]'"
        ) from None
    return importlib.import_module(module_name).Engine
