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
    # The preparation inside ``obj`` done with NumPy (``engine.numpy_preparation``), once found to give the same
    # columns as ``obj``'s: the predictor then skips pandas and the ColumnTransformer. None: ``obj`` does it all.
    numpy_preparation: Any = field(default=None, repr=False, compare=False)

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def model_class(self) -> str:
        """The estimator's class; for a pipeline (preparation, then the estimator), the last stage's, with the
        pipeline's own class before it: ``sklearn.pipeline.Pipeline > ...LogisticRegression``."""
        cls = type(self.obj)
        name = f"{cls.__module__}.{cls.__qualname__}"
        stages = getattr(self.obj, "steps", None) or getattr(self.obj, "stages", None)
        if isinstance(stages, list) and stages:
            last = stages[-1][-1] if isinstance(stages[-1], tuple) else stages[-1]
            name += f" > {type(last).__module__}.{type(last).__qualname__}"
        return name


def class_type(classes: list[Any]) -> str:
    """The type of a prediction column holding these classes: ``bool`` when all are booleans, ``int`` when all
    are integers, ``float`` when all are numbers, else ``string`` (text, a mix with text or booleans, or no
    classes). Score on Spark, serve's V2 datatypes and the MLflow signature each name it in their own words."""
    if classes and all(isinstance(c, bool) for c in classes):
        return "bool"
    if classes and all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "int"
    if classes and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return "float"
    return "string"
