"""CastColumns: columns converted to another type, with the values that do not convert refused or made missing.

Which text converts is decided by the same patterns on every engine (``TEXT``), not by each engine's own
parser, so a value is refused, or made missing, alike everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emberflow.engine.api import (
    FRAME,
    DataError,
    Node,
    Param,
    ParamProblem,
    did_you_mean,
    is_arrow,
    spark_try_cast,
    with_columns,
)
from emberflow.nodes.frame_columns import (
    check_columns,
    h2o_enum,
    h2o_refreshed,
    kinds,
    names,
    spark_column,
    spark_missing,
)

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext

TYPES = ("integer", "float", "string", "boolean", "date", "timestamp")
TRUE_TEXT = ("true", "t", "yes", "y", "1")
FALSE_TEXT = ("false", "f", "no", "n", "0")
_DATE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
# Spaces around a value are allowed; the rest must match. [0-9], not \d: Python's \d takes any script's digits.
TEXT = {
    "integer": "^ *[+-]?[0-9]+ *$",
    "float": r"^ *[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)? *$",
    "boolean": f"^ *({'|'.join(TRUE_TEXT + FALSE_TEXT)}) *$",  # in any case
    "date": f"^ *{_DATE} *$",
    "timestamp": f"^ *{_DATE}([ T]{_TIME})? *$",
}
SAYS = {"integer": "an integer", "float": "a number", "string": "text", "boolean": "true or false",
        "date": "a date (YYYY-MM-DD)", "timestamp": "a timestamp (YYYY-MM-DD HH:MM[:SS])"}
# (kind of the column, type asked) pairs that convert; anything else is refused before any value is looked at.
CASTS = {
    "number": ("integer", "float", "string", "boolean"),
    "text": TYPES,
    "boolean": ("integer", "float", "string", "boolean"),
    "date": ("string", "date", "timestamp"),
    "timestamp": ("string", "date", "timestamp"),
}
INT64 = 2**63


class CastColumns(Node):
    """Convert columns to another type: ``types`` maps a column to integer, float, string, boolean, date or timestamp.

    Text converts when it is, apart from spaces around it: an integer (``-12``); a number (``2.5``, ``1e3``);
    one of true, t, yes, y, 1 or false, f, no, n, 0 in any case; a date ``YYYY-MM-DD``; a timestamp
    ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM`` or ``YYYY-MM-DD HH:MM:SS`` (a space or T between; no fractions, no
    time zone). A number converts to an integer when it is whole, to a boolean when it is 0 or 1; booleans
    become 1 and 0, or true and false as text; a date becomes text as ``YYYY-MM-DD``, a timestamp as
    ``YYYY-MM-DD HH:MM:SS``. Other conversions (a date to a number ...) are refused.

    A value that does not convert is an error naming its row (counted from 1 in the step's input), column and
    value, or, with ``invalid: null``, becomes missing. Missing values stay missing.

    pandas: integers are ``Int64`` (missing allowed), booleans ``boolean``, dates Python dates, timestamps
    ``datetime64``. Spark: ``bigint``, ``double``, ``string``, ``boolean``, ``date`` and ``timestamp_ntz`` (no
    time zone), and checking for invalid values is one job over the rows when the step runs (a row is counted
    in the partitions' order, the file's for a file just read). H2O: numbers are H2O's numbers (integers beyond
    2**53 lose precision), booleans categorical columns of levels false and true, dates and timestamps H2O's
    time columns (a date is at midnight); H2O cannot write fractional numbers or times as text faithfully, so
    those conversions are refused on H2O (run the step with ``engine: sklearn``). Numbers written as text follow
    each engine's way of writing them (Spark writes 1e20 as 1.0E20, pandas as 1e+20).
    """

    kind = "transform"
    inputs = {"data": FRAME}
    keeps_columns = True
    outputs = {"data": FRAME}
    takes_arrow = True
    params = (
        Param("types", "object", doc=f"column: type, types being {', '.join(TYPES)}"),
        Param("invalid", "string", "error", "a value that does not convert: error (stop, naming it) or null "
              "(make it missing)", choices=("error", "null")),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        return {"data": with_columns(needed.get("data"), params["types"])}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if not params["types"]:
            raise ParamProblem("parameter 'types' of CastColumns is empty; give column: type", "types")
        for column, wanted in params["types"].items():
            if not isinstance(column, str):
                raise ParamProblem(f"CastColumns: expected a column name as text, got {column!r}; quote it",
                                   "types", (str(column),), on_key=True)
            if wanted not in TYPES:
                hint = did_you_mean(wanted, TYPES) if isinstance(wanted, str) else ""
                raise ParamProblem(f"CastColumns: type {wanted!r} of column '{column}'{hint} is not one of: "
                                   f"{', '.join(TYPES)}", "types", (column,))

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame, types = inputs["data"], params["types"]
        if is_arrow(frame):
            cast = arrow_cast(frame, types)
            if cast is not None:
                return cast
            from emberflow.engine.api import to_pandas

            frame = to_pandas(frame)
        check_columns("CastColumns", types, names(frame, ctx.engine))
        column_kinds = kinds(frame, ctx.engine, types)
        for column, wanted in types.items():
            if wanted not in CASTS.get(column_kinds[column], ()):
                raise DataError(f"CastColumns: column '{column}' is a {column_kinds[column]} column, which does not "
                                f"convert to {wanted}; converting are: {describe_casts()}")
        return CASTERS[ctx.engine](frame, types, column_kinds, params["invalid"] == "error")


def describe_casts() -> str:
    return "; ".join(f"{kind} to {', '.join(targets)}" for kind, targets in CASTS.items())


def invalid_value(row: int, column: str, value: Any, wanted: str, count: int) -> DataError:
    others = f" ({count} values of the column do not convert)" if count > 1 else ""
    return DataError(f"CastColumns: row {row}, column '{column}': {value!r} is not {SAYS[wanted]}{others}; fix the "
                     "data, or set invalid: null to make such values missing")


# ----- Arrow (the sklearn engine's frame before it becomes pandas) -----

def arrow_cast(table: Any, types: dict[str, str]) -> Any:
    """``table`` with its columns cast, when every cast is one whose values and (once in pandas) dtype are those
    of the pandas path, and no value can fail: int64 or boolean without missing values to text, text kept,
    int64 or float64 to float. None otherwise: the caller casts the table's pandas frame."""
    cast = table
    for column, wanted in types.items():
        if column not in table.column_names:
            return None
        values = arrow_cast_column(table[column], wanted)
        if values is None:
            return None
        cast = cast.set_column(table.column_names.index(column), column, values)
    return cast


def arrow_cast_column(column: Any, wanted: str) -> Any:
    import pyarrow as pa

    kind = column.type
    if wanted == "string" and pa.types.is_string(kind) or wanted == "float" and pa.types.is_float64(kind):
        return column
    if wanted == "string" and (pa.types.is_int64(kind) or pa.types.is_boolean(kind)) and not column.null_count:
        return column.cast(pa.string())  # with missing values an int64 column is float64 in pandas: 1.0, not 1
    if wanted == "float" and pa.types.is_int64(kind):
        return column.cast(pa.float64(), safe=False)  # rounded to the nearest double, as NumPy's astype does
    return None


# ----- pandas -----

def pandas_cast(frame: Any, types: dict[str, str], column_kinds: dict[str, str], strict: bool) -> Any:
    cast = frame.copy()
    found = []
    for column, wanted in types.items():
        series = frame[column]
        values, bad = pandas_convert(series, column_kinds[column], wanted)
        if bad.any():
            position = int(bad.to_numpy().argmax())
            found.append((position, column, series.iloc[position], wanted, int(bad.sum())))
        cast[column] = values
    if strict and found:
        position, column, value, wanted, count = min(found, key=lambda f: f[0])
        raise invalid_value(position + 1, column, value, wanted, count)
    return cast


def pandas_convert(series: Any, kind: str, wanted: str) -> tuple[Any, Any]:
    """(converted values, missing where invalid; a mask of the invalid values)."""
    import pandas as pd

    present = series.notna()
    no_bad = pd.Series(False, index=series.index)
    if kind == "text":
        text = series.astype("str").where(present)
        if wanted == "string":
            return text, no_bad
        ok = text.str.fullmatch(TEXT[wanted], case=wanted != "boolean").fillna(False).astype(bool)
        values, ok = pandas_from_text(text.where(ok).str.strip(" "), ok, wanted)
    elif kind == "number":
        values, ok = pandas_from_number(series, wanted)
    elif kind == "boolean":
        flags = series.astype("boolean")
        values, ok = pandas_from_boolean(flags, wanted), present
    else:
        values, ok = pandas_from_time(series, kind, wanted), present
    return values, present & ~ok


def pandas_from_text(text: Any, ok: Any, wanted: str) -> tuple[Any, Any]:
    import pandas as pd

    if wanted == "integer":
        return pandas_integers(text, ok)
    if wanted == "float":
        return text.str.removeprefix("+").astype("float64"), ok
    if wanted == "boolean":
        return text.str.lower().map(lambda v: v in TRUE_TEXT if isinstance(v, str) else None).astype("boolean"), ok
    stamps = pd.to_datetime(text.str.replace("T", " "), format="ISO8601" if wanted == "timestamp" else "%Y-%m-%d",
                            errors="coerce")
    ok = ok & stamps.notna()
    return (stamps if wanted == "timestamp" else pandas_dates(stamps)), ok


def pandas_integers(text: Any, ok: Any) -> tuple[Any, Any]:
    """Integers from text that matches TEXT["integer"]: up to 18 digits fit int64 whatever they are, and are
    converted at once; longer ones one by one, refused beyond int64."""
    import pandas as pd

    short = ok & (text.str.len() <= 18)
    values = text.where(short).str.removeprefix("+").astype("Int64").array.copy()  # Arrow's parser: no plus sign
    ok = ok.to_numpy(dtype=bool, copy=True)
    for position in (ok & ~short.to_numpy(dtype=bool)).nonzero()[0]:
        number = int(text.iloc[position])
        if -INT64 <= number < INT64:
            values[position] = number
        else:
            ok[position] = False
    return values, pd.Series(ok, index=text.index)


def pandas_from_number(series: Any, wanted: str) -> tuple[Any, Any]:
    import pandas as pd

    present = series.notna()
    if wanted == "float":
        return series.astype("float64"), present
    if wanted == "string":
        text = series.astype("Int64").astype("str") if pd.api.types.is_integer_dtype(series.dtype) else \
            series.astype("str")
        return text.where(present), present
    if wanted == "boolean":
        ok = series.isin([0, 1]) & present
        return (series == 1).astype("boolean").where(ok, pd.NA), ok
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("Int64"), present
    ok = (series % 1 == 0) & (series.abs() < INT64) & present
    return series.where(ok).astype("Int64"), ok


def pandas_from_boolean(flags: Any, wanted: str) -> Any:
    if wanted == "integer":
        return flags.astype("Int64")
    if wanted == "float":
        return flags.astype("Float64").astype("float64")
    if wanted == "string":
        import numpy as np
        import pandas as pd

        words = np.where(flags.fillna(False).to_numpy(dtype=bool), "true", "false").astype(object)
        words[flags.isna().to_numpy()] = None
        return pd.Series(words, index=flags.index, dtype="str")
    return flags


def pandas_from_time(series: Any, kind: str, wanted: str) -> Any:
    import pandas as pd

    stamps = pd.to_datetime(series)
    if wanted == "timestamp":
        return stamps
    if wanted == "date":
        return pandas_dates(stamps)
    if kind == "date":
        return stamps.dt.strftime("%Y-%m-%d").astype("str")
    text = stamps.dt.strftime("%Y-%m-%d %H:%M:%S")
    fraction = stamps.dt.microsecond.map(lambda us: f".{int(us):06d}".rstrip("0") if us == us and us else "")
    return (text + fraction).astype("str")


def pandas_dates(stamps: Any) -> Any:
    """Timestamps as a column of Python dates (what Spark's dates become in pandas), None where missing."""
    import pandas as pd

    return pd.Series([s.date() if s is not pd.NaT and s == s else None for s in stamps], index=stamps.index,
                     dtype="object")


# ----- Spark -----

def spark_cast(frame: Any, types: dict[str, str], column_kinds: dict[str, str], strict: bool) -> Any:
    from pyspark.sql import functions as F

    converted = {c: spark_convert(frame, c, column_kinds[c], w) for c, w in types.items()}
    if strict:
        spark_refuse_invalid(frame, {c: bad for c, (_, bad) in converted.items()}, types)
    columns = []
    for name in names(frame, "spark"):
        if name in converted:
            value, bad = converted[name]
            columns.append(F.when(~spark_missing(frame, name) & ~bad, value).alias(name))
        else:
            columns.append(spark_column(name))
    return frame.select(*columns)


def spark_convert(frame: Any, name: str, kind: str, wanted: str) -> tuple[Any, Any]:
    """(the converted column, a column true where a present value does not convert)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    column = spark_column(name)
    present = ~spark_missing(frame, name)
    if kind == "text":
        if wanted == "string":
            return column, F.lit(False)
        text = F.trim(column)
        pattern = TEXT[wanted] if wanted != "boolean" else "(?i)" + TEXT[wanted]
        target = {"integer": "bigint", "float": "double", "date": "date", "timestamp": "timestamp_ntz"}
        value = F.lower(text).isin(list(TRUE_TEXT)) if wanted == "boolean" else spark_try_cast(text, target[wanted])
        ok = column.rlike(pattern) & (value.isNotNull() if wanted != "boolean" else F.lit(True))
        return value, present & ~F.coalesce(ok, F.lit(False))
    if kind == "number":
        if wanted == "integer" and isinstance(frame.schema[name].dataType, T.IntegralType):
            return column.cast("bigint"), F.lit(False)
        if wanted == "integer":
            ok = (column % 1 == 0) & (F.abs(column) < float(INT64))
            return spark_try_cast(column, "bigint"), present & ~F.coalesce(ok, F.lit(False))
        if wanted == "boolean":
            return column == 1, present & ~column.isin(0, 1)
        return column.cast("double" if wanted == "float" else "string"), F.lit(False)
    if wanted == "boolean":
        return column, F.lit(False)
    targets = {"integer": "bigint", "float": "double", "string": "string", "date": "date",
               "timestamp": "timestamp_ntz"}
    if kind == "date" and wanted == "date":
        return column, F.lit(False)
    if kind == "timestamp" and wanted == "timestamp":
        return column, F.lit(False)
    return column.cast(targets[wanted]), F.lit(False)


def spark_refuse_invalid(frame: Any, bad: dict[str, Any], types: dict[str, str]) -> None:
    """One job: for each partition, its row count and, per column, the first invalid value and how many there
    are; the first invalid value in partition order is refused, with its row number."""
    from emberflow.engine.api import spark_errors
    from pyspark.sql import functions as F

    order = list(bad)
    tagged = frame.select(F.spark_partition_id().alias("p"), F.monotonically_increasing_id().alias("id"),
                          *[bad[c].alias(f"b{i}") for i, c in enumerate(order)],
                          *[spark_column(c).cast("string").alias(f"v{i}") for i, c in enumerate(order)])
    found = []
    for i in range(len(order)):
        at = F.when(F.col(f"b{i}"), F.col("id"))
        found += [F.min(at).alias(f"first{i}"), F.min_by(F.col(f"v{i}"), at).alias(f"value{i}"),
                  F.count(at).alias(f"count{i}")]
    with spark_errors():
        partitions = sorted(tagged.groupBy("p").agg(F.count(F.lit(1)).alias("rows"), *found).collect(),
                            key=lambda r: r["p"])
    before, first = 0, None
    for part in partitions:
        for i, column in enumerate(order):
            if part[f"first{i}"] is not None:
                row = before + part[f"first{i}"] - (part["p"] << 33) + 1
                count = sum(p[f"count{i}"] for p in partitions)
                if first is None or row < first[0]:
                    first = (row, column, part[f"value{i}"], count)
        if first is not None:
            break
        before += part["rows"]
    if first is not None:
        row, column, value, count = first
        raise invalid_value(row, column, value, types[column], count)


# ----- H2O -----

def h2o_cast(frame: Any, types: dict[str, str], column_kinds: dict[str, str], strict: bool) -> Any:
    cast = frame[list(frame.names)]  # a new frame: the input, which other steps may use, stays as it is
    found = []
    for column, wanted in types.items():
        values, bad = h2o_convert(frame, column, column_kinds[column], wanted)
        count = int(bad.sum()) if bad is not None else 0
        if count:
            row = int(bad.which()[0, 0])
            found.append((row, column, frame[row, column], wanted, count))
        cast[column] = values
    if strict and found:
        row, column, value, wanted, count = min(found, key=lambda f: f[0])
        raise invalid_value(row + 1, column, value, wanted, count)
    return h2o_refreshed(cast)


def h2o_convert(frame: Any, name: str, kind: str, wanted: str) -> tuple[Any, Any]:
    """(the converted column, missing where invalid; a 0/1 column of the invalid values, or None: none can be)."""
    column = frame[name]
    present = column.isna() == 0
    if kind == "text":
        text = column.ascharacter() if frame.types[name] == "enum" else column
        if wanted == "string":
            return column, None
        ok = text.grep(TEXT[wanted], ignore_case=wanted == "boolean", output_logical=True)
        values, ok = h2o_from_text(text.trim(), ok, wanted)
        return values, present & (ok == 0)
    if kind == "number":
        return h2o_from_number(frame, name, wanted, present)
    if kind == "boolean":
        truth = column.ascharacter().tolower() == "true"
        if wanted == "boolean":
            return column, None
        if wanted == "string":
            return h2o_enum(present.ifelse(truth, float("nan")), ["false", "true"]), None
        return present.ifelse(truth, float("nan")), None
    if wanted == "string":
        raise DataError(f"CastColumns: H2O cannot write the times of column '{name}' as text; run this step with "
                        "engine: sklearn or spark")
    if wanted == "date":
        return h2o_moment(column.year(), column.month(), column.day()), None
    return column, None


def h2o_from_text(text: Any, ok: Any, wanted: str) -> tuple[Any, Any]:
    import math

    nan = math.nan
    if wanted in ("integer", "float"):
        return ok.ifelse(h2o_number(text), nan), ok
    if wanted == "boolean":
        truth = text.tolower().grep(f"^({'|'.join(TRUE_TEXT)})$", output_logical=True)
        return h2o_enum(ok.ifelse(truth, nan), ["false", "true"]), ok
    def part(start: int, end: int) -> Any:
        number = text.substring(start, end).asnumeric()
        return ok.ifelse(number, nan)
    if wanted == "date":
        stamp = h2o_moment(part(0, 4), part(5, 7), part(8, 10))
    else:
        hour, minute, second = part(11, 13), part(14, 16), part(17, 19)
        stamp = h2o_moment(part(0, 4), part(5, 7), part(8, 10), hour.isna().ifelse(0, hour),
                           minute.isna().ifelse(0, minute), second.isna().ifelse(0, second))
    return stamp, ok & (stamp.isna() == 0)  # a day the month does not have (02-30) has no moment


def h2o_number(text: Any) -> Any:
    """Numbers from text that matches TEXT["float"]. H2O's own conversion reads no exponent (1e3), so the
    mantissa and the exponent are read apart: the result may differ from a direct reading in the last digit."""
    mantissa = text.gsub("[eE].*$", "").asnumeric()
    exponent = text.gsub("^[^eE]*([eE]|$)", "").asnumeric()
    exponent = exponent.isna().ifelse(0, exponent)
    return (exponent >= 0).ifelse(mantissa * 10 ** exponent, mantissa / 10 ** (exponent * -1))


def h2o_from_number(frame: Any, name: str, wanted: str, present: Any) -> tuple[Any, Any]:
    import math

    column = frame[name]
    if wanted == "float":
        return column, None
    if wanted == "integer":
        ok = (column % 1 == 0) & (abs(column) < float(INT64))
        return ok.ifelse(column, math.nan), present & (ok == 0)
    if wanted == "boolean":
        ok = (column == 0) | (column == 1)
        return h2o_enum(ok.ifelse(column, math.nan), ["false", "true"]), present & (ok == 0)
    whole = (column % 1 == 0) & (abs(column) < 2.0**53)
    if int((present & (whole == 0)).sum()):
        raise DataError(f"CastColumns: H2O cannot write the numbers of column '{name}' as text faithfully (it does "
                        "only whole numbers below 2**53); run this step with engine: sklearn or spark")
    return column.ascharacter().asfactor(), None


def h2o_moment(year: Any, month: Any, day: Any, hour: Any = 0, minute: Any = 0, second: Any = 0) -> Any:
    import h2o

    return h2o.H2OFrame.moment(year=year, month=month, day=day, hour=hour, minute=minute, second=second)


CASTERS = {"sklearn": pandas_cast, "spark": spark_cast, "h2o": h2o_cast}
