"""Manual serialization of linear models: a JSON file of the preparation and coefficients that scores without
the library that trained it, with NumPy alone.

The document (version 2)::

    {"format": "emberflow.linear/2", "kind": "logistic_regression", "task": "classification",
     "features": ["bill_length", "island"],
     "inputs": [{"name": "bill_length", "kind": "numeric", "impute": 43.9, "center": 43.9, "scale": 5.46},
                {"name": "island", "kind": "categorical", "levels": ["Biscoe", "Dream", null],
                 "missing_level": 2, "unseen_level": null}],
     "classes": ["Adelie", "Gentoo"], "coef": [[...]], "intercept": [...], "threshold": 0.5, "multinomial": false}

``features`` are the raw columns the model takes. ``inputs`` turn them into the columns the coefficients apply
to, in the order of those columns:

- a numeric input is one column: the value, a missing one replaced by ``impute`` (``null``: a missing value is
  an error), then ``(value - center) / scale`` where the model standardized it (``null`` where it did not);
- a categorical input is one column per entry of ``levels``: 1 where the value's text is that level, else 0
  (texts as ``emberflow.engine.predictor`` gives them: ``true``, ``3``, ``Dream``). A ``null`` level is the
  missing value's own. ``missing_level`` and ``unseen_level`` are the levels (by position) that a missing value
  and a category never seen in training count as; ``null`` makes them all zeros.

``kind`` is ``logistic_regression`` (``coef`` has one row for two classes, the second class's log-odds, or one
row per class, softmax) or ``linear_regression`` (one row: the predicted number, and no classes). Floats are
written with ``repr`` precision, so scores match the original to ~1e-15.

Version 1 documents (``emberflow.linear/1``: logistic regressions over numeric features that have no gaps, no
``inputs``) are read as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError

FORMAT = "emberflow.linear/2"
FORMAT_V1 = "emberflow.linear/1"
CLASSIFIER, REGRESSOR = "logistic_regression", "linear_regression"
TASKS = {CLASSIFIER: "classification", REGRESSOR: "regression"}


@dataclass
class NumericInput:
    """One raw numeric column as one model column: imputed, then standardized if the model did so."""

    name: str
    impute: float | None = None
    center: float | None = None
    scale: float | None = None

    width = 1

    def encode(self, values: Any) -> np.ndarray:
        numbers = np.array(values, dtype=np.float64).reshape(-1)
        gaps = np.isnan(numbers)
        if gaps.any():
            if self.impute is None:
                row = int(gaps.nonzero()[0][0])
                raise DataError(f"column '{self.name}' is missing in row {row + 1} of the scored data, and the model "
                                "was trained without imputing it; fill or drop such rows (a DropMissing step)")
            numbers[gaps] = self.impute
        if self.center is not None:
            numbers -= self.center
        if self.scale is not None:
            numbers /= self.scale
        return numbers[:, None]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "numeric", "impute": self.impute, "center": self.center,
                "scale": self.scale}

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "numeric", "dtype": "float64"}


@dataclass
class CategoricalInput:
    """One raw categorical column as one-hot columns, one per level (``None``: the missing value's own)."""

    name: str
    levels: list[str | None]
    missing_level: int | None = None
    unseen_level: int | None = None

    @property
    def width(self) -> int:
        return len(self.levels)

    def encode(self, values: Any, missing: np.ndarray) -> np.ndarray:
        """``values``: the column's texts; ``missing``: where it has no value."""
        texts = np.asarray(values, dtype=object).reshape(-1)
        position = {level: i for i, level in enumerate(self.levels) if level is not None}
        unseen = -1 if self.unseen_level is None else self.unseen_level
        index = np.array([position.get(text, unseen) if isinstance(text, str) else unseen for text in texts],
                         dtype=np.int64)
        index[missing] = -1 if self.missing_level is None else self.missing_level
        one_hot = np.zeros((len(texts), self.width), dtype=np.float64)
        hit = index >= 0
        one_hot[hit.nonzero()[0], index[hit]] = 1.0
        return one_hot

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "categorical", "levels": list(self.levels),
                "missing_level": self.missing_level, "unseen_level": self.unseen_level}

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "categorical", "dtype": "string",
                "levels": [level for level in self.levels if level is not None]}


@dataclass
class LinearModel:
    features: list[str]
    classes: list[Any]
    coef: np.ndarray  # (1, n_columns) binary or regression, or (n_classes, n_columns) multinomial
    intercept: np.ndarray
    threshold: float = 0.5
    multinomial: bool = False
    kind: str = CLASSIFIER
    inputs: list[NumericInput | CategoricalInput] = field(default_factory=list)  # default: features as they are

    def __post_init__(self):
        if not self.inputs:
            self.inputs = [NumericInput(name) for name in self.features]

    @property
    def task(self) -> str:
        return TASKS[self.kind]

    @property
    def input_schema(self) -> list[dict[str, Any]]:
        """The raw columns, as a manifest's ``input_schema``, in the order of ``features``."""
        by_name = {i.name: i.schema() for i in self.inputs}
        return [by_name[name] for name in self.features]

    def model_columns(self, X: Any) -> np.ndarray:
        """The columns the coefficients apply to, from the raw columns: a pandas frame (numeric columns as
        numbers, categorical ones as text, as ``emberflow.engine.predictor.conform`` gives them), a mapping of
        such columns by name (``predictor.conformed_columns``: arrays or Series), or a NumPy array whose columns
        are ``features`` in order (numeric inputs only)."""
        if hasattr(X, "columns"):
            return self._from_frame(X)
        if isinstance(X, Mapping):
            return self._from_columns(X)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.features):
            raise DataError(f"expected rows of {len(self.features)} values ({', '.join(self.features)}), got an "
                            f"array of shape {X.shape}; pass a frame with those columns")
        if any(isinstance(i, CategoricalInput) for i in self.inputs):
            raise DataError("this model has categorical inputs, which a NumPy array of numbers cannot hold; pass a "
                            f"frame with the columns {', '.join(self.features)}")
        position = {name: j for j, name in enumerate(self.features)}
        return np.hstack([i.encode(X[:, position[i.name]]) for i in self.inputs])

    def _from_frame(self, frame: Any) -> np.ndarray:
        parts = []
        for spec in self.inputs:
            column = frame[spec.name]
            if isinstance(spec, CategoricalInput):
                parts.append(spec.encode(column.to_numpy(dtype=object), column.isna().to_numpy()))
            else:
                parts.append(spec.encode(column.to_numpy(dtype=np.float64, na_value=np.nan)))
        return np.hstack(parts) if parts else np.zeros((len(frame), 0))

    def _from_columns(self, columns: Mapping[str, Any]) -> np.ndarray:
        """From conformed columns: numbers as float64 (NaN missing), categories as text (NaN or None missing)."""
        parts = []
        for spec in self.inputs:
            if isinstance(spec, CategoricalInput):
                texts = np.asarray(columns[spec.name], dtype=object).reshape(-1)
                parts.append(spec.encode(texts, _missing_texts(texts)))
            else:
                parts.append(spec.encode(columns[spec.name]))
        rows = len(next(iter(columns.values()))) if columns else 0
        return np.hstack(parts) if parts else np.zeros((rows, 0))

    def decision_function(self, X: Any) -> np.ndarray:
        return self.model_columns(X) @ self.coef.T + self.intercept

    def predict_proba(self, X: Any) -> np.ndarray:
        if self.kind != CLASSIFIER:
            raise AttributeError("a linear regression predicts numbers, not class probabilities")
        scores = self.decision_function(X)
        if not self.multinomial:
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """The predicted number (a regression), or class: above ``threshold`` for the second of two (softmax
        over two included), else the most probable."""
        if self.kind == REGRESSOR:
            return self.decision_function(X)[:, 0]
        proba = self.predict_proba(X)
        classes = np.asarray(self.classes)
        if len(classes) == 2:
            return np.where(proba[:, 1] > self.threshold, classes[1], classes[0])
        return classes[proba.argmax(axis=1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": self.kind,
            "task": self.task,
            "features": list(self.features),
            "inputs": [i.to_dict() for i in self.inputs],
            "classes": [_plain(c) for c in self.classes],
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "threshold": float(self.threshold),
            "multinomial": bool(self.multinomial),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> LinearModel:
        version = doc.get("format")
        if version not in (FORMAT, FORMAT_V1):
            raise ValueError(f"expected a document of format {FORMAT} (or {FORMAT_V1}), got {version!r}")
        kind = doc.get("kind", CLASSIFIER) if version == FORMAT else CLASSIFIER
        if kind not in TASKS:
            raise ValueError(f"kind must be one of {', '.join(TASKS)}, got {kind!r}")
        features = [str(name) for name in doc["features"]]
        inputs = [_input_from_dict(i) for i in doc.get("inputs") or []] if version == FORMAT else []
        model = cls(features=features, classes=list(doc.get("classes") or []),
                    coef=np.asarray(doc["coef"], dtype=np.float64),
                    intercept=np.asarray(doc["intercept"], dtype=np.float64).reshape(-1),
                    threshold=float(doc.get("threshold", 0.5)), multinomial=bool(doc.get("multinomial", False)),
                    kind=kind, inputs=inputs)
        model.check()
        return model

    def check(self) -> None:
        """That the parts fit together: ValueError naming the first that does not."""
        if sorted(i.name for i in self.inputs) != sorted(self.features):
            raise ValueError("inputs must describe each of the features once")
        width = sum(i.width for i in self.inputs)
        rows = len(self.classes) if self.multinomial else 1
        if self.coef.ndim != 2 or self.coef.shape != (rows, width):
            raise ValueError(f"coef must be {rows} rows of {width} numbers, one per model column")
        if self.intercept.shape != (rows,):
            raise ValueError(f"intercept must be {rows} numbers")
        if self.kind == CLASSIFIER and (len(self.classes) < 2 or (not self.multinomial and len(self.classes) != 2)):
            raise ValueError("a logistic regression needs two classes, or more with multinomial: true")

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _input_from_dict(doc: dict[str, Any]) -> NumericInput | CategoricalInput:
    if doc.get("kind") == "numeric":
        return NumericInput(str(doc["name"]), _number(doc.get("impute")), _number(doc.get("center")),
                            _number(doc.get("scale")))
    if doc.get("kind") != "categorical":
        raise ValueError(f"an input's kind must be numeric or categorical, got {doc.get('kind')!r}")
    levels = [None if level is None else str(level) for level in doc["levels"]]
    spec = CategoricalInput(str(doc["name"]), levels, doc.get("missing_level"), doc.get("unseen_level"))
    for position in (spec.missing_level, spec.unseen_level):
        if position is not None and not (isinstance(position, int) and 0 <= position < len(levels)):
            raise ValueError(f"input '{spec.name}': missing_level and unseen_level must be positions in its levels "
                             "or null")
    return spec


def _missing_texts(texts: np.ndarray) -> np.ndarray:
    """Where an object array of texts has no value: None or NaN (the only values unequal to themselves)."""
    return np.asarray((texts != texts) | (texts == None), dtype=bool)  # noqa: E711 - elementwise, not identity


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _plain(value: Any) -> Any:
    """NumPy scalars to plain Python, so classes survive JSON unchanged."""
    return value.item() if hasattr(value, "item") else value
