"""SplitData: a frame into a train part and a test part."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emberflow.engine.api import FRAME, MAX_SEED, DataError, Node, Param, ParamProblem, did_you_mean, with_columns

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext


class SplitData(Node):
    """Split a frame into ``train`` and ``test`` parts.

    On the sklearn engine this is exactly scikit-learn's ``train_test_split`` with ``random_state=seed``, so the
    same seed gives the same rows as a hand-written script.

    On Spark it is ``randomSplit([1 - test_size, test_size], seed)``: each row goes to the test part with
    probability ``test_size``, so the parts' sizes are close to, not exactly, the shares asked for, and the rows
    differ from scikit-learn's split with the same seed. The same seed gives the same split of the same data
    read the same way (same file, same partitions).

    On H2O it is ``split_frame(ratios=[1 - test_size], seed=seed)``, which also draws each row's part at random:
    the sizes are close to the shares asked for, and the same seed gives the same split of the same frame.
    """

    kind = "transform"
    inputs = {"data": FRAME}
    keeps_columns = True
    outputs = {"train": FRAME, "test": FRAME}
    params = (
        Param("test_size", "number", 0.25, "the share of rows in the test part", minimum=0.0, maximum=1.0),
        Param("seed", "integer", 42, "the random seed (0 to 2**32 - 1, which every engine takes); the same seed "
              "gives the same split", aliases=("random_state",), minimum=0, maximum=MAX_SEED),
        Param("stratify", "string", None, "a column whose class proportions both parts keep", engines=("sklearn",)),
        Param("shuffle", "boolean", True, "shuffle before splitting", engines=("sklearn",)),
    )

    @classmethod
    def input_columns_needed(cls, params, needed, engine):
        """On sklearn the rows of each part depend on the row count (and ``stratify``'s column) only; H2O's and
        Spark's on how the frame is cut up, which its width may change."""
        train, test = needed.get("train"), needed.get("test")
        if engine != "sklearn" or train is None or test is None:
            return {}
        return {"data": with_columns(train | test, [params["stratify"]] if params["stratify"] else ())}

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if params["test_size"] in (0.0, 1.0):  # the range check lets the ends through; no split can take them
            raise ParamProblem(f"parameter 'test_size' of SplitData: expected a share between 0 and 1, exclusive, "
                               f"got {params['test_size']}", "test_size")

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        from sklearn.model_selection import train_test_split

        frame = inputs["data"]
        test_size = check_test_size(params["test_size"])
        stratify = None
        if params["stratify"]:
            if params["stratify"] not in frame.columns:
                raise DataError(f"SplitData: no column '{params['stratify']}' to stratify by"
                                f"{did_you_mean(params['stratify'], frame.columns)}; columns: "
                                f"{', '.join(map(str, frame.columns))}")
            stratify = frame[params["stratify"]]
        try:
            train, test = train_test_split(frame, test_size=test_size, random_state=params["seed"],
                                           shuffle=params["shuffle"], stratify=stratify)
        except ValueError as exc:
            raise DataError(f"SplitData: cannot split {len(frame)} rows: {exc}") from None
        return {"train": train, "test": test}

    def run_spark(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        test_size = check_test_size(params["test_size"])
        train, test = inputs["data"].randomSplit([1.0 - test_size, test_size], seed=params["seed"])
        return {"train": train, "test": test}

    def run_h2o(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]):
        test_size = check_test_size(params["test_size"])
        train, test = inputs["data"].split_frame(ratios=[1.0 - test_size], seed=params["seed"])
        return {"train": train, "test": test}


def check_test_size(test_size: float) -> float:
    if not 0.0 < test_size < 1.0:
        raise DataError(f"SplitData: test_size must be between 0 and 1 (exclusive), got {test_size}")
    return test_size
