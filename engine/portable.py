"""Manual serialization of linear models: a JSON file of coefficients that scores without the library that
trained it, with NumPy alone.

The document::

    {"format": "emberflow.linear/1", "kind": "logistic_regression", "features": [...], "classes": [...],
     "coef": [[...]], "intercept": [...], "threshold": 0.5, "multinomial": false}

``coef`` has one row for a binary model (the second class's log-odds) or one row per class for a multinomial
one (softmax). Floats are written with ``repr`` precision, so probabilities match the original to ~1e-15.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "emberflow.linear/1"


@dataclass
class LinearModel:
    features: list[str]
    classes: list[Any]
    coef: np.ndarray  # (1, n_features) binary, or (n_classes, n_features) multinomial
    intercept: np.ndarray
    threshold: float = 0.5
    multinomial: bool = False

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) @ self.coef.T + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        scores = self.decision_function(X)
        if not self.multinomial:
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.column_stack([1.0 - positive, positive])
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        proba = self.predict_proba(X)
        classes = np.asarray(self.classes)
        if not self.multinomial:
            return np.where(proba[:, 1] > self.threshold, classes[1], classes[0])
        return classes[proba.argmax(axis=1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "kind": "logistic_regression",
            "features": list(self.features),
            "classes": [_plain(c) for c in self.classes],
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "threshold": float(self.threshold),
            "multinomial": bool(self.multinomial),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> LinearModel:
        if doc.get("format") != FORMAT:
            raise ValueError(f"expected a document of format {FORMAT}, got {doc.get('format')!r}")
        coef = np.asarray(doc["coef"], dtype=np.float64)
        if coef.ndim != 2 or coef.shape[1] != len(doc["features"]):
            raise ValueError(f"coef must be rows of {len(doc['features'])} numbers, one per feature")
        return cls(
            features=list(doc["features"]),
            classes=list(doc["classes"]),
            coef=coef,
            intercept=np.asarray(doc["intercept"], dtype=np.float64),
            threshold=float(doc.get("threshold", 0.5)),
            multinomial=bool(doc.get("multinomial", False)),
        )

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _plain(value: Any) -> Any:
    """NumPy scalars to plain Python, so classes survive JSON unchanged."""
    return value.item() if hasattr(value, "item") else value
