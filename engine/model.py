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
    task: str = "classification"  # or "regression": what Score predicts and measures
    algorithm: str | None = None  # the trainer's algorithm: logistic_regression, random_forest ...
    # The raw columns the model takes, as the trainer saw them: [{"name", "kind": numeric | categorical,
    # "dtype", "levels" (categorical)}]; the preparation inside the model turns them into its features.
    input_schema: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def model_class(self) -> str:
        cls = type(self.obj)
        return f"{cls.__module__}.{cls.__qualname__}"
