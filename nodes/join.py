"""Join: two frames side by side, their rows matched on key columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, DataError, Node, Param, ParamProblem
from emberflow.nodes.frame_columns import (
    check_columns,
    check_names,
    h2o_refreshed,
    h2o_renamed,
    kinds,
    names,
    spark_column,
)

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext

HOWS = ("inner", "left", "right", "full")


class Join(Node):
    """Join the ``left`` and ``right`` frames on the key columns ``keys``, named alike in both.

    Rename one side's keys first with RenameColumns when their names differ. (The parameter is not called ``on``:
    YAML reads a bare ``on`` as true.)

    ``how``: ``inner`` keeps the rows whose keys are in both frames, ``left`` every row of the left frame,
    ``right`` every row of the right one, ``full`` every row of both; where a row has no match, the other
    frame's columns are missing. A key matched by several rows gives a row per pair. A missing key value
    matches nothing, on every engine (pandas alone would match missing with missing).

    The result has the left frame's columns, then the right frame's other than the keys. The keys appear once,
    with the value of whichever side has the row. Other columns that both frames have are told apart by
    ``suffixes`` (``x`` becomes ``x_left`` and ``x_right``). The keys must be of one kind on both sides
    (numbers, text, true/false). The rows come in no particular order: the engines order them differently.

    On H2O this is H2O's merge; H2O has no full join, so ``full`` is the left join plus the right rows that
    match nothing, appended.
    """

    kind = "transform"
    inputs = {"left": FRAME, "right": FRAME}
    outputs = {"data": FRAME}
    params = (
        Param("keys", "array", doc="the key columns, named alike in both frames", items="string", aliases=("on",)),
        Param("how", "string", "inner", "which rows to keep: inner, left, right or full", choices=HOWS),
        Param("suffixes", "array", ["_left", "_right"], "added to the names of the other columns both frames "
              "have: the left's, then the right's", items="string"),
    )

    @classmethod
    def output_columns(cls, params: dict[str, Any], inputs: dict[str, list[str] | None]) -> dict[str, list[str]]:
        """The left's columns, then the right's other than the keys; a name both have gets its side's suffix."""
        left, right, keys = inputs.get("left"), inputs.get("right"), params.get("keys")
        suffixes = params.get("suffixes") or ["_left", "_right"]
        if left is None or right is None or not isinstance(keys, list) or len(suffixes) != 2:
            return {}
        both = (set(left) & set(right)) - set(keys)
        return {"data": [f"{c}{suffixes[0]}" if c in both else c for c in left]
                + [f"{c}{suffixes[1]}" if c in both else c for c in right if c not in keys]}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        check_names("Join", "keys", params["keys"])
        suffixes = params["suffixes"]
        if len(suffixes) != 2 or suffixes[0] == suffixes[1]:
            raise ParamProblem(f"parameter 'suffixes' of Join must be two different suffixes (left, right), got "
                               f"{suffixes!r}", "suffixes")

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        left, right = inputs["left"], inputs["right"]
        plan = JoinPlan(left, right, ctx.engine, params)
        return JOINS[ctx.engine](left, right, plan)


class JoinPlan:
    """The names on each side and in the result, checked: keys present, of one kind, no name taken twice."""

    def __init__(self, left: Any, right: Any, engine: str, params: dict[str, Any]):
        self.keys, self.how = list(params["keys"]), params["how"]
        left_columns, right_columns = names(left, engine), names(right, engine)
        check_columns("Join", self.keys, left_columns, "the left frame has no key column")
        check_columns("Join", self.keys, right_columns, "the right frame has no key column")
        left_kinds, right_kinds = kinds(left, engine, self.keys), kinds(right, engine, self.keys)
        for key in self.keys:
            if left_kinds[key] != right_kinds[key] or left_kinds[key] not in ("number", "text", "boolean"):
                raise DataError(f"Join: key '{key}' is a {left_kinds[key]} column on the left and a "
                                f"{right_kinds[key]} column on the right; keys must be numbers, text or booleans "
                                "on both sides (CastColumns converts a column)")
        shared = set(left_columns) & set(right_columns) - set(self.keys)
        left_suffix, right_suffix = params["suffixes"]
        self.left_names = {c: c + left_suffix if c in shared else c for c in left_columns}
        self.right_names = {c: c + right_suffix if c in shared else c for c in right_columns if c not in self.keys}
        self.output = list(self.left_names.values()) + list(self.right_names.values())
        for name in self.output:
            if self.output.count(name) > 1:
                raise DataError(f"Join: the result would have two columns named '{name}' (a suffix added to a "
                                "column both frames have makes the name of another); choose other suffixes")


# ----- pandas -----

def pandas_join(left: Any, right: Any, plan: JoinPlan) -> Any:
    """pandas' merge on the rows whose keys are all present; the rows with a missing key are added back
    unmatched for the sides the join keeps whole (pandas would match a missing key with a missing key)."""
    import pandas as pd

    left = left.rename(columns=plan.left_names)
    right = right.rename(columns=plan.right_names)
    left_keyed = left[plan.keys].notna().all(axis=1)
    right_keyed = right[plan.keys].notna().all(axis=1)
    how = "outer" if plan.how == "full" else plan.how
    parts = [left[left_keyed].merge(right[right_keyed], how=how, on=plan.keys, sort=False)]
    if plan.how in ("left", "full") and not left_keyed.all():
        parts.append(left[~left_keyed])
    if plan.how in ("right", "full") and not right_keyed.all():
        parts.append(right[~right_keyed])
    parts = [part for part in parts if len(part)] or parts[:1]
    joined = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    return joined.reindex(columns=plan.output)


# ----- Spark -----

def spark_join(left: Any, right: Any, plan: JoinPlan) -> Any:
    """A join on an explicit condition, the right side's columns under temporary names first (so a frame joined
    with itself is no ambiguity), a NaN key treated as missing (Spark would match NaN with NaN)."""
    from functools import reduce

    from pyspark.sql import functions as F

    right_columns = names(right, "spark")
    hidden = {c: f"__emberflow_right_{i}" for i, c in enumerate(right_columns)}
    renamed_right = right.select(*[spark_column(c).alias(hidden[c]) for c in right_columns])

    def match(key: str) -> Any:
        same = spark_column(key) == F.col(hidden[key])
        if spark_floating(left, key) or spark_floating(right, key):  # Spark matches NaN with NaN: not a key
            same = same & ~F.isnan(spark_column(key)) & ~F.isnan(F.col(hidden[key]))
        return same

    condition = reduce(lambda a, b: a & b, [match(k) for k in plan.keys])
    joined = left.join(renamed_right, on=condition, how={"full": "full_outer"}.get(plan.how, plan.how))
    columns = []
    for old, new in plan.left_names.items():
        if old in plan.keys:
            pick = {"inner": [spark_column(old)], "left": [spark_column(old)], "right": [F.col(hidden[old])],
                    "full": [spark_column(old), F.col(hidden[old])]}[plan.how]
            columns.append((F.coalesce(*pick) if len(pick) > 1 else pick[0]).alias(new))
        else:
            columns.append(spark_column(old).alias(new))
    columns += [F.col(hidden[old]).alias(new) for old, new in plan.right_names.items()]
    return joined.select(*columns)


def spark_floating(frame: Any, name: str) -> bool:
    return frame.schema[name].dataType.typeName() in ("float", "double")


# ----- H2O -----

def h2o_join(left: Any, right: Any, plan: JoinPlan) -> Any:
    """H2O's merge, as a left join only, its columns put back in order (it puts the keys first).

    H2O's merge fails when the frame whose rows it looks up (the right one of a left or inner join) has a
    missing key, so those rows, which match nothing, are left out of that side first. A right join is the left
    join of the frames swapped; a full join is the left join plus the rows of the swapped one that no left row
    matched, told by a marker column the left rows carry.
    """
    left = h2o_text_keys(h2o_renamed(left, list(plan.left_names.values())), plan.keys)
    right_names = [c if c in plan.keys else plan.right_names[c] for c in names(right, "h2o")]
    right = h2o_text_keys(h2o_renamed(right, right_names), plan.keys)

    def merged(x: Any, y: Any, keep_x: bool) -> Any:
        return x.merge(h2o_keyed(y, plan.keys), all_x=keep_x, by_x=plan.keys, by_y=plan.keys)

    if plan.how in ("inner", "left"):
        return merged(h2o_keyed(left, plan.keys) if plan.how == "inner" else left, right, plan.how == "left")[
            plan.output]
    if plan.how == "right":
        return merged(right, left, True)[plan.output]
    marker = "__emberflow_left_row"
    left[marker] = 1
    every_right = merged(right, left, True)
    unmatched = every_right[every_right[marker].isna(), plan.output]
    matched = merged(left, right, True)[plan.output]
    return matched.rbind(unmatched) if unmatched.nrows else matched


def h2o_keyed(frame: Any, keys: list[str]) -> Any:
    """The rows of ``frame`` with every key present."""
    missing = frame[keys].isna().sum(axis=1, return_frame=True)
    return frame[missing == 0, :]


def h2o_text_keys(frame: Any, keys: list[str]) -> Any:
    """H2O merges text keys as categorical (enum) columns: a key of H2O's string type becomes one. ``frame`` is
    the step's own copy."""
    types = frame.types
    strings = [key for key in keys if types[key] == "string"]
    for key in strings:
        frame[key] = frame[key].asfactor()
    return h2o_refreshed(frame) if strings else frame


JOINS = {"sklearn": pandas_join, "spark": spark_join, "h2o": h2o_join}
