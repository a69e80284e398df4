"""Filter: keep the rows that match conditions written as data, never as code to evaluate."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import (
    FRAME,
    DataError,
    Node,
    Param,
    ParamProblem,
    did_you_mean,
    is_arrow,
    with_columns,
)
from emberflow.nodes.frame_columns import arrow_scalar, check_columns, kinds, names, spark_column, spark_missing

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext

ORDERING = ("<", "<=", ">", ">=")
OPS = ("==", "!=", *ORDERING, "in", "not_in", "is_null", "not_null")
CONDITION_KEYS = ("column", "op", "value")
# Other ways of writing an operator, for the hint ("=" is closer to ">=" than to "==" by spelling alone).
OP_SPELLINGS = {"=": "==", "<>": "!=", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=",
                "not in": "not_in", "notin": "not_in", "is null": "is_null", "isnull": "is_null", "null": "is_null",
                "not null": "not_null", "notnull": "not_null", "is not null": "not_null"}
COMPARABLE = ("number", "text", "boolean")


class Filter(Node):
    """Keep the rows that match ``conditions`` (all of them, or any: ``combine``), or the SQL condition ``where``.

    A condition is a mapping ``{column: age, op: ">=", value: 21}``. ``op`` is one of ``==``, ``!=``, ``<``,
    ``<=``, ``>``, ``>=`` (a value to compare with; the ordering ones need a number), ``in`` and ``not_in`` (a
    list of values), ``is_null`` and ``not_null`` (no value). A number compares with numeric columns, text with
    text columns, true and false with boolean columns.

    A condition on a missing value is false, whatever the operator (``!=`` and ``not_in`` included), except
    ``is_null``, which is true only there: so a row is kept or dropped alike on every engine. The rows that
    stay keep their order.

    ``where`` (instead of ``conditions``) is one SQL expression on the row's columns, true or false, such as
    ``age >= 21 AND sex = 'f'``: DuckDB's on the sklearn engine (the rows it picks are taken from the frame,
    which keeps its types and order), Spark SQL's on Spark (``frame.filter``). A row where it is null (a missing
    value) is dropped, as SQL's WHERE does. It is parsed as one expression, never run as a statement; H2O has no
    SQL, so ``where`` is refused on H2O when the workflow is checked (use ``conditions``, or the SQL node).

    On the sklearn engine, conditions on numbers and text filter an Arrow table (ReadCSV's, SQL's) as it is, keeping
    the rows and, once in pandas, the types that filtering its pandas frame gives; anything else runs on the pandas
    frame.
    """

    kind = "transform"
    inputs = {"data": FRAME}
    keeps_columns = True
    outputs = {"data": FRAME}
    takes_arrow = True
    params = (
        Param("conditions", "array", None, "the conditions: a list of {column, op, value}", items="object"),
        Param("combine", "string", "all", "all: keep a row matching every condition; any: one of them is enough",
              choices=("all", "any")),
        Param("where", "string", None, "instead of conditions, a SQL condition such as age >= 21 AND sex = 'f' "
              "(DuckDB's SQL on sklearn, Spark SQL on Spark)", engines=("sklearn", "spark")),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        """A ``where`` expression may name any column; conditions name theirs."""
        if params["where"] is not None:
            return {}
        return {"data": with_columns(needed.get("data"), [c["column"] for c in params["conditions"]])}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if params["where"] is not None:
            if params["conditions"] is not None:
                raise ParamProblem("Filter takes 'conditions' or 'where', not both; keep one", "where")
            if not params["where"].strip():
                raise ParamProblem("parameter 'where' of Filter is empty; write a condition such as age >= 21",
                                   "where")
            return
        if params["conditions"] is None:
            raise ParamProblem("Filter needs 'conditions' (a list of {column, op, value}) or, on sklearn and spark, "
                               "'where' (a SQL condition)")
        if not params["conditions"]:
            raise ParamProblem("parameter 'conditions' of Filter is empty; give at least one {column, op, value}",
                               "conditions")
        for index, condition in enumerate(params["conditions"]):
            check_condition(condition, index)

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame = inputs["data"]
        if is_arrow(frame):
            if arrow_filterable(frame, params):
                return arrow_filter(frame, params["conditions"], params["combine"] == "all")
            from emberflow.engine.api import to_pandas

            frame = to_pandas(frame)
        if params["where"] is not None:
            return sql_filter(frame, params["where"], ctx.engine)
        conditions = params["conditions"]
        columns = names(frame, ctx.engine)
        check_columns("Filter", [c["column"] for c in conditions], columns)
        column_kinds = kinds(frame, ctx.engine, {c["column"] for c in conditions})
        for number, condition in enumerate(conditions, 1):
            check_kinds(condition, column_kinds[condition["column"]], number)
        return FILTERS[ctx.engine](frame, conditions, params["combine"] == "all")


def sql_filter(frame: Any, where: str, engine: str) -> Any:
    from emberflow.nodes.sql import duckdb_where, spark_where

    return spark_where(frame, where) if engine == "spark" else duckdb_where(frame, where)


def check_condition(condition: Any, index: int) -> None:
    """One condition's shape, located at the key or value at fault."""
    where = (index,)
    if not isinstance(condition, dict):
        raise ParamProblem(f"Filter: condition {index + 1} must be a mapping {{column, op, value}}, got "
                           f"{condition!r}", "conditions", where)
    for key in condition:
        if key not in CONDITION_KEYS:
            hint = did_you_mean(key, CONDITION_KEYS)
            raise ParamProblem(f"Filter: unknown key '{key}' in condition {index + 1}{hint}; a condition has "
                               f"{', '.join(CONDITION_KEYS)}", "conditions", (index, key), True)
    column, op = condition.get("column"), condition.get("op")
    if not isinstance(column, str) or not column:
        raise ParamProblem(f"Filter: condition {index + 1} needs 'column', a column name, got {column!r}",
                           "conditions", where + (("column",) if "column" in condition else ()))
    if op not in OPS:
        hint = op_hint(op)
        raise ParamProblem(f"Filter: condition {index + 1} has op {op!r}{hint}; expected one of {', '.join(OPS)}",
                           "conditions", where + (("op",) if "op" in condition else ()))
    check_value(condition, op, index)


def op_hint(op: Any) -> str:
    if not isinstance(op, str):
        return ""
    spelled = OP_SPELLINGS.get(op.strip().lower())
    return f" (did you mean '{spelled}'?)" if spelled else did_you_mean(op, OPS)


def check_value(condition: dict, op: str, index: int) -> None:
    at = (index, "value")
    if op in ("is_null", "not_null"):
        if "value" in condition:
            raise ParamProblem(f"Filter: condition {index + 1} ({op}) takes no value; remove it", "conditions", at,
                               True)
        return
    if "value" not in condition:
        raise ParamProblem(f"Filter: condition {index + 1} ({op}) needs a value", "conditions", (index,))
    value = condition["value"]
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise ParamProblem(f"Filter: condition {index + 1} ({op}) needs a list of values, got {value!r}",
                               "conditions", at)
        for item, element in enumerate(value):
            check_scalar(element, index, (index, "value", item))
        if len({value_kind(v) for v in value}) > 1:
            raise ParamProblem(f"Filter: the values of condition {index + 1} mix numbers, text and true/false; "
                               "give values of one kind", "conditions", at)
        return
    check_scalar(value, index, at)
    if op in ORDERING and value_kind(value) != "number":
        raise ParamProblem(f"Filter: condition {index + 1} ({op}) compares with {value!r}; {op} needs a number",
                           "conditions", at)


def check_scalar(value: Any, index: int, at: tuple) -> None:
    if value is None:
        raise ParamProblem(f"Filter: condition {index + 1} compares with null; use op is_null or not_null",
                           "conditions", at)
    if not isinstance(value, bool | int | float | str):
        raise ParamProblem(f"Filter: condition {index + 1}: expected a number, text, true or false, got {value!r}",
                           "conditions", at)
    if isinstance(value, float) and not math.isfinite(value):
        raise ParamProblem(f"Filter: condition {index + 1}: expected a finite number, got {value}", "conditions", at)
    if isinstance(value, int) and not isinstance(value, bool) and not -2**63 <= value < 2**63:
        raise ParamProblem(f"Filter: condition {index + 1}: expected a number from -2**63 to 2**63 - 1, got "
                           f"{repr(value):.40}...", "conditions", at)


def value_kind(value: Any) -> str:
    return "boolean" if isinstance(value, bool) else "text" if isinstance(value, str) else "number"


def values_of(condition: dict) -> list[Any]:
    value = condition.get("value")
    return value if isinstance(value, list) else [value]


def check_kinds(condition: dict, kind: str, number: int) -> None:
    """A comparison needs a value of the column's kind (at run time, when the column's type is known)."""
    op, column = condition["op"], condition["column"]
    if op in ("is_null", "not_null"):
        return
    if kind not in COMPARABLE:
        raise DataError(f"Filter: condition {number} compares column '{column}', a {kind} column; conditions "
                        "compare number, text and boolean columns (is_null and not_null take any column)")
    wanted = value_kind(values_of(condition)[0])
    if wanted != kind:
        raise DataError(f"Filter: condition {number} compares {kind} column '{column}' with {wanted} "
                        f"{condition['value']!r}; give a {kind} value")
    if op in ORDERING and kind != "number":
        raise DataError(f"Filter: condition {number} orders {kind} column '{column}' ({op}); only numbers are ordered")


# ----- pandas -----

def pandas_filter(frame: Any, conditions: list[dict], every: bool) -> Any:
    masks = [pandas_condition(frame[c["column"]], c) for c in conditions]
    keep = masks[0]
    for mask in masks[1:]:
        keep = keep & mask if every else keep | mask
    return frame[keep.to_numpy(dtype=bool)]


def pandas_condition(series: Any, condition: dict) -> Any:
    import operator

    op = condition["op"]
    missing = series.isna()
    if op == "is_null":
        return missing
    if op == "not_null":
        return ~missing
    if op in ("in", "not_in"):
        matches = series.isin(condition["value"])
        return (matches if op == "in" else ~matches) & ~missing
    compare = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
               ">=": operator.ge}[op]
    present = series.where(~missing)
    result = compare(present, condition["value"]).fillna(False).astype(bool)
    return result & ~missing


# ----- Arrow (the sklearn engine's frame before it becomes pandas) -----

ARROW_OPS = ("==", "!=", *ORDERING, "is_null", "not_null")


def arrow_filterable(table: Any, params: dict[str, Any]) -> bool:
    """Whether the conditions compare int64, float64 or text columns of ``table`` with values of their kind, so
    that Arrow keeps the rows pandas would keep (and no condition is refused), and no boolean column has missing
    values (pandas holds it as objects, which it still is once no missing value is left, where Arrow's would
    become bool). Anything else, ``where`` included, runs on the table's pandas frame."""
    import pyarrow as pa

    if params["where"] is not None or any(pa.types.is_boolean(c.type) and c.null_count for c in table.columns):
        return False
    for condition in params["conditions"]:
        if condition["column"] not in table.column_names or condition["op"] not in ARROW_OPS:
            return False
        kind = table.schema.field(condition["column"]).type
        wanted = "text" if pa.types.is_string(kind) else "number" if pa.types.is_int64(kind) or \
            pa.types.is_float64(kind) else None
        if wanted is None or "value" in condition and value_kind(condition["value"]) != wanted:
            return False
    return True


def arrow_filter(table: Any, conditions: list[dict], every: bool) -> Any:
    """The rows kept, in order. Integer columns with missing values first become float64, as they are in pandas
    and stay there when the missing values are filtered out."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.table([c.cast(pa.float64(), safe=False) if pa.types.is_integer(c.type) and c.null_count else c
                      for c in table.columns], names=table.column_names)
    masks = [arrow_condition(table[c["column"]], c) for c in conditions]
    keep = masks[0]
    for mask in masks[1:]:
        keep = pc.and_(keep, mask) if every else pc.or_(keep, mask)
    return table.filter(keep)


def arrow_condition(column: Any, condition: dict) -> Any:
    """A condition's mask, false where the value is missing (null, or NaN as pandas has it), as pandas compares:
    an int64 column with missing values is float64 there, and an int64 column meets a fraction as float64."""
    import pyarrow as pa
    import pyarrow.compute as pc

    op = condition["op"]
    missing = pc.is_null(column, nan_is_null=True)
    if op in ("is_null", "not_null"):
        return missing if op == "is_null" else pc.invert(missing)
    value = condition["value"]
    if pa.types.is_string(column.type):
        scalar = arrow_scalar(value, pa.string())
    elif pa.types.is_int64(column.type) and not column.null_count and isinstance(value, int):
        scalar = arrow_scalar(value, pa.int64())
    else:
        column, scalar = column.cast(pa.float64(), safe=False), arrow_scalar(float(value), pa.float64())
    compare = {"==": pc.equal, "!=": pc.not_equal, "<": pc.less, "<=": pc.less_equal, ">": pc.greater,
               ">=": pc.greater_equal}[op]
    return pc.and_kleene(compare(column, scalar), pc.invert(missing))


# ----- Spark -----

def spark_filter(frame: Any, conditions: list[dict], every: bool) -> Any:
    from functools import reduce

    from pyspark.sql import functions as F

    masks = [F.coalesce(spark_condition(frame, c), F.lit(False)) for c in conditions]
    keep = reduce(lambda a, b: (a & b) if every else (a | b), masks)
    return frame.where(keep)


def spark_condition(frame: Any, condition: dict) -> Any:
    op, name = condition["op"], condition["column"]
    missing = spark_missing(frame, name)
    if op == "is_null":
        return missing
    if op == "not_null":
        return ~missing
    column = spark_column(name)
    if op in ("in", "not_in"):
        matches = column.isin(condition["value"])
        return (matches if op == "in" else ~matches) & ~missing
    value = condition["value"]
    compared = {"==": column == value, "!=": column != value, "<": column < value, "<=": column <= value,
                ">": column > value, ">=": column >= value}[op]
    return compared & ~missing


# ----- H2O -----

def h2o_filter(frame: Any, conditions: list[dict], every: bool) -> Any:
    masks = [h2o_condition(frame, c) for c in conditions]
    keep = masks[0]
    for mask in masks[1:]:
        keep = keep & mask if every else keep | mask
    return frame[keep, :]


def h2o_condition(frame: Any, condition: dict) -> Any:
    """A 0/1 column; a comparison with a missing value is 0 (H2O's comparisons give NA, or 1 for an enum's
    !=, there)."""
    op, name = condition["op"], condition["column"]
    column = frame[name]
    missing = column.isna()
    if op == "is_null":
        return missing
    present = missing == 0
    if op == "not_null":
        return present
    kind = kinds(frame, "h2o", [name])[name]
    values = values_of(condition)
    if kind == "boolean":  # an enum of true/false levels, in whatever case: compared as lower-case text
        column = column.ascharacter().tolower()
        values = ["true" if v else "false" for v in values]
    if op in ("in", "not_in"):
        matches = column.isin(values)
        return (matches if op == "in" else matches == 0) & present
    value = values[0]
    compared = {"==": column == value, "!=": column != value, "<": column < value, "<=": column <= value,
                ">": column > value, ">=": column >= value}[op]
    return compared & present


FILTERS = {"sklearn": pandas_filter, "spark": spark_filter, "h2o": h2o_filter}
