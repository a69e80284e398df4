"""TrainLR: a logistic regression, on whichever engine the step runs."""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import (
    FRAME,
    MAX_JAVA_INT,
    MAX_SEED,
    MODEL,
    DataError,
    Node,
    Param,
    ParamProblem,
    did_you_mean,
    did_you_mean_each,
)

if TYPE_CHECKING:
    from emberflow.engine.api import Model, StepContext

SOLVERS = ("lbfgs", "liblinear", "newton-cg", "newton-cholesky", "sag", "saga")
PENALTIES = ("l2", "l1", "elasticnet", "none")
L1_SOLVERS = ("liblinear", "saga")
SPARK_FAMILIES = ("auto", "binomial", "multinomial")
# Columns of the Spark pipeline, named so that they do not clash with the data's own.
SPARK_FEATURES = "emberflow_features"
SPARK_LABEL = "emberflow_label"
SPARK_WEIGHT = "emberflow_weight"


class TrainLR(Node):
    """Train a logistic regression on a frame's feature columns to predict its label column.

    Parameters take scikit-learn's names, and Spark's or Fire Insights' names where they map: ``maxIter`` is
    ``max_iter``; ``regParam`` (Spark's lambda) becomes ``C = 1 / (regParam * rows)``, because Spark averages
    the loss over the rows while scikit-learn sums it; ``elasticNetParam`` is the L1 share (``l1_ratio``).

    On Spark the model is a ``pyspark.ml`` Pipeline of a VectorAssembler and a LogisticRegression, so the saved
    model scores raw columns. ``regParam`` (default 0), ``elasticNetParam`` (or ``l1_ratio``), ``maxIter``,
    ``tol``, ``fitIntercept``, ``threshold``, ``standardization``, ``family`` and ``weightCol`` are Spark's own;
    ``class_weight`` becomes row weights. The label may hold any values (numbers, text): its sorted distinct
    values are the classes, as in scikit-learn.
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
              engines=("sklearn", "spark")),
        Param("solver", "string", "lbfgs", "the optimizer", choices=SOLVERS, engines=("sklearn",)),
        Param("max_iter", "integer", 100, "the most iterations", minimum=1, maximum=MAX_JAVA_INT,
              aliases=("maxIter", "max_iterations")),
        Param("tol", "number", 1e-4, "the convergence tolerance", minimum=0.0),
        Param("fit_intercept", "boolean", True, "fit an intercept", aliases=("fitIntercept", "intercept")),
        Param("class_weight", "any", None, "'balanced' or a mapping of class: weight",
              engines=("sklearn", "spark")),
        Param("regParam", "number", None, "regularization strength, Spark's lambda", minimum=0.0,
              aliases=("lambda_",)),
        Param("elasticNetParam", "number", None, "the L1 share of the regularization (0: L2, 1: L1)",
              minimum=0.0, maximum=1.0, aliases=("alpha",)),
        Param("threshold", "number", 0.5, "the probability above which a row is the positive class",
              minimum=0.0, maximum=1.0),
        Param("seed", "integer", None, "random seed of the solvers that shuffle (0 to 2**32 - 1)",
              aliases=("random_state",), minimum=0, maximum=MAX_SEED),
        Param("standardization", "boolean", True, "Spark and H2O: fit on standardized features (the coefficients "
              "are still for the original ones); false regularizes like scikit-learn", aliases=("standardize",),
              engines=("spark", "h2o")),
        Param("family", "string", "auto", "Spark and H2O: binomial (two classes), multinomial, or auto",
              choices=SPARK_FAMILIES, engines=("spark", "h2o")),
        Param("weight_col", "string", None, "Spark and H2O: a column of row weights",
              aliases=("weightCol", "weights_column"), engines=("spark", "h2o")),
    )

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        if engine == "spark" and params["l1_ratio"] is not None and params["elasticNetParam"] is not None:
            raise ParamProblem("give either l1_ratio or elasticNetParam for TrainLR, not both", "l1_ratio")
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

        from emberflow.engine.api import Model
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
        accuracy = sklearn_training_accuracy(estimator, X, y, params["threshold"])
        return Model(
            obj=estimator, engine="sklearn", features=features, label=params["label"],
            classes=[c.item() if hasattr(c, "item") else c for c in estimator.classes_],
            feature_types={f: str(frame[f].dtype) for f in features},
            params={k: v for k, v in params.items() if v is not None},
            metrics={"train_rows": len(frame), "train_accuracy": accuracy},
        )

    def run_spark(self, ctx: StepContext, inputs: dict[str, Any], params: dict[str, Any]) -> Model:
        from emberflow.engine.api import Model, spark_errors

        frame = inputs["data"]
        features = feature_columns(frame.columns, params)
        if params["features"] is None:  # the row weights are not a feature
            features = [f for f in features if f != params["weight_col"]]
        check_spark_columns(frame, features, params["weight_col"])
        with spark_errors(), cached_while_training(frame) as frame:
            counts = spark_label_counts(frame, params["label"])
            classes = sorted(counts)
            if params["family"] == "binomial" and len(classes) > 2:
                raise DataError(f"family binomial takes two classes, but the label '{params['label']}' has "
                                f"{len(classes)}: {classes[:10]}; use family: multinomial or auto")
            prepared = spark_training_frame(frame, params, classes, counts)
            weighted = SPARK_WEIGHT in prepared.columns
            fitted = spark_pipeline(features, params, len(classes), weighted).fit(prepared)
            summary = fitted.stages[-1].summary
            accuracy, iterations = spark_training_accuracy(summary, weighted), summary.totalIterations
        if iterations >= params["max_iter"]:
            ctx.warn(f"the solver stopped after max_iter ({params['max_iter']}) iterations and may not have "
                     "converged; raise max_iter")
        return Model(
            obj=fitted, engine="spark", features=features, label=params["label"], classes=classes,
            feature_types={f: frame.schema[f].dataType.simpleString() for f in features},
            params={p.name: params[p.name] for p in self.params
                    if params[p.name] is not None and (p.engines is None or "spark" in p.engines)},
            metrics={"train_rows": sum(counts.values()), "train_accuracy": accuracy},
        )


def sklearn_training_accuracy(estimator, X, y, threshold: float) -> float:
    """The share of training rows predicted right, as Score predicts them: for two classes, the second's
    probability above ``threshold`` (Spark's summary and H2O's measure use the step's threshold too)."""
    from emberflow.nodes.score import predicted_labels

    predicted = predicted_labels(estimator.predict_proba(X), list(estimator.classes_), threshold)
    return float((predicted == y.to_numpy()).mean())


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
        hint = next((f" (one column holding {sep!r}: is the file's separator {sep!r}? set ReadCSV's separator)"
                     for sep in (";", "\t", "|") if len(columns) == 1 and sep in columns[0]), "")
        raise DataError(f"no label column '{label}' in the data{did_you_mean(label, columns)}; columns: "
                        f"{', '.join(columns)}{hint}")
    features = params["features"] or [c for c in columns if c != label]
    missing = [f for f in features if f not in columns]
    if missing:
        raise DataError(f"feature columns {missing} are not in the data{did_you_mean_each(missing, columns)}; "
                        f"columns: {', '.join(columns)}")
    if label in features:
        raise DataError(f"the label '{label}' is also listed as a feature; remove it from features")
    if not features:
        raise DataError("no feature columns: the data holds only the label")
    return features


def numeric_features(frame, features: list[str]):
    """The feature columns as float64, with a clear error for text or missing values."""
    import pandas as pd

    if len(frame) == 0:
        raise DataError("the data has no rows to train on (is the CSV file only a header?)")
    X = frame[features]
    for name in features:
        if not pd.api.types.is_numeric_dtype(X[name]) or pd.api.types.is_bool_dtype(X[name]):
            sample = X[name].dropna().astype(str).head(3).tolist()
            raise DataError(f"feature '{name}' is not numeric (values like {sample}); TrainLR needs numeric "
                            "features: leave it out with features: [...]")
    if X.isna().any().any():
        bad = [c for c in features if X[c].isna().any()]
        raise DataError(f"features {bad} have missing values; before TrainLR, fill them with a FillMissing step or "
                        f"drop those rows with a DropMissing step (columns: {bad})")
    X = X.astype("float64")
    infinite = [c for c in features if X[c].abs().eq(float("inf")).any()]
    if infinite:
        raise DataError(f"features {infinite} have infinite values; replace or drop those rows before TrainLR")
    return X


def missing_label_values(label: str, count: int) -> DataError:
    """The same refusal, with advice that works, on every engine."""
    return DataError(f"the label '{label}' has {count} missing values; drop those rows first with a DropMissing "
                     f"step (columns: [{label}])")


def label_column(frame, label: str):
    y = frame[label]
    if y.isna().any():
        raise missing_label_values(label, int(y.isna().sum()))
    if y.nunique() < 2:
        only = y.iloc[0].item() if hasattr(y.iloc[0], "item") else y.iloc[0]
        raise DataError(f"the label '{label}' has only one class ({only!r}); a classifier needs two or more")
    return y


def check_spark_columns(frame, features: list[str], weight_col: str | None) -> None:
    """Numeric features (and weights), checked on the schema: no Spark job."""
    from pyspark.sql.types import NumericType

    types = {field.name: field.dataType for field in frame.schema.fields}
    for name in features:
        if not isinstance(types[name], NumericType):
            raise DataError(f"feature '{name}' is not numeric (Spark type {types[name].simpleString()}); TrainLR "
                            "needs numeric features: leave it out with features: [...], or give ReadCSV a dtype")
    if weight_col is not None and not isinstance(types.get(weight_col), NumericType):
        what = (f"is not in the data{did_you_mean(weight_col, types)}" if weight_col not in types
                else f"is {types[weight_col].simpleString()}")
        raise DataError(f"the weight column '{weight_col}' {what}; weight_col must name a numeric column")


def spark_training_accuracy(summary, weighted: bool) -> float:
    """The share of training rows predicted right (at the step's threshold, which the model holds), each row
    counted once as Score and the other engines count it: Spark's summary weighs the rows by their weights
    (class_weight, weight_col), so with weights one job counts its predictions (of the cached rows) instead."""
    if not weighted:
        return float(summary.accuracy)
    from pyspark.sql import functions as F

    right = (F.col(summary.predictionCol) == F.col(summary.labelCol)).cast("double")
    return float(summary.predictions.agg(F.avg(right)).first()[0])


@contextlib.contextmanager
def cached_while_training(frame):
    """The training rows cached while the step reads them three times (counting the labels, fitting, the
    training accuracy), so that the data is read and parsed once, not once per pass; released after."""
    if frame.is_cached:
        yield frame
        return
    frame = frame.persist()
    try:
        yield frame
    finally:
        frame.unpersist()


def spark_label_counts(frame, label: str) -> dict[Any, int]:
    """Rows per label value (one small Spark job), with the checks the sklearn engine makes."""
    counts = {row[0]: row[1] for row in frame.groupBy(label).count().collect()}
    if None in counts:
        raise missing_label_values(label, counts[None])
    if len(counts) < 2:
        raise DataError(f"the label '{label}' has only one class ({next(iter(counts), None)!r}); a classifier "
                        "needs two or more")
    kinds = {type(value) for value in counts}
    if len(kinds) > 1 and not kinds <= {int, float}:
        raise DataError(f"the label '{label}' mixes value types {sorted(k.__name__ for k in kinds)}")
    return counts


def spark_training_frame(frame, params: dict[str, Any], classes: list[Any], counts: dict[Any, int]):
    """The frame with the label as a class index (0, 1 ...) and, if any, the row weights."""
    from pyspark.sql import functions as F

    label = F.col(params["label"])
    frame = frame.withColumn(SPARK_LABEL, class_lookup(classes, label, [float(i) for i in range(len(classes))]))
    weight = None
    weights = class_weights(params["class_weight"], classes, counts)
    if weights is not None:
        weight = class_lookup(classes, label, weights)
    if params["weight_col"]:
        column = F.col(params["weight_col"]).cast("double")
        weight = column if weight is None else column * weight
    return frame if weight is None else frame.withColumn(SPARK_WEIGHT, weight)


def class_lookup(classes: list[Any], label, values: list[Any]):
    """A Spark expression giving ``values[i]`` for rows whose label is ``classes[i]``."""
    from itertools import chain

    from pyspark.sql import functions as F

    if values == list(range(len(classes))) and classes == values:
        return label.cast("double")
    return F.create_map(*chain.from_iterable((F.lit(c), F.lit(v)) for c, v in zip(classes, values, strict=True)))[
        label]


def class_weights(spec: Any, classes: list[Any], counts: dict[Any, int]) -> list[float] | None:
    """``class_weight`` as one weight per class: 'balanced' (rows / (classes * rows of the class)), or a mapping
    of class to weight (classes it does not name weigh 1)."""
    if spec is None:
        return None
    if spec == "balanced":
        total = sum(counts.values())
        return [total / (len(classes) * counts[c]) for c in classes]
    if not isinstance(spec, dict):
        raise DataError(f"class_weight must be 'balanced' or a mapping of class: weight, got {spec!r}")
    by_text = {str(k): v for k, v in spec.items()}
    unknown = [k for k in by_text if k not in {str(c) for c in classes}]
    if unknown:
        raise DataError(f"class_weight names classes {unknown} that the label does not have; classes: {classes}")
    weights = [by_text.get(str(c), 1.0) for c in classes]
    if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and w > 0 for w in weights):
        raise DataError(f"class_weight values must be positive numbers, got {spec!r}")
    return [float(w) for w in weights]


def spark_pipeline(features: list[str], params: dict[str, Any], n_classes: int, weighted: bool):
    """VectorAssembler then LogisticRegression, with the step's parameters in Spark's names."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import VectorAssembler

    l1 = params["elasticNetParam"] if params["elasticNetParam"] is not None else params["l1_ratio"]
    lr = LogisticRegression(
        featuresCol=SPARK_FEATURES, labelCol=SPARK_LABEL, predictionCol="emberflow_prediction",
        probabilityCol="emberflow_probability", rawPredictionCol="emberflow_raw_prediction",
        maxIter=params["max_iter"], regParam=params["regParam"] or 0.0, elasticNetParam=l1 or 0.0,
        fitIntercept=params["fit_intercept"], standardization=params["standardization"], tol=params["tol"],
        family=params["family"])
    if n_classes == 2:
        lr.setThreshold(params["threshold"])
    if weighted:
        lr.setWeightCol(SPARK_WEIGHT)
    return Pipeline(stages=[VectorAssembler(inputCols=features, outputCol=SPARK_FEATURES), lr])
