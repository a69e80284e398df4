"""A trained model as it travels between steps: the engine's object plus what is needed to save, score and
load it again (features, label, classes, params)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Model:
    obj: Any
    engine: str  # the engine whose library holds ``obj``: sklearn, spark, h2o or portable
    features: list[str]
    label: str | None = None
    classes: list[Any] = field(default_factory=list)
    feature_types: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    origin: dict[str, Any] = field(default_factory=dict)  # where it was loaded from, for the run record

    @property
    def model_class(self) -> str:
        cls = type(self.obj)
        return f"{cls.__module__}.{cls.__qualname__}"
