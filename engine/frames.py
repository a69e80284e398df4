"""Frames moving between engines: a step gets its input frames on its own engine.

Each engine's frame type is recognised by its class (without importing the library to ask), and a frame
crosses engines through pandas: Spark through Arrow, H2O through its pandas conversion.

On the sklearn engine a frame is a pandas DataFrame or an Arrow table (``pyarrow.Table``): ReadCSV returns the
table Arrow read, and the nodes that declare ``takes_arrow`` work on it as it is. Before any other node, and
before another engine, the table becomes pandas here, in one place (``to_pandas``: Arrow's ``to_pandas`` with its
default options, as ReadCSV converted its rows before), so a workflow that never needs pandas never imports it.
"""

from __future__ import annotations

from typing import Any

from .arrow import is_arrow
from .batches import FrameBatches
from .context import Sessions


def frame_engine(value: Any) -> str | None:
    """The engine a frame belongs to, or None if ``value`` is not a frame (batches are pandas frames)."""
    if isinstance(value, FrameBatches):
        return "sklearn"
    module = type(value).__module__
    name = type(value).__name__
    if module.startswith("pandas") and name == "DataFrame" or is_arrow(value):
        return "sklearn"
    if module.startswith("pyspark.sql") and name == "DataFrame":
        return "spark"
    if module.startswith("h2o") and name == "H2OFrame":
        return "h2o"
    return None


def to_pandas(value: Any) -> Any:
    if isinstance(value, FrameBatches):
        return value.collect()
    if is_arrow(value):
        return value.to_pandas()
    engine = frame_engine(value)
    if engine == "spark":
        from .engines.spark import spark_to_pandas

        return spark_to_pandas(value)
    if engine == "h2o":
        from .engines.h2o import frame_to_pandas

        return frame_to_pandas(value)
    return value


def to_engine(value: Any, engine: str, sessions: Sessions, arrow: bool = False) -> Any:
    """``value`` as a frame of ``engine`` (unchanged if it is not a frame or already there). An Arrow table stays
    one only for the sklearn engine with ``arrow`` (a node that takes Arrow); otherwise it becomes pandas."""
    have = frame_engine(value)
    if have is None or have == engine and not (is_arrow(value) and not arrow):
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
    if is_arrow(value):
        return value.num_rows
    if engine == "sklearn" and not isinstance(value, FrameBatches):
        return len(value)
    if engine == "h2o":
        return int(value.nrows)
    return None
