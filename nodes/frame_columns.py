"""What the data-preparation nodes share: a frame's column names and kinds on each engine, one error for the
columns a step names that its input lacks, and Spark and H2O helpers that leave the input frame as it was.

A column's kind is what the nodes reason about, the same on every engine: ``number``, ``text``, ``boolean``,
``date``, ``timestamp`` or ``other``. pandas: numeric, ``bool``/``boolean``, ``datetime64``, ``str`` dtypes,
and object columns by the values they hold (all text, all booleans, all dates). Spark: its numeric, string,
boolean, date and timestamp types. H2O: ``int``/``real`` numbers, ``enum``/``string`` text (an ``enum`` column
whose levels are true and false, in any case, is boolean: that is how H2O reads a boolean column), and ``time``
(a timestamp: H2O has no separate date type).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from emberflow.engine.api import DataError, ParamProblem, did_you_mean_each, is_arrow

KINDS = ("number", "text", "boolean", "date", "timestamp", "other")
BOOLEAN_LEVELS = {"true", "false"}


def names(frame: Any, engine: str) -> list[str]:
    """The frame's column names, as text, in order (of a pandas frame or, on the sklearn engine, an Arrow table)."""
    if engine == "h2o":
        return list(frame.names)
    if is_arrow(frame):
        return list(frame.column_names)
    return [str(c) for c in frame.columns]


def arrow_scalar(value: int | float | str, arrow_type: Any) -> Any:
    """An Arrow scalar of an int64, a float64 or a text (``arrow_type``), built from its bytes: ``pa.scalar`` would
    import pandas (pyarrow asks whether a Python value is a pandas object), which a workflow that stays in Arrow
    never needs."""
    import struct

    import pyarrow as pa

    if pa.types.is_string(arrow_type):
        data = value.encode("utf-8")
        buffers = [None, pa.py_buffer(struct.pack("<ii", 0, len(data))), pa.py_buffer(data)]
    else:
        buffers = [None, pa.py_buffer(struct.pack("<q" if pa.types.is_int64(arrow_type) else "<d", value))]
    return pa.Array.from_buffers(arrow_type, 1, buffers)[0]


def check_columns(node: str, wanted: Iterable[str], columns: list[str], what: str = "") -> None:
    """Refuse, in one error, every name of ``wanted`` that is not a column (with the close ones and the columns)."""
    present = set(columns)
    missing = [c for c in dict.fromkeys(wanted) if c not in present]
    if missing:
        quoted = ", ".join(f"'{c}'" for c in missing)
        raise DataError(f"{node}: {what or 'no column'}{'s' if len(missing) > 1 and not what else ''} {quoted} in "
                        f"the data{did_you_mean_each(missing, columns)}; columns: {', '.join(columns)}")


def check_names(node: str, param: str, values: Any, allow_empty: bool = False) -> None:
    """At validation: ``values`` is a list of distinct, non-empty column names (a located error otherwise)."""
    if not values and not allow_empty:
        raise ParamProblem(f"parameter '{param}' of {node} is empty; name at least one column", param)
    seen: set[str] = set()
    for index, value in enumerate(values or ()):
        if not isinstance(value, str) or not value:
            raise ParamProblem(f"parameter '{param}' of {node}: expected column names, got {value!r}; write a "
                               "column name as text (quote it if it looks like a number)", param, (index,))
        if value in seen:
            raise ParamProblem(f"parameter '{param}' of {node} names column '{value}' twice; name it once",
                               param, (index,))
        seen.add(value)


def kinds(frame: Any, engine: str, columns: Iterable[str]) -> dict[str, str]:
    """The kind of each of ``columns`` (see the module's doc)."""
    if engine == "spark":
        types = {field.name: field.dataType for field in frame.schema.fields}
        return {c: spark_kind(types[c]) for c in columns}
    if engine == "h2o":
        types, columns = frame.types, list(columns)
        levels = dict(zip(frame.names, frame.levels(), strict=True)) if any(
            types[c] == "enum" for c in columns) else {}
        return {c: h2o_kind(types[c], levels.get(c)) for c in columns}
    return {c: pandas_kind(frame[c]) for c in columns}


def pandas_kind(series: Any) -> str:
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamp"
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "text"
    inferred = pd.api.types.infer_dtype(series, skipna=True)  # an object column, by the values it holds
    return {"boolean": "boolean", "string": "text", "empty": "text", "datetime": "timestamp", "date": "date"}.get(
        inferred, "other")


def spark_kind(data_type: Any) -> str:
    from pyspark.sql import types as T

    if isinstance(data_type, T.BooleanType):
        return "boolean"
    if isinstance(data_type, T.NumericType):
        return "number"
    if isinstance(data_type, T.StringType | T.VarcharType | T.CharType):
        return "text"
    if isinstance(data_type, T.DateType):
        return "date"
    if isinstance(data_type, T.TimestampType | T.TimestampNTZType):
        return "timestamp"
    return "other"


def h2o_kind(h2o_type: str, levels: list | None = None) -> str:
    if h2o_type in ("int", "real"):
        return "number"
    if h2o_type == "enum":
        found = {str(level).lower() for level in levels or ()}
        return "boolean" if found and found <= BOOLEAN_LEVELS else "text"
    if h2o_type == "string":
        return "text"
    if h2o_type == "time":
        return "timestamp"
    return "other"


def spark_column(name: str) -> Any:
    """A Spark column by its name as it is (dots and backticks in it are not syntax)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def spark_missing(frame: Any, name: str) -> Any:
    """Spark's test for a missing value of a column: null, or NaN in a floating-point column (pandas' NaN)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    column = spark_column(name)
    if isinstance(frame.schema[name].dataType, T.FloatType | T.DoubleType):
        return column.isNull() | F.isnan(column)
    return column.isNull()


def h2o_renamed(frame: Any, new_names: list[str]) -> Any:
    """A new H2O frame holding ``frame``'s columns under ``new_names``. H2O renames in place, so the columns are
    first taken into a frame of their own: the input frame, which other steps may use, keeps its names."""
    columns = frame[list(frame.names)]
    return columns.set_names(list(new_names))


def h2o_enum(codes: Any, levels: list[str]) -> Any:
    """A categorical column from a numeric one of codes (0, 1 ... or missing) and the level of each code.

    H2O's ifelse on categorical columns mixes up codes and levels, so categorical values are made this way:
    the codes become a factor whose levels are the codes present, which are then renamed to the levels."""
    factor = codes.asfactor()
    present = (factor.levels() or [[]])[0]
    if not present:
        return factor
    return factor.set_levels([levels[int(float(code))] for code in present])


def h2o_refreshed(frame: Any) -> Any:
    """``frame`` with its names and types read from H2O again. After columns are assigned, the client's own
    account of them can be stale (it lists the assigned column under its temporary name, C1, too), and the steps
    after this one read them."""
    frame.refresh()
    return frame
