"""The node interface that built-in nodes and plugins implement.

A node declares its ports and parameters as class attributes, and runs through one method per engine:
``run_sklearn``, ``run_spark``, ``run_h2o``. Which engines a node supports is read from the methods it has, so
validation can refuse ``engine: h2o`` on a node that has no ``run_h2o``. A node that works the same on every
engine (SaveModel, say) overrides ``run`` instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .params import Param

if TYPE_CHECKING:
    from .context import StepContext

FRAME = "frame"
MODEL = "model"
ANY = "any"
PORT_TYPES = (FRAME, MODEL, ANY)

ENGINES = ("sklearn", "spark", "h2o")
ENGINE_ALIASES = {"pandas": "sklearn", "pyspark": "spark"}

# What later steps read of a frame: a set of column names, or None for every column (or not known).
ColumnNeeds = frozenset[str] | None

KINDS = ("dataset", "transform", "ml-estimator", "ml-modelsave", "ml-modelload", "ml-predict", "dataset-save")


class Node:
    """Base class of every node. Subclasses set ``inputs``, ``outputs``, ``params`` and a ``run_<engine>``."""

    kind: ClassVar[str] = "transform"
    inputs: ClassVar[dict[str, str]] = {}
    # The type of the further input ports a step may add under names of its own (letters, digits and _, not
    # starting with a digit), beside the declared ``inputs``, which are all required; None: no further ports.
    # The SQL node takes any number of frames this way, each a table named by its port.
    extra_inputs: ClassVar[str | None] = None
    outputs: ClassVar[dict[str, str]] = {}
    params: ClassVar[tuple[Param, ...]] = ()
    # True for a node that works batch by batch on the sklearn engine: it is handed FrameBatches as they come
    # (ReadCSV's batch_rows) instead of being refused them.
    takes_batches: ClassVar[bool] = False
    # True for a node that, on the sklearn engine, takes its input frames as Arrow tables (pyarrow.Table) as well
    # as pandas frames (see engine/frames.py); any other node gets pandas frames. Any node may return an Arrow
    # table on the sklearn engine: the runner turns it into pandas before a step whose node does not take Arrow.
    takes_arrow: ClassVar[bool] = False
    # True for a node whose frame outputs have the columns of its ``data`` input (a filter, a split, a sample):
    # what ``output_columns`` says by default.
    keeps_columns: ClassVar[bool] = False

    @classmethod
    def node_name(cls) -> str:
        return cls.__name__

    @classmethod
    def description(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.split("\n\n")[0].replace("\n", " ") if doc else cls.node_name()

    @classmethod
    def engines(cls) -> tuple[str, ...]:
        """The engines this node runs on: every one if it overrides ``run``, else those with ``run_<engine>``."""
        if cls.run is not Node.run:
            return ENGINES
        return tuple(e for e in ENGINES if callable(getattr(cls, f"run_{e}", None)))

    @classmethod
    def why_not_on(cls, engine: str) -> str:
        """Why the node does not run on ``engine``, as a clause that ends the validator's refusal ("; ...")."""
        return ""

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        """Checks across parameters, at validation time. Raise ``ParamProblem(message, key)`` on a problem."""

    @classmethod
    def input_type(cls, port: str) -> str | None:
        """The type of input ``port``: a declared port's, else that of the further ports (None: no such port)."""
        return cls.inputs.get(port, cls.extra_inputs)

    @classmethod
    def default_output(cls) -> str | None:
        return next(iter(cls.outputs), None)

    @classmethod
    def output_columns(cls, params: dict[str, Any], inputs: dict[str, list[str] | None]) -> dict[str, list[str]]:
        """The columns of each frame output as far as they are known before running (the editor's column pickers
        offer them), from the parameters and ``inputs``, each input port's columns (None: unknown). Ports left
        out are unknown. Cheap and side-effect free: it runs on every edit in the editor."""
        data = inputs.get("data")
        if not cls.keeps_columns or data is None:
            return {}
        return {port: list(data) for port, kind in cls.outputs.items() if kind == FRAME}

    @classmethod
    def input_columns_needed(cls, params: dict[str, Any], needed: dict[str, ColumnNeeds],
                             engine: str) -> dict[str, ColumnNeeds]:
        """The columns the step reads of each frame input on ``engine``, given ``needed``: what later steps read
        of each of its frame outputs (None: every column). Ports left out: every column, the default. The runner
        works this out from the last step back, so that ReadCSV converts only the columns a workflow uses.

        A node names fewer columns only when a frame of just those gives the same rows in the columns needed, and
        the same errors: the columns its parameters name are always among them (a missing one stays an error).
        Cheap and side-effect free, like ``output_columns``."""
        return {}

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        """Run on ``ctx.engine``. Return a mapping of output port to value, or the value of the only output."""
        method = getattr(self, f"run_{ctx.engine}", None)
        if method is None:  # validation refuses this before a run; kept for direct callers
            raise NotImplementedError(f"{self.node_name()} does not run on engine {ctx.engine}")
        return method(ctx, inputs, params)

    @classmethod
    def definition(cls) -> dict[str, Any]:
        """The node as a visual tool defines one: name, description, type, ports, fields."""
        return {
            "name": cls.node_name(),
            "description": cls.description(),
            "type": cls.kind,
            "engines": list(cls.engines()),
            "inputs": [{"name": k, "type": v} for k, v in cls.inputs.items()],
            "extra_inputs": cls.extra_inputs,
            "outputs": [{"name": k, "type": v} for k, v in cls.outputs.items()],
            "fields": [p.describe() for p in cls.params],
        }


def with_columns(needed: ColumnNeeds, columns: Any) -> ColumnNeeds:
    """``needed`` and ``columns`` (names, or anything else: ignored, validation reports it): what a node that keeps
    its input's columns reads when its parameters name ``columns``. None stays None (every column)."""
    if needed is None:
        return None
    return needed | {c for c in (columns or ()) if isinstance(c, str)}
