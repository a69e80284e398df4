"""The trainer nodes, each made of an algorithm spec (``learners.specs``) and the engines' backends.

A trainer takes every column but the label by default and prepares them inside the model it returns: numeric
columns imputed (and scaled, for the linear models and KNN), text, boolean and ``categorical`` columns one-hot
encoded (or native categories on H2O), so Score takes the raw columns. Rows without a label are left out, with a
warning. ``task: auto`` follows one rule, shown in the run's progress: a text or boolean label, or one of whole
numbers with at most 20 distinct values, is a classification; other numbers a regression.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from emberflow.engine.api import FRAME, MODEL, Node

from .learners import specs

if TYPE_CHECKING:
    from emberflow.engine.api import Model, StepContext

    from .learners.specs import AlgorithmSpec


class Trainer(Node):
    """A node that trains ``spec``'s algorithm on the step's engine."""

    kind = "ml-estimator"
    inputs = {"data": FRAME}
    outputs = {"model": MODEL}
    spec: ClassVar[AlgorithmSpec]

    @classmethod
    def engines(cls) -> tuple[str, ...]:
        return cls.spec.engines

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        cls.spec.check(params, engine)

    def run(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Model:
        backend = import_module(f"{__package__}.learners.{ctx.engine}_backend")
        return backend.train(self.spec, self.node_name(), ctx, inputs["data"], params)


class TrainLR(Trainer):
    """Train a logistic regression that predicts the label's class from the other columns.

    Parameters take scikit-learn's names, and Spark's, H2O's or Fire Insights' where they map: ``maxIter`` is
    ``max_iter``; ``regParam`` (Spark's lambda) becomes ``C = 1 / (regParam * rows)``, because Spark and H2O
    average the loss over the rows while scikit-learn sums it; without either, C = 1 on every engine.
    ``elasticNetParam`` is the L1 share (``l1_ratio``). ``standardization`` (on by default) fits on standardized
    numeric features on every engine: a StandardScaler in the scikit-learn pipeline. ``class_weight`` becomes row
    weights on Spark. The label may hold any values (numbers, text): its sorted distinct values are the classes.
    """

    spec = specs.LOGISTIC_REGRESSION
    params = spec.all_params


class TrainRandomForest(Trainer):
    """Train a random forest, for a classification or a regression.

    scikit-learn's RandomForestClassifier/Regressor, Spark's RandomForestClassifier/Regressor and H2O's DRF, with
    one meaning of ``n_estimators`` (100), ``max_depth`` (10) and ``min_samples_leaf`` (1) on every engine; at
    each split a random square root of the features for a classification, a third for a regression.
    """

    spec = specs.RANDOM_FOREST
    params = spec.all_params


class TrainGBT(Trainer):
    """Train gradient-boosted trees, for a classification or a regression.

    scikit-learn's HistGradientBoosting (without early stopping), Spark's GBT (whose classifier takes two classes
    only) and H2O's GBM, with ``n_estimators`` (100), ``max_depth`` (5), ``min_samples_leaf`` (20) and
    ``learning_rate`` (0.1) meaning the same on every engine.
    """

    spec = specs.GBT
    params = spec.all_params


class TrainLinearRegression(Trainer):
    """Train a linear regression: least squares, ridge, lasso or elastic net.

    ``regParam`` (scikit-learn's ``alpha``) is the regularization strength and ``elasticNetParam``
    (``l1_ratio``) its L1 share, for one objective on every engine: the squared error summed over the rows and
    divided by twice their count, plus ``regParam * (l1 * |w|_1 + (1 - l1) / 2 * |w|^2)``.
    """

    spec = specs.LINEAR_REGRESSION
    params = spec.all_params


class TrainKNN(Trainer):
    """Train a k-nearest-neighbours model, for a classification or a regression (scikit-learn only).

    The model keeps every training row; ``format: auto`` saves a large one as pickle-buffers.
    """

    spec = specs.KNN
    params = spec.all_params

    @classmethod
    def why_not_on(cls, engine: str) -> str:
        return (f"; {engine} has no k-nearest-neighbours model for new rows (it keeps every training row and "
                "searches them per prediction): run the step with engine: sklearn, or use TrainRandomForest")
