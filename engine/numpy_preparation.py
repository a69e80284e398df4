"""A linear pipeline's preparation done with NumPy, for scoring a few rows at a time (a served request's).

A one-row call of a scikit-learn Pipeline of a ColumnTransformer and a linear estimator is mostly pandas and the
ColumnTransformer's checks and indexing (2.9 ms of CPU), while the arithmetic is a value put in a gap, ``x -= mean``
and ``x /= scale``, and a 1 per category. The ``params`` format's extractor (``formats.sklearn.linear_spec``)
already writes that preparation as a portable LinearModel's inputs, which apply it with the same NumPy operations
(bit for bit the same columns: 0.04 ms for a row of 8 numbers and 2 categories). The prepared rows then go to the
pipeline's own last step, so the coefficients, the sigmoid or softmax and the estimator's checks stay
scikit-learn's and every prediction is Score's exactly. (The portable model's own scoring is not used here:
NumPy's ``exp`` differs from SciPy's ``expit`` in the last bit for about 2 % of values.)

It is a property of the loaded model (``Model.numpy_preparation``), checked once when it is found: on probe rows
made from the input schema (every level, a missing and an unseen value of each categorical column; numbers,
extreme ones and missing ones of each numeric column), few and many at once, its columns and the model's answers
must equal the pipeline's exactly, or the model keeps scoring through the pipeline. Other models (forests,
boosting, a preparation the extractor cannot write) always do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Model
    from .portable import LinearModel

# Numbers of the probe rows (each numeric column starts at another one); NaN only where the model imputes.
PROBE_NUMBERS = (0.0, 1.0, -1.5, 2.5e3, -7.25, 1e-3, 42.0, -1e6, 3.3e-12)
UNSEEN = "\x00a category no training saw"


@dataclass(frozen=True)
class NumpyPreparation:
    """The pipeline's preparation as portable inputs (``linear``'s; its coefficients are not used), and the
    pipeline's last step, which scores what they make."""

    linear: LinearModel
    estimator: Any

    def model_columns(self, columns: Any):
        """The estimator's input columns from the conformed rows (``predictor.conformed_columns``)."""
        return self.linear.model_columns(columns)


def numpy_preparation(model: Model, log: Callable[[str], None] | None = None) -> NumpyPreparation | None:
    """``model``'s preparation done with NumPy, if it is a linear pipeline whose preparation the ``params``
    extractor writes and that gives the pipeline's answers on the probe rows; else None (``log`` says so when a
    preparation was found but disagreed)."""
    if model.engine != "sklearn" or not model.input_schema or model.numpy_preparation is not None:
        return model.numpy_preparation
    from .formats.sklearn import linear_spec, split_pipeline

    found = split_pipeline(model.obj)
    if found is None or found[0] is None or hasattr(found[1], "feature_names_in_"):
        return None  # no ColumnTransformer to spare, or an estimator that takes named columns
    try:
        linear = linear_spec(model)
    except Exception:  # an estimator or transformer of an unexpected make: the pipeline scores
        return None
    if linear is None:
        return None
    fast = NumpyPreparation(linear, found[1])
    if not agrees(model, fast, found[0]):
        if log is not None:
            log(f"the NumPy form of {model.model_class}'s preparation did not give the pipeline's answers on probe "
                "rows; its rows are prepared by the pipeline")
        return None
    return fast


def agrees(model: Model, fast: NumpyPreparation, transformer: Any) -> bool:
    """Whether ``fast`` prepares the probe rows as ``transformer`` does, and the model's answers are the same,
    exactly, for a few rows (converted value by value) and for many (column by column)."""
    import numpy as np

    from .predictor import FEW_VALUES, conform, conformed_columns

    few = probe_rows(model.input_schema, fast.linear)
    many = few.iloc[np.arange(FEW_VALUES + 1) % len(few)].reset_index(drop=True)
    try:
        for rows in (few, many):
            frame = conform(rows, model.input_schema)
            columns = fast.model_columns(conformed_columns(rows, model.input_schema))
            expected = transformer.transform(frame)
            if not (isinstance(expected, np.ndarray) and expected.dtype == columns.dtype
                    and np.array_equal(expected, columns)):
                return False
            answer = "predict" if model.is_regression else "predict_proba"
            if not np.array_equal(getattr(model.obj, answer)(frame), getattr(fast.estimator, answer)(columns)):
                return False
    except Exception:  # a failure on rows the pipeline scores: keep the pipeline
        return False
    return True


def probe_rows(schema: list[dict[str, Any]], linear: LinearModel):
    """Rows of the schema's columns: each numeric column's numbers (and gaps, where the model imputes them), each
    categorical column's levels, a gap and a category never seen, in turns that differ from column to column."""
    import pandas as pd

    imputed = {i.name for i in linear.inputs if getattr(i, "impute", None) is not None}
    values = {}
    for column in schema:
        name = column["name"]
        if column.get("kind") == "categorical":
            values[name] = [*map(str, column.get("levels") or []), None, UNSEEN]
        else:
            values[name] = [*PROBE_NUMBERS, *([float("nan")] if name in imputed else [])]
    rows = max(len(v) for v in values.values()) + len(values)
    probe = {name: [v[(i + j) % len(v)] for i in range(rows)] for j, (name, v) in enumerate(values.items())}
    kinds = {c["name"]: c.get("kind") for c in schema}
    return pd.DataFrame({name: pd.Series(v, dtype=object if kinds[name] == "categorical" else "float64")
                         for name, v in probe.items()})
