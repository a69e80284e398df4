"""Frames moving between engines: a step gets its input frames on its own engine.

Each engine's frame type is recognised by its class (without importing the library to ask), and a frame
crosses engines through pandas: Spark through Arrow, H2O through its pandas conversion.
"""

from __future__ import annotations

from typing import Any

from .batches import FrameBatches
from .context import Sessions


def frame_engine(value: Any) -> str | None:
    """The engine a frame belongs to, or None if ``value`` is not a frame (batches are pandas frames)."""
    if isinstance(value, FrameBatches):
        return "sklearn"
    module = type(value).__module__
    name = type(value).__name__
    if module.startswith("pandas") and name == "DataFrame":
        return "sklearn"
    if module.startswith("pyspark.sql") and name == "DataFrame":
        return "spark"
    if module.startswith("h2o") and name == "H2OFrame":
        return "h2o"
    return None


def to_pandas(value: Any) -> Any:
    if isinstance(value, FrameBatches):
        return value.collect()
    engine = frame_engine(value)
    if engine == "spark":
        from .engines.spark import spark_to_pandas

        return spark_to_pandas(value)
    if engine == "h2o":
        from .engines.h2o import frame_to_pandas

        return frame_to_pandas(value)
    return value


def to_engine(value: Any, engine: str, sessions: Sessions) -> Any:
    """``value`` as a frame of ``engine`` (unchanged if it is not a frame or already there)."""
    have = frame_engine(value)
    if have is None or have == engine:
        return value
    frame = to_pandas(value)
    if engine == "spark":
        from .engines.spark import pandas_to_spark

        return pandas_to_spark(sessions.get("spark"), frame)
    if engine == "h2o":
        from .engines.h2o import pandas_to_frame

        return pandas_to_frame(sessions.get("h2o"), frame)
    return frame


def row_count(value: Any) -> int | None:
    """Rows of a frame when they are known without running a job (None for a lazy Spark frame or batches)."""
    engine = frame_engine(value)
    if engine == "sklearn" and not isinstance(value, FrameBatches):
        return len(value)
    if engine == "h2o":
        return int(value.nrows)
    return None
