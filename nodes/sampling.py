"""Sample and Limit: a random share of the rows, or the first rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, MAX_JAVA_INT, MAX_SEED, Node, Param, ParamProblem

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext


class Sample(Node):
    """Keep a random share of the rows: ``fraction`` of them, drawn with ``seed``, in their order.

    On the sklearn engine it is exactly ``round(fraction × rows)`` rows, chosen as pandas' ``DataFrame.sample``
    chooses them with ``random_state=seed``. On Spark (``sample(fraction, seed)``) and H2O (a uniform draw per
    row, kept below ``fraction``) each row is kept with probability ``fraction``: the count is close to, not
    exactly, that share, and the rows differ from pandas' with the same seed. On every engine the same seed
    gives the same rows of the same data (on Spark, read the same way: same file, same partitions).
    """

    kind = "transform"
    inputs = {"data": FRAME}
    keeps_columns = True
    outputs = {"data": FRAME}
    params = (
        Param("fraction", "number", doc="the share of rows to keep, above 0 and at most 1", minimum=0.0,
              maximum=1.0),
        Param("seed", "integer", 42, "the random seed (0 to 2**32 - 1, which every engine takes)",
              aliases=("random_state",), minimum=0, maximum=MAX_SEED),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        """On sklearn the rows picked depend on the row count only; H2O's and Spark's on how the frame is cut up,
        which its width may change."""
        return {"data": needed.get("data")} if engine == "sklearn" else {}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if params["fraction"] == 0.0:
            raise ParamProblem("parameter 'fraction' of Sample: expected a share above 0, got 0.0", "fraction")

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame, fraction, seed = inputs["data"], params["fraction"], params["seed"]
        if ctx.engine == "spark":
            return frame.sample(withReplacement=False, fraction=fraction, seed=seed)
        if ctx.engine == "h2o":
            return frame[frame.runif(seed=seed) < fraction, :]
        import numpy as np

        chosen = frame.reset_index(drop=True).sample(frac=fraction, random_state=seed).index.to_numpy()
        return frame.iloc[np.sort(chosen)]


class Limit(Node):
    """Keep the first ``rows`` rows (all of them if there are fewer).

    First in the frame's order: the file's for a frame just read. On Spark it is ``limit(rows)``, which takes the
    rows of the first partitions, in the file's order for a file just read; after a step that shuffles rows
    (Join), the rows it keeps are not defined.
    """

    kind = "transform"
    inputs = {"data": FRAME}
    keeps_columns = True
    outputs = {"data": FRAME}
    params = (
        Param("rows", "integer", doc="how many rows to keep", aliases=("n",), minimum=0, maximum=MAX_JAVA_INT),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        return {"data": needed.get("data")}

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Any:
        frame, rows = inputs["data"], params["rows"]
        if ctx.engine == "spark":
            return frame.limit(rows)
        if ctx.engine == "h2o":
            if min(rows, frame.nrows) == 0:  # H2O cannot slice no rows: a mask that is never true
                return frame[frame[0].isna() * 0 == 1, :]
            return frame[0:min(rows, frame.nrows), :]
        return frame.head(rows)
