"""SelectColumns and RenameColumns: which columns a frame has, and their names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, DataError, Node, Param, ParamProblem, is_arrow, with_columns
from emberflow.nodes.frame_columns import check_columns, check_names, h2o_renamed, names, spark_column

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext


class SelectColumns(Node):
    """Keep the columns listed in ``columns``, in that order, or remove those listed in ``drop``.

    The same on every engine: a column not in the data is an error naming it (with the close name), and dropping
    every column is refused.
    """

    kind = "transform"
    inputs = {"data": FRAME}
    outputs = {"data": FRAME}
    takes_arrow = True
    params = (
        Param("columns", "array", None, "the columns to keep, in the order wanted", items="string"),
        Param("drop", "array", None, "the columns to remove (the others are kept, in their order)", items="string"),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        """``columns``, or what later steps read and ``drop``. A later step that reads a dropped column, or only
        dropped ones, reads every column: its error (or this step's) then names them all."""
        if params["columns"]:
            return {"data": frozenset(c for c in params["columns"] if isinstance(c, str))}
        wanted, drop = needed.get("data"), {c for c in (params["drop"] or ()) if isinstance(c, str)}
        if wanted is None or wanted & drop or not wanted - drop:
            return {}
        return {"data": with_columns(wanted, params["drop"])}

    @classmethod
    def output_columns(cls, params: dict[str, Any], inputs: dict[str, list[str] | None]) -> dict[str, list[str]]:
        if params.get("columns"):
            return {"data": [str(c) for c in params["columns"]]}
        if inputs.get("data") is None:
            return {}
        dropped = set(params.get("drop") or ())
        return {"data": [c for c in inputs["data"] if c not in dropped]}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        given = [name for name in ("columns", "drop") if params[name] is not None]
        if len(given) != 1:
            raise ParamProblem("SelectColumns needs one of 'columns' (the columns to keep) or 'drop' (the columns "
                               f"to remove){', not both' if given else ''}", "drop" if given else None)
        check_names("SelectColumns", given[0], params[given[0]])

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame = inputs["data"]
        columns = names(frame, ctx.engine)
        keep = self.kept(columns, params)
        if ctx.engine == "spark":
            return frame.select(*[spark_column(c) for c in keep])
        if is_arrow(frame):
            return frame.select(keep)
        return frame[keep]  # pandas and H2O alike: a new frame of those columns

    @staticmethod
    def kept(columns: list[str], params: dict[str, Any]) -> list[str]:
        check_columns("SelectColumns", params["columns"] or params["drop"], columns)
        if params["columns"]:
            return list(params["columns"])
        keep = [c for c in columns if c not in set(params["drop"])]
        if not keep:
            raise DataError("SelectColumns: drop names every column of the data; keep at least one")
        return keep


class RenameColumns(Node):
    """Rename columns: ``mapping`` gives each old name its new one.

    The other columns keep their names, and the order stays. Names may be swapped (``{a: b, b: a}``); two
    columns may not end up with one name.
    """

    kind = "transform"
    inputs = {"data": FRAME}
    outputs = {"data": FRAME}
    params = (Param("mapping", "object", doc="old name: new name, for each column to rename"),)

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        """The old names of the columns needed, and every name in ``mapping``: a new name that is taken stays an
        error."""
        mapping, wanted = params["mapping"], needed.get("data")
        if wanted is None:
            return {}
        old_name = {new: old for old, new in mapping.items()}
        return {"data": with_columns(frozenset(old_name.get(c, c) for c in wanted), [*mapping, *mapping.values()])}

    @classmethod
    def output_columns(cls, params: dict[str, Any], inputs: dict[str, list[str] | None]) -> dict[str, list[str]]:
        mapping = params.get("mapping") if isinstance(params.get("mapping"), dict) else {}
        columns = inputs.get("data")
        return {} if columns is None else {"data": [str(mapping.get(c, c)) for c in columns]}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        mapping = params["mapping"]
        if not mapping:
            raise ParamProblem("parameter 'mapping' of RenameColumns is empty; give old name: new name", "mapping")
        targets: dict[str, str] = {}
        for old, new in mapping.items():
            if not isinstance(old, str) or not old:
                raise ParamProblem(f"RenameColumns: expected a column name as text, got {old!r}; quote it",
                                   "mapping", (str(old),), on_key=True)
            if not isinstance(new, str) or not new:
                raise ParamProblem(f"RenameColumns: the new name of '{old}' must be text, got {new!r}; quote it",
                                   "mapping", (old,))
            if new in targets:
                raise ParamProblem(f"RenameColumns: '{targets[new]}' and '{old}' are both renamed '{new}'; "
                                   "give each column a name of its own", "mapping", (old,))
            targets[new] = old

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame = inputs["data"]
        columns = names(frame, ctx.engine)
        new_names = renamed(columns, params["mapping"])
        if ctx.engine == "spark":
            return frame.select(*[spark_column(old).alias(new) for old, new in zip(columns, new_names, strict=True)])
        if ctx.engine == "h2o":
            return h2o_renamed(frame, new_names)
        return frame.set_axis(new_names, axis="columns")


def renamed(columns: list[str], mapping: dict[str, str]) -> list[str]:
    """The column names after renaming; a name that two columns would share is refused."""
    check_columns("RenameColumns", mapping, columns)
    new_names = [mapping.get(c, c) for c in columns]
    for name in new_names:
        if new_names.count(name) > 1:
            sources = [old for old, new in zip(columns, new_names, strict=True) if new == name]
            raise DataError(f"RenameColumns: columns {', '.join(repr(s) for s in sources)} would both be named "
                            f"'{name}'; rename or drop '{name}' too")
    return new_names
