"""The scikit-learn backend: a ``Pipeline`` of a ``ColumnTransformer`` (imputation, scaling, one-hot encoding)
and the algorithm's estimator, fitted on a pandas frame.

The pipeline takes the raw columns as ``emberflow.engine.predictor.conform`` gives them (numbers as float64,
categories as text), which Score does before it predicts. Categories are one-hot encoded for every algorithm,
HistGradientBoosting included (its native categories would save little on the few levels that one-hot suits).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import DataError

from .preparation import CATEGORICAL, NUMERIC, LabelFacts, decide_task, missing_label_warning, plain, plan_features

if TYPE_CHECKING:
    from emberflow.engine.api import Model, StepContext

    from .specs import AlgorithmSpec

SCALED = ("logistic_regression", "linear_regression", "knn")  # the algorithms that take ``standardization``


def train(spec: AlgorithmSpec, node: str, ctx: StepContext, frame, params: dict[str, Any]) -> Model:
    import warnings

    from emberflow.engine.api import Model, conform, threads_for
    from sklearn.exceptions import ConvergenceWarning

    plan = plan_features(column_kinds(frame), params, node)
    frame, facts = labelled_rows(ctx, frame, plan.label)
    task, why = decide_task(params.get("task", "auto"), spec.tasks, plan.label, facts)
    ctx.note(f"{task}: {why}")
    schema = plan.input_schema(levels_of(frame, plan.categorical))
    X, y = conform(frame, schema), frame[plan.label]
    check_impute(X, plan.numeric, params["impute"], node)
    pipeline = pipeline_for(spec, plan, params, task, len(frame))
    with warnings.catch_warnings(record=True) as caught, threads_for(len(X)):
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(X, y)
        classes = [plain(c) for c in pipeline.classes_] if task == "classification" else []
        metrics = training_metrics(pipeline, X, y, task, classes, params)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        ctx.warn(f"the solver did not converge in {params['max_iter']} iterations; raise max_iter")
    return Model(
        obj=pipeline, engine="sklearn", features=plan.features, label=plan.label, classes=classes,
        feature_types=plan.dtypes, params={k: v for k, v in params.items() if v is not None}, metrics=metrics,
        task=task, algorithm=spec.name, input_schema=schema,
    )


def column_kinds(frame) -> dict[str, tuple[str, str]]:
    """Each column's kind for the plan: numbers are numeric; text, booleans and pandas categories categorical."""
    import pandas as pd

    kinds = {}
    for name in frame.columns:
        values = frame[name]
        dtype = str(values.dtype)
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            kind = CATEGORICAL
            if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
                kind = "a date or time column"
        else:
            kind = NUMERIC
        kinds[str(name)] = (kind, dtype)
    return kinds


def labelled_rows(ctx: StepContext, frame, label: str):
    """The rows that have a label (the others left out, with a warning), and the facts the task rule needs."""
    import pandas as pd

    values = frame[label]
    missing = int(values.isna().sum())
    if missing:
        ctx.warn(missing_label_warning(label, missing, len(frame)))
        frame, values = frame[values.notna()], values[values.notna()]
    if len(frame) == 0:
        raise DataError("the data has no rows to train on (no rows, or none with a label)")
    if pd.api.types.is_bool_dtype(values):
        kind = "boolean"
    elif not pd.api.types.is_numeric_dtype(values):
        kind = "text"
    else:
        kind = "integer" if pd.api.types.is_integer_dtype(values) else "float"
    whole = kind in ("integer", "boolean") or (kind == "float" and bool((values % 1 == 0).all()))
    return frame, LabelFacts(kind, int(values.nunique()), whole, missing, values.iloc[0])


def levels_of(frame, categorical: list[str]) -> dict[str, list[Any]]:
    from emberflow.engine.api import category_text

    return {name: sorted(category_text(frame[name]).dropna().unique().tolist()) for name in categorical}


def check_impute(X, numeric: list[str], impute: str, node: str) -> None:
    import numpy as np

    if impute == "none":
        gaps = [c for c in numeric if X[c].isna().any()]
        if gaps:
            raise DataError(f"features {gaps} have missing values and impute is none; set impute: median or mean, "
                            f"or drop those rows first with a DropMissing step (columns: [{', '.join(gaps)}])")
    infinite = [c for c in numeric if np.isinf(X[c].to_numpy()).any()]
    if infinite:
        raise DataError(f"features {infinite} have infinite values; replace or drop those rows before {node}")


def pipeline_for(spec: AlgorithmSpec, plan, params: dict[str, Any], task: str, rows: int):
    from sklearn.pipeline import Pipeline

    scale = spec.name in SCALED and params.get("standardization", False)
    return Pipeline([("prepare", column_preparation(plan, params["impute"], scale)),
                     ("model", ESTIMATORS[spec.name](params, task, rows))])


def column_preparation(plan, impute: str, scale: bool):
    """Numeric columns imputed (and scaled), categorical ones one-hot encoded with missing as a level of its own
    and unseen levels as all zeros; the columns' names kept on the way out."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric_steps = []
    if impute != "none":
        numeric_steps.append(("impute", SimpleImputer(strategy=impute, keep_empty_features=True)))
    if scale:
        numeric_steps.append(("scale", StandardScaler()))
    parts = []
    if plan.numeric:
        parts.append(("numeric", Pipeline(numeric_steps) if numeric_steps else "passthrough", plan.numeric))
    if plan.categorical:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype="float64")
        parts.append(("categorical", encoder, plan.categorical))
    return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)


def training_metrics(pipeline, X, y, task: str, classes: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    """``train_rows`` and, as Score measures them, ``train_accuracy`` (at the step's threshold) or
    ``train_rmse``."""
    import numpy as np
    from emberflow.engine.api import predicted_labels

    metrics: dict[str, Any] = {"train_rows": len(X)}
    if task == "classification":
        predicted = predicted_labels(pipeline.predict_proba(X), classes, params.get("threshold", 0.5))
        metrics["train_accuracy"] = float((predicted == y.to_numpy()).mean())
    else:
        errors = pipeline.predict(X) - y.to_numpy(dtype="float64")
        metrics["train_rmse"] = float(np.sqrt(np.mean(errors ** 2)))
    return metrics


def logistic_regression(params: dict[str, Any], task: str, rows: int):
    """LogisticRegression, with Spark's names mapped; the default regularization is C = 1 (scikit-learn 1.8+
    spells the penalty as ``l1_ratio`` and ``C``)."""
    from sklearn.linear_model import LogisticRegression

    from .specs import l1_share

    C = params["C"]
    if params["regParam"] is not None:
        C = math.inf if params["regParam"] == 0 else 1.0 / (params["regParam"] * max(rows, 1))
    if params["penalty"] == "none":
        C = math.inf
    return LogisticRegression(C=C, l1_ratio=l1_share(params), solver=params["solver"], max_iter=params["max_iter"],
                              tol=params["tol"], fit_intercept=params["fit_intercept"],
                              class_weight=params["class_weight"], random_state=params["seed"])


def random_forest(params: dict[str, Any], task: str, rows: int):
    """Bootstrap samples of every row, and at each split a third of the features for a regression or the square
    root of their count for a classification, as Spark's and H2O's forests choose by default."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    common = {"n_estimators": params["n_estimators"], "max_depth": params["max_depth"],
              "min_samples_leaf": params["min_samples_leaf"], "random_state": params["seed"], "n_jobs": -1}
    if task == "classification":
        return RandomForestClassifier(max_features="sqrt", **common)
    return RandomForestRegressor(max_features=1 / 3, **common)


def gbt(params: dict[str, Any], task: str, rows: int):
    """HistGradientBoosting with depth-limited trees (no leaf-count limit) and no early stopping, as Spark's and
    H2O's boosting grow every tree asked for."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    common = {"max_iter": params["n_estimators"], "max_depth": params["max_depth"], "max_leaf_nodes": None,
              "min_samples_leaf": params["min_samples_leaf"], "learning_rate": params["learning_rate"],
              "early_stopping": False, "random_state": params["seed"]}
    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    return cls(**common)


def linear_regression(params: dict[str, Any], task: str, rows: int):
    """Least squares; ridge, lasso or elastic net by ``regParam`` (scikit-learn's ``alpha``) and
    ``elasticNetParam`` (its ``l1_ratio``), whose objective (squared error over 2 rows plus the penalty) is
    Spark's and H2O's."""
    from sklearn.linear_model import ElasticNet, LinearRegression, Ridge

    strength, l1 = params["regParam"], params["elasticNetParam"]
    if strength == 0:
        return LinearRegression(fit_intercept=params["fit_intercept"])
    if l1 == 0:  # Ridge's objective sums the squared error: its alpha is rows times the averaged one's
        return Ridge(alpha=strength * rows, fit_intercept=params["fit_intercept"], tol=params["tol"])
    return ElasticNet(alpha=strength, l1_ratio=l1, fit_intercept=params["fit_intercept"],
                      max_iter=params["max_iter"], tol=params["tol"])


def knn(params: dict[str, Any], task: str, rows: int):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    if params["n_neighbors"] > rows:
        raise DataError(f"n_neighbors is {params['n_neighbors']}, and there are {rows} training rows; set "
                        f"n_neighbors to {rows} or fewer")
    cls = KNeighborsClassifier if task == "classification" else KNeighborsRegressor
    return cls(n_neighbors=params["n_neighbors"], weights=params["weights"], p=params["p"])


ESTIMATORS = {"logistic_regression": logistic_regression, "random_forest": random_forest, "gbt": gbt,
              "linear_regression": linear_regression, "knn": knn}
