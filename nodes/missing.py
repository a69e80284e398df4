"""DropMissing and FillMissing: rows with missing values dropped, or the values filled in.

A value is missing when it is pandas' NaN, None, NA or NaT, Spark's null or NaN (a floating-point NaN is pandas'
missing value, and crosses to Spark as such), or H2O's NA.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, DataError, Node, Param, ParamProblem, with_columns
from emberflow.nodes.frame_columns import (
    check_columns,
    check_names,
    h2o_enum,
    h2o_refreshed,
    kinds,
    names,
    spark_column,
    spark_missing,
)

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext

STRATEGIES = ("mean", "median", "mode", "constant")
FILLABLE = ("number", "text", "boolean")
INT64 = 2**63  # a whole number every engine holds


class DropMissing(Node):
    """Drop the rows with a missing value in ``columns`` (default: in any column).

    With ``how: all``, only the rows whose values in those columns are all missing are dropped. The rows that
    stay keep their order.
    """

    kind = "transform"
    inputs = {"data": FRAME}
    keeps_columns = True
    outputs = {"data": FRAME}
    params = (
        Param("columns", "array", None, "the columns to look at (default: every column)", items="string"),
        Param("how", "string", "any", "any: drop a row with a missing value in one of the columns; all: only "
              "a row missing all of them", choices=("any", "all")),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        """Without ``columns``, a missing value in any column drops the row: every column."""
        return {"data": with_columns(needed.get("data"), params["columns"])} if params["columns"] else {}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if params["columns"] is not None:
            check_names("DropMissing", "columns", params["columns"])

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame = inputs["data"]
        columns = names(frame, ctx.engine)
        subset = params["columns"] or columns
        check_columns("DropMissing", subset, columns)
        if ctx.engine == "spark":  # not na.drop, which reads a dot in a column's name as a struct's field
            from functools import reduce

            missing = [spark_missing(frame, c) for c in subset]
            return frame.where(~reduce(lambda a, b: (a | b) if params["how"] == "any" else (a & b), missing))
        if ctx.engine == "h2o":
            missing = frame[subset].isna().sum(axis=1, return_frame=True)
            return frame[missing == 0 if params["how"] == "any" else missing < len(subset), :]
        return frame.dropna(how=params["how"], subset=subset)


class FillMissing(Node):
    """Fill missing values with a value per column (``values``) or one a ``strategy`` computes from the data.

    The strategy computes each column's value from the data the step gets: ``mean`` or ``median`` of a numeric
    column, ``mode`` (the most frequent value; of several, the smallest) of any column, or ``constant``
    (``value``).

    A number fills numeric columns, a text value text columns, true or false boolean columns. A number with a
    fraction makes an integer column a floating-point one; otherwise columns keep their types. Without
    ``columns``, a strategy fills every column it applies to: mean and median the numeric columns, mode every
    column, constant the columns whose kind the value fits. The median of an even count is the mean of the two
    middle values, on every engine. A column with no value at all to compute from stays as it is.
    """

    kind = "transform"
    inputs = {"data": FRAME}
    keeps_columns = True
    outputs = {"data": FRAME}
    params = (
        Param("values", "object", None, "column: value, the value filling each column's missing values"),
        Param("strategy", "string", None, "how to compute the value of each column", choices=STRATEGIES),
        Param("value", "any", None, "with strategy constant: the value (a number, text, true or false)"),
        Param("columns", "array", None, "with a strategy: the columns to fill (default: those it applies to)",
              items="string"),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        """Only the columns it is told to fill (a strategy without ``columns`` reads every column)."""
        named = params["values"] if params["values"] is not None else params["columns"]
        return {"data": with_columns(needed.get("data"), named)} if named else {}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if (params["values"] is None) == (params["strategy"] is None):
            raise ParamProblem("FillMissing needs one of 'values' (column: value) or 'strategy' (mean, median, "
                               f"mode or constant){', not both' if params['values'] is not None else ''}",
                               "strategy" if params["values"] is not None else None)
        if params["values"] is not None:
            if not params["values"]:
                raise ParamProblem("parameter 'values' of FillMissing is empty; give column: value", "values")
            for column, value in params["values"].items():
                check_fill_value(value, "values", (str(column),))
            for other in ("value", "columns"):
                if params[other] is not None:
                    raise ParamProblem(f"FillMissing's '{other}' goes with a strategy, not with values", other)
            return
        if params["columns"] is not None:
            check_names("FillMissing", "columns", params["columns"])
        if params["strategy"] == "constant":
            if params["value"] is None:
                raise ParamProblem("FillMissing's strategy constant needs 'value': the value to fill in",
                                   "strategy")
            check_fill_value(params["value"], "value", ())
        elif params["value"] is not None:
            raise ParamProblem(f"FillMissing's 'value' goes with strategy constant, not {params['strategy']}",
                               "value")

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame = inputs["data"]
        engine = ctx.engine
        columns = names(frame, engine)
        wanted = list(params["values"] or params["columns"] or [])
        check_columns("FillMissing", wanted, columns)
        column_kinds = kinds(frame, engine, columns)
        if params["values"] is not None:
            fills = dict(params["values"])
        else:
            targets = strategy_columns(params, column_kinds)
            fills = computed_fills(frame, engine, params, targets)
            for column in targets:
                if column not in fills:
                    ctx.warn(f"FillMissing: column '{column}' has no value to compute a {params['strategy']} from; "
                             "it stays as it is")
        for column, value in fills.items():
            check_fits(column, column_kinds[column], value)
        if not fills:
            return frame
        return FILLERS[engine](frame, fills, {c: column_kinds[c] for c in fills})


def check_fill_value(value: Any, key: str, within: tuple) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        raise ParamProblem(f"FillMissing: expected a number from -2**63 to 2**63 - 1, got {repr(value):.40}...",
                           key, within)
    if isinstance(value, bool | str | int) or (isinstance(value, float) and math.isfinite(value)):
        return
    raise ParamProblem(f"FillMissing: expected a number, text, true or false to fill with, got {value!r}", key,
                       within)


def value_kind(value: Any) -> str:
    return "boolean" if isinstance(value, bool) else "text" if isinstance(value, str) else "number"


def check_fits(column: str, kind: str, value: Any) -> None:
    if kind not in FILLABLE:
        raise DataError(f"FillMissing: column '{column}' is a {kind} column; only number, text and boolean columns "
                        "can be filled")
    if value_kind(value) != kind:
        raise DataError(f"FillMissing: column '{column}' is a {kind} column, and {value!r} is not a {kind}; give "
                        f"it a {kind} value")


def strategy_columns(params: dict[str, Any], column_kinds: dict[str, str]) -> list[str]:
    """The columns a strategy fills: those named, or those it applies to."""
    strategy = params["strategy"]
    if strategy in ("mean", "median"):
        wrong = [c for c in params["columns"] or [] if column_kinds[c] != "number"]
        if wrong:
            raise DataError(f"FillMissing: strategy {strategy} needs numeric columns; "
                            f"{', '.join(f'{c!r} is {column_kinds[c]}' for c in wrong)}")
        return params["columns"] or [c for c, kind in column_kinds.items() if kind == "number"]
    if params["columns"]:
        return list(params["columns"])
    if strategy == "constant":
        return [c for c, kind in column_kinds.items() if kind == value_kind(params["value"])]
    return [c for c, kind in column_kinds.items() if kind in FILLABLE]


def computed_fills(frame: Any, engine: str, params: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    """Each target column's value (columns with nothing to compute from are left out)."""
    if params["strategy"] == "constant":
        return dict.fromkeys(targets, params["value"])
    if not targets:
        return {}
    found = STATISTICS[engine](frame, params["strategy"], targets)
    return {c: plain(v) for c, v in found.items() if v is not None and not (isinstance(v, float) and math.isnan(v))}


def plain(value: Any) -> Any:
    """A NumPy or Java-side scalar as the Python value it is (numbers, text, booleans)."""
    if hasattr(value, "item"):
        value = value.item()
    return value


def mode_of(counts: list[tuple[Any, int]]) -> Any:
    """The most frequent value of (value, count) pairs; of several as frequent, the smallest."""
    if not counts:
        return None
    top = max(count for _, count in counts)
    return min(value for value, count in counts if count == top)


# ----- pandas -----

def pandas_statistics(frame: Any, strategy: str, targets: list[str]) -> dict[str, Any]:
    found = {}
    for column in targets:
        values = frame[column].dropna()
        if strategy == "mean":
            found[column] = values.mean() if len(values) else None
        elif strategy == "median":
            found[column] = values.median() if len(values) else None
        else:
            counts = values.value_counts()
            found[column] = plain(min(counts.index[counts == counts.max()])) if len(counts) else None
    return found


def pandas_fill(frame: Any, fills: dict[str, Any], column_kinds: dict[str, str]) -> Any:
    import pandas as pd

    filled = frame.copy()
    for column, value in fills.items():
        series = filled[column]
        if isinstance(value, float) and not value.is_integer() and pd.api.types.is_integer_dtype(series.dtype):
            series = series.astype("float64")
        filled[column] = series.fillna(value)
    return filled


# ----- Spark -----

def spark_statistics(frame: Any, strategy: str, targets: list[str]) -> dict[str, Any]:
    from emberflow.engine.api import spark_errors
    from pyspark.sql import functions as F

    present = {c: F.when(~spark_missing(frame, c), spark_column(c)) for c in targets}
    with spark_errors():
        if strategy in ("mean", "median"):
            aggregate = F.mean if strategy == "mean" else F.median
            row = frame.agg(*[aggregate(present[c]).alias(f"_{i}") for i, c in enumerate(targets)]).first()
            return {c: row[f"_{i}"] for i, c in enumerate(targets)}
        found = {}
        for column in targets:  # one small aggregation per column: its values' counts, the top ones only
            counts = (frame.select(present[column].alias("v")).where(F.col("v").isNotNull()).groupBy("v").count()
                      .orderBy(F.col("count").desc(), F.col("v").asc()).limit(1).collect())
            found[column] = counts[0]["v"] if counts else None
        return found


def spark_fill(frame: Any, fills: dict[str, Any], column_kinds: dict[str, str]) -> Any:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns = []
    for field in frame.schema.fields:
        column = spark_column(field.name)
        if field.name in fills:
            value = fills[field.name]
            integral = isinstance(field.dataType, T.IntegralType)
            if integral and isinstance(value, float) and not value.is_integer():
                column, field_type = column.cast("double"), T.DoubleType()
            else:
                field_type = field.dataType
            column = F.when(spark_missing(frame, field.name), F.lit(value).cast(field_type)).otherwise(column)
        columns.append(column.alias(field.name))
    return frame.select(*columns)


# ----- H2O -----

def h2o_statistics(frame: Any, strategy: str, targets: list[str]) -> dict[str, Any]:
    found = {}
    for column in targets:
        values = frame[column]
        if strategy == "mean":
            found[column] = values.mean(skipna=True)[0]
        elif strategy == "median":
            found[column] = values.median(na_rm=True)[0]
        else:
            found[column] = h2o_mode(frame, column)
    return found


def h2o_mode(frame: Any, column: str) -> Any:
    """The column's mode from its table of counts (small: one row per distinct value)."""
    from emberflow.engine.api import to_pandas

    kind = kinds(frame, "h2o", [column])[column]
    table = to_pandas(frame[column].table())
    pairs = [(value, int(count)) for value, count in zip(table.iloc[:, 0], table.iloc[:, 1], strict=True)
             if value == value]  # NaN, H2O's missing value, is not a value to count
    if kind == "boolean":
        pairs = [(str(value).lower() == "true", count) for value, count in pairs]
    elif kind == "text":
        pairs = [(str(value), count) for value, count in pairs]
    return plain(mode_of(pairs))


def h2o_fill(frame: Any, fills: dict[str, Any], column_kinds: dict[str, str]) -> Any:
    filled = frame[list(frame.names)]  # a new frame: the input, which other steps may use, stays as it is
    for column, value in fills.items():
        values = frame[column]
        if column_kinds[column] == "number":
            filled[column] = values.isna().ifelse(value, values)
            continue
        if frame.types[column] == "string":
            values = values.asfactor()
        levels = list((values.levels() or [[]])[0])
        level = h2o_level(levels, value)
        if level not in levels:
            levels.append(level)
        codes = values.asnumeric()  # a categorical column's codes: 0, 1 ... for its levels in order
        filled[column] = h2o_enum(codes.isna().ifelse(levels.index(level), codes), levels)
    return h2o_refreshed(filled)


def h2o_level(levels: list[str], value: Any) -> str:
    """The level standing for ``value``: the text itself, or for true and false the boolean column's level in
    whatever case it has (``True``, ``true`` ...)."""
    if not isinstance(value, bool):
        return str(value)
    wanted = "true" if value else "false"
    return next((level for level in levels if str(level).lower() == wanted), wanted)


STATISTICS = {"sklearn": pandas_statistics, "spark": spark_statistics, "h2o": h2o_statistics}
FILLERS = {"sklearn": pandas_fill, "spark": spark_fill, "h2o": h2o_fill}
