"""The predictor's conforming of a few rows (value by value, as served requests have) gives the same values and
dtypes as its column by column conforming of larger frames, and the same errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from emberflow.engine import predictor
from emberflow.engine.errors import DataError

SCHEMA = [
    {"name": "number", "kind": "numeric"},
    {"name": "whole", "kind": "numeric"},
    {"name": "flag", "kind": "numeric"},
    {"name": "text", "kind": "categorical", "levels": ["a", "b"]},
    {"name": "mixed", "kind": "categorical"},
    {"name": "codes", "kind": "categorical"},
    {"name": "reals", "kind": "categorical"},
    {"name": "truth", "kind": "categorical"},
    {"name": "typed", "kind": "categorical"},
    {"name": "gaps", "kind": "numeric"},
]


def rows() -> pd.DataFrame:
    return pd.DataFrame({
        "number": [1.5, np.nan, -2.0, 1e300],
        "whole": np.array([1, 2, 3, 4], dtype="int32"),
        "flag": [True, False, True, True],
        "gaps": np.array([None, 2, 3.5, None], dtype=object),  # as JSON's numbers and nulls come
        "text": np.array(["a", None, "b", "z"], dtype=object),
        "mixed": np.array([True, 3, 2.5, None], dtype=object),
        "codes": [3, 4, 5, 600],
        "reals": [3.0, np.nan, 0.1, 2.5],
        "truth": [False, True, True, False],
        "typed": pd.array(["x", None, "y", "x"], dtype="str"),
        "extra": ["left", "out", "of", "it"],
    })


def by_columns(frame, schema, unknown="ignore", monkeypatch=None):
    monkeypatch.setattr(predictor, "FEW_VALUES", 0)
    try:
        return predictor.conform(frame, schema, unknown)
    finally:
        monkeypatch.undo()


def test_few_rows_conform_as_many_do(monkeypatch: pytest.MonkeyPatch):
    frame = rows()
    small = predictor.conform(frame, SCHEMA)
    assert predictor.conform_small(frame, SCHEMA) is not None  # the value by value path did convert them
    pd.testing.assert_frame_equal(small, by_columns(frame, SCHEMA, monkeypatch=monkeypatch))
    assert small["mixed"].tolist()[:3] == ["true", "3", "2.5"] and small["codes"].tolist()[0] == "3"


def test_other_columns_and_their_errors_go_the_column_way(monkeypatch: pytest.MonkeyPatch):
    texts = pd.DataFrame({"number": ["1.5", "x"]})
    assert predictor.conform_small(texts, SCHEMA[:1]) is None
    with pytest.raises(DataError, match="holds 'x' in row 2"):
        predictor.conform(texts, SCHEMA[:1])
    unseen = rows().iloc[[3]]
    with pytest.raises(DataError, match="'z' in row 1"):
        predictor.conform(unseen, [SCHEMA[3]], "error")
