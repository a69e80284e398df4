"""TrainLR: a logistic regression, on whichever engine the step runs."""

from __future__ import annotations

import math
from typing import Any

from emberflow.engine.api import FRAME, MODEL, DataError, Model, Node, Param, ParamProblem, StepContext

SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")
PENALTIES = ("l2", "l1", "elasticnet", "none")
L1_SOLVERS = ("liblinear", "saga")


class TrainLR(Node):
    """Train a logistic regression on a frame's feature columns to predict its label column.

    Parameters take scikit-learn's names, and Spark's or Fire Insights' names where they map: ``maxIter`` is
    ``max_iter``; ``regParam`` (Spark's lambda) becomes ``C = 1 / (regParam * rows)``, because Spark averages
    the loss over the rows while scikit-learn sums it; ``elasticNetParam`` is the L1 share (``l1_ratio``).
    """

    kind = "ml-estimator"
    inputs = {"data": FRAME}
    outputs = {"model": MODEL}
    params = (
        Param("label", "string", doc="the column to predict"),
        Param("features", "array", None, "the feature columns (default: every column but the label)",
              items="string"),
        Param("C", "number", 1.0, "inverse regularization strength (scikit-learn)", minimum=0.0,
              engines=("sklearn",)),
        Param("penalty", "string", "l2", "the regularization", choices=PENALTIES, engines=("sklearn",)),
        Param("l1_ratio", "number", None, "the L1 share of an elasticnet penalty", minimum=0.0, maximum=1.0,
              engines=("sklearn",)),
        Param("solver", "string", "lbfgs", "the optimizer", choices=SOLVERS, engines=("sklearn",)),
        Param("max_iter", "integer", 100, "the most iterations", minimum=1, aliases=("maxIter", "max_iterations")),
        Param("tol", "number", 1e-4, "the convergence tolerance", minimum=0.0),
        Param("fit_intercept", "boolean", True, "fit an intercept", aliases=("fitIntercept", "intercept")),
        Param("class_weight", "any", None, "'balanced' or a mapping of class: weight", engines=("sklearn",)),
        Param("regParam", "number", None, "regularization strength, Spark's lambda", minimum=0.0,
              aliases=("lambda_",)),
        Param("elasticNetParam", "number", None, "the L1 share of the regularization (0: L2, 1: L1)",
              minimum=0.0, maximum=1.0, aliases=("alpha",)),
        Param("threshold", "number", 0.5, "the probability above which a row is the positive class",
              minimum=0.0, maximum=1.0),
        Param("seed", "integer", None, "random seed of the solvers that shuffle", aliases=("random_state",)),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if engine != "sklearn":
            return
        if params["regParam"] is not None and "C" in params and params["C"] != 1.0:
            raise ParamProblem("give either C or regParam for TrainLR, not both", "regParam")
        l1 = sklearn_l1_ratio(params)
        if l1 and params["solver"] not in L1_SOLVERS:
            raise ParamProblem(f"an L1 or elasticnet penalty needs solver {' or '.join(L1_SOLVERS)}, not "
                               f"'{params['solver']}'; set solver: saga", "solver")
        if params["penalty"] == "elasticnet" and params["l1_ratio"] is None:
            raise ParamProblem("penalty elasticnet needs l1_ratio (between 0 and 1)", "penalty")

    def run_sklearn(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Model:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        frame = inputs["data"]
        features = feature_columns(frame.columns, params)
        X, y = numeric_features(frame, features), label_column(frame, params["label"])
        estimator = LogisticRegression(**sklearn_arguments(params, len(frame)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            estimator.fit(X, y)
        for warning in caught:
            if issubclass(warning.category, ConvergenceWarning):
                ctx.warn(f"the solver did not converge in {params['max_iter']} iterations; raise max_iter")
        accuracy = float((estimator.predict(X) == y.to_numpy()).mean())
        return Model(
            obj=estimator, engine="sklearn", features=features, label=params["label"],
            classes=[c.item() if hasattr(c, "item") else c for c in estimator.classes_],
            feature_types={f: str(frame[f].dtype) for f in features},
            params={k: v for k, v in params.items() if v is not None},
            metrics={"train_rows": len(frame), "train_accuracy": accuracy},
        )


def sklearn_l1_ratio(params: dict[str, Any]) -> float:
    if params["elasticNetParam"] is not None:
        return params["elasticNetParam"]
    return {"l1": 1.0, "elasticnet": params["l1_ratio"] or 0.0}.get(params["penalty"], 0.0)


def sklearn_arguments(params: dict[str, Any], rows: int) -> dict[str, Any]:
    """LogisticRegression's arguments, with Spark's names mapped (scikit-learn 1.8+ spells penalty as
    ``l1_ratio`` and ``C``)."""
    C = params["C"]
    if params["regParam"] is not None:
        C = math.inf if params["regParam"] == 0 else 1.0 / (params["regParam"] * max(rows, 1))
    if params["penalty"] == "none":
        C = math.inf
    arguments = {
        "C": C, "l1_ratio": sklearn_l1_ratio(params), "solver": params["solver"], "max_iter": params["max_iter"],
        "tol": params["tol"], "fit_intercept": params["fit_intercept"], "class_weight": params["class_weight"],
    }
    if params["seed"] is not None:
        arguments["random_state"] = params["seed"]
    return arguments


def feature_columns(columns, params: dict[str, Any]) -> list[str]:
    """The feature columns: as given, or every column but the label; each checked to exist."""
    columns = [str(c) for c in columns]
    label = params["label"]
    if label not in columns:
        raise DataError(f"no label column '{label}' in the data; columns: {', '.join(columns)}")
    features = params["features"] or [c for c in columns if c != label]
    missing = [f for f in features if f not in columns]
    if missing:
        raise DataError(f"feature columns {missing} are not in the data; columns: {', '.join(columns)}")
    if label in features:
        raise DataError(f"the label '{label}' is also listed as a feature; remove it from features")
    if not features:
        raise DataError("no feature columns: the data holds only the label")
    return features


def numeric_features(frame, features: list[str]):
    """The feature columns as float64, with a clear error for text or missing values."""
    import pandas as pd

    X = frame[features]
    for name in features:
        if not pd.api.types.is_numeric_dtype(X[name]) or pd.api.types.is_bool_dtype(X[name]):
            sample = X[name].dropna().astype(str).head(3).tolist()
            raise DataError(f"feature '{name}' is not numeric (values like {sample}); TrainLR needs numeric "
                            "features: leave it out with features: [...]")
    if X.isna().any().any():
        bad = [c for c in features if X[c].isna().any()]
        raise DataError(f"features {bad} have missing values; fill or drop those rows before TrainLR")
    return X.astype("float64")


def label_column(frame, label: str):
    y = frame[label]
    if y.isna().any():
        raise DataError(f"the label '{label}' has {int(y.isna().sum())} missing values; drop those rows first")
    if y.nunique() < 2:
        raise DataError(f"the label '{label}' has only one class ({y.iloc[0]!r}); a classifier needs two or more")
    return y
