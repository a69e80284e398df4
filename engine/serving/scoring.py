"""Rows into predictions, through the task-aware predictor that Score uses (``engine.predictor.predict``), so
that each prediction is what Score's ``prediction`` column holds for the same row: the rows are checked against
the model's input schema (a missing column, text in a numeric column, ``unknown_category: error``) and prepared
by the preparation inside the model, as in batch scoring. Extra columns are left out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .payload import RequestError, beyond_double

if TYPE_CHECKING:
    from .holder import Served


@dataclass
class Scored:
    """What the model answered for each row: ``predictions`` (classes or numbers, as JSON values) and, for a
    classifier, ``probabilities`` (a list per row, one per class in the order of ``classes``), made from the
    predictor's array ``proba`` when asked for: most requests do not ask, and for 1,000 rows of two classes the
    lists cost 0.4 ms."""

    predictions: list[Any]
    proba: Any
    classes: list[Any]
    task: str

    @cached_property
    def probabilities(self) -> list[list[float]] | None:
        if self.proba is None:
            return None
        rows = self.proba.tolist() if hasattr(self.proba, "tolist") else self.proba
        return [finite_values(list(row)) for row in rows]


def score(served: Served, frame) -> Scored:
    """The served model's answer for ``frame``'s rows (a pandas frame whose values are plain: ``payload.frame_of``
    checked a JSON body's, ``check_finite`` a CSV body's numbers)."""
    prediction = served.predict(frame)
    classes = [c.item() if hasattr(c, "item") else c for c in prediction.classes]
    return Scored(json_values(prediction.values), prediction.proba, classes, prediction.task)


def check_finite(frame, features: list[str]) -> None:
    """Refuse a number beyond a double's range (read as infinite from ``1e999`` or a very long integer) in a
    feature column, naming the column and row: the model would fail on it, or answer nonsense. (A JSON body's
    values are checked as they are read, in ``payload.check_plain``: this checks a CSV body's float columns.)"""
    import numpy as np

    kinds = {name: dtype.kind for name, dtype in frame.dtypes.items()}
    for name in (f for f in features if kinds.get(f) == "f"):
        infinite = np.isinf(frame[name].to_numpy())
        if infinite.any():
            raise RequestError(f"column '{name}' holds {beyond_double(int(infinite.argmax()) + 1)}")


def json_values(values) -> list[Any]:
    """A prediction array as JSON values: NumPy's scalars as Python's, a non-finite number as null."""
    listed = values.tolist()
    if getattr(values, "dtype", None) is not None and values.dtype.kind == "f":
        return finite_values(listed)
    return listed


def finite_values(values: list[Any]) -> list[Any]:
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]
