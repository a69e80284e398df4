"""The Spark backend: one ``PipelineModel`` that prepares the raw columns and applies the algorithm's model.

The stages, fitted together and saved together:

1. a ``SQLTransformer`` that casts each numeric feature to a double and turns each categorical one into its
   category text, the same text as on every engine (``emberflow.engine.predictor``): booleans ``true``/``false``,
   whole numbers ``3`` (a double 3.0 of a column named in ``categorical`` included), other values as Spark casts
   them to text, and a missing value as the reserved text ``MISSING_CATEGORY``, a level of its own (a value
   that is that very text falls in with the missing ones);
2. an ``Imputer`` of the numeric features (Spark's median is approximate, to a relative error of 0.001, and
   one of the middle values where scikit-learn averages the two); none with ``impute: none``;
3. a ``StringIndexer`` of the category texts in alphabetical order, keeping a category it never saw as one
   more index, which
4. the ``OneHotEncoder`` (``dropLast``) drops: each level seen in training has a column, and an unseen one is
   all zeros, as scikit-learn's ``handle_unknown="ignore"``;
5. a ``VectorAssembler`` of the numeric features, then the one-hot columns;
6. the estimator, on a label of class indexes (0, 1 ...) or of doubles.

The manifest's levels are the StringIndexer's labels without ``MISSING_CATEGORY``. Scoring runs the same
stages, after the engine's ``spark_scoring.scoring_frame`` checked the rows (a numeric column holding text, and
with ``unknown_category: error`` an unseen category, are one-line errors).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emberflow.engine.api import DataError, category_text_sql, did_you_mean, predicted_index

from .preparation import (
    CATEGORICAL,
    MOST_CLASSES_OF_NUMBERS,
    NUMERIC,
    LabelFacts,
    decide_task,
    missing_label_warning,
    plan_features,
)

if TYPE_CHECKING:
    from emberflow.engine.api import Model, StepContext

    from .preparation import FeaturePlan
    from .specs import AlgorithmSpec

MISSING_CATEGORY = "(missing)"  # a missing categorical value's text: one level of its own
# Columns the pipeline adds, named so that they do not clash with the data's own.
NUMBER_PREFIX = "emberflow_number_"
TEXT_PREFIX = "emberflow_category_"
INDEX_PREFIX = "emberflow_index_"
ONE_HOT_PREFIX = "emberflow_one_hot_"
FEATURES = "emberflow_features"
LABEL = "emberflow_label"
WEIGHT = "emberflow_weight"
PREDICTION = "emberflow_prediction"
PROBABILITY = "emberflow_probability"
RAW_PREDICTION = "emberflow_raw_prediction"
INTEGRAL = ("tinyint", "smallint", "int", "bigint")


@dataclass
class TrainingFacts:
    """What the estimators need of the labelled rows: their count, the classes and rows per class, the total
    row weight (the rows, without weights) and the label's standard deviation (regressions)."""

    rows: int
    classes: list[Any] = field(default_factory=list)
    counts: dict[Any, int] = field(default_factory=dict)
    weight_total: float = 0.0
    weighted: bool = False
    label_std: float = 0.0


def train(spec: AlgorithmSpec, node: str, ctx: StepContext, frame, params: dict[str, Any]) -> Model:
    from emberflow.engine.api import Model, spark_errors

    plan = plan_features(column_kinds(frame.schema), params, node)
    check_weight_column(frame.schema, params.get("weight_col"))
    with spark_errors(), cached_while_training(frame) as frame:
        frame, facts, counts = labelled_rows(frame, plan.label)
        task, why = decide_task(params.get("task", "auto"), spec.tasks, plan.label, facts)
        ctx.note(f"{task}: {why}")
        if task == "classification" and facts.kind in ("integer", "float") and len(counts) > MOST_CLASSES_OF_NUMBERS:
            counts = value_counts(frame, plan.label)  # more whole numbers than the first job collected
        prepared, training = training_frame(frame, plan.label, params, task, counts)
        feature_facts(prepared, plan, params, node, training)
        if facts.missing:
            ctx.warn(missing_label_warning(plan.label, facts.missing, facts.missing + training.rows))
        estimator = ESTIMATORS[spec.name](params, task, training)
        fitted = pipeline_for(plan, params, estimator).fit(prepared)
        metrics = training_metrics(fitted, prepared, task, training, params)
        warn_if_not_converged(ctx, fitted.stages[-1], params)
    return Model(
        obj=fitted, engine="spark", features=plan.features, label=plan.label, classes=training.classes,
        feature_types=plan.dtypes, params=spark_params(spec, params), metrics=metrics, task=task,
        algorithm=spec.name, input_schema=plan.input_schema(fitted_levels(fitted, plan)),
    )


def column_kinds(schema) -> dict[str, tuple[str, str]]:
    """Each column's kind for the plan: numbers are numeric, text and booleans categorical; dates and the rest
    are named for the refusal."""
    from pyspark.sql.types import BooleanType, DateType, NumericType, StringType, TimestampNTZType, TimestampType

    kinds = {}
    for column in schema.fields:
        dtype = column.dataType
        if isinstance(dtype, NumericType):
            kind = NUMERIC
        elif isinstance(dtype, (StringType, BooleanType)):
            kind = CATEGORICAL
        elif isinstance(dtype, (DateType, TimestampType, TimestampNTZType)):
            kind = "a date or time column"
        else:
            kind = f"a {dtype.typeName()} column"
        kinds[column.name] = (kind, dtype.simpleString())
    return kinds


def check_weight_column(schema, weight_col: str | None) -> None:
    from pyspark.sql.types import NumericType

    if weight_col is None:
        return
    types = {f.name: f.dataType for f in schema.fields}
    if not isinstance(types.get(weight_col), NumericType):
        what = (f"is not in the data{did_you_mean(weight_col, types)}" if weight_col not in types
                else f"is {types[weight_col].simpleString()}")
        raise DataError(f"the weight column '{weight_col}' {what}; weight_col must name a numeric column")


@contextlib.contextmanager
def cached_while_training(frame):
    """The training rows cached while the step reads them several times (the label's values, the features'
    gaps, each stage's fit, the training metrics), so that the data is read and parsed once; released after."""
    if frame.is_cached:
        yield frame
        return
    frame = frame.persist()
    try:
        yield frame
    finally:
        frame.unpersist()


def spark_column(name: str):
    from emberflow.nodes.spark_metrics import spark_column as column

    return column(name)


def present(name: str, dtype: str):
    """A column's value where it is not missing: null where it is null, or NaN in a floating column."""
    from pyspark.sql import functions as F

    column = spark_column(name)
    if dtype in ("float", "double"):
        return F.when(~F.isnan(column), column)
    return column


def label_kind(dtype: str) -> str:
    if dtype == "boolean":
        return "boolean"
    if dtype in INTEGRAL:
        return "integer"
    if dtype in ("float", "double") or dtype.startswith("decimal"):
        return "float"
    return "text"


def labelled_rows(frame, label: str):
    """The rows that have a label, the facts the task rule needs (and the count of rows without a label), and
    the rows per label value, from one Spark job: every value of a text or boolean label; of a numeric one the
    first values in an order that puts those that are not whole first, enough to tell whole numbers of at most
    20 distinct values from the rest."""
    from pyspark.sql import functions as F

    dtype = frame.schema[label].dataType.simpleString()
    kind = label_kind(dtype)
    if dtype.startswith("decimal"):
        frame, dtype = frame.withColumn(label, spark_column(label).cast("double")), "double"
    value = F.col("value")
    grouped = frame.groupBy(present(label, dtype).alias("value")).count()
    if kind in ("integer", "float"):
        grouped = grouped.orderBy(value.isNotNull(), value % 1 == 0, value).limit(MOST_CLASSES_OF_NUMBERS + 2)
    rows = grouped.collect()
    counts = {row["value"]: row["count"] for row in rows if row["value"] is not None}
    missing = sum(row["count"] for row in rows if row["value"] is None)
    if not counts:
        raise DataError("the data has no rows to train on (no rows, or none with a label)")
    if missing:
        frame = frame.where(present(label, dtype).isNotNull())
    whole = kind in ("integer", "boolean") or (kind == "float" and all(float(v) % 1 == 0 for v in counts))
    return frame, LabelFacts(kind, min(len(counts), MOST_CLASSES_OF_NUMBERS + 1), whole, missing), counts


def value_counts(frame, label: str) -> dict[Any, int]:
    """Rows per label value, every value (one Spark job)."""
    return {row[0]: row[1] for row in frame.groupBy(spark_column(label)).count().collect()}


def training_frame(frame, label: str, params: dict[str, Any], task: str, counts: dict[Any, int]):
    """The frame with the label as a double (a regression) or a class index (0, 1 ...) and, if any, the row
    weights; and the facts so far."""
    y = spark_column(label)
    if task == "regression":
        return frame.withColumn(LABEL, y.cast("double")), TrainingFacts(rows=0)
    classes = sorted(counts)
    prepared = frame.withColumn(LABEL, class_lookup(classes, y, [float(i) for i in range(len(classes))]))
    weight = None
    weights = class_weights(params.get("class_weight"), classes, counts)
    if weights is not None:
        weight = class_lookup(classes, y, weights)
    if params.get("weight_col"):
        column = spark_column(params["weight_col"]).cast("double")
        weight = column if weight is None else column * weight
    if weight is not None:
        prepared = prepared.withColumn(WEIGHT, weight)
    return prepared, TrainingFacts(rows=0, classes=classes, counts=counts, weighted=weight is not None)


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


def feature_facts(prepared, plan: FeaturePlan, params: dict[str, Any], node: str, training: TrainingFacts) -> None:
    """One Spark job over the labelled rows: their count, each numeric feature's missing and infinite values,
    the total row weight and the label's standard deviation; refusing what the pipeline cannot fit."""
    from pyspark.sql import functions as F

    aggregates = [F.count(F.lit(1)).alias("rows"), F.stddev_samp(F.col(LABEL)).alias("label_std")]
    if training.weighted:
        aggregates.append(F.sum(F.col(WEIGHT)).alias("weight"))
    for i, name in enumerate(plan.numeric):
        dtype = plan.dtypes[name]
        aggregates.append(F.count(F.when(present(name, dtype).isNull(), 1)).alias(f"gaps_{i}"))
        if dtype in ("float", "double"):
            aggregates.append(F.count(F.when(F.abs(spark_column(name)) == math.inf, 1)).alias(f"infinite_{i}"))
    row = prepared.agg(*aggregates).first().asDict()
    training.rows = row["rows"]
    training.label_std = float(row["label_std"] or 0.0) if training.classes == [] else 0.0
    training.weight_total = float(row["weight"]) if training.weighted else float(row["rows"])
    gaps = [name for i, name in enumerate(plan.numeric) if row[f"gaps_{i}"]]
    if gaps and params["impute"] == "none":
        raise DataError(f"features {gaps} have missing values and impute is none; set impute: median (or mean), "
                        f"or drop those rows with a DropMissing step before {node}")
    empty = [name for i, name in enumerate(plan.numeric) if row[f"gaps_{i}"] == training.rows]
    if empty:
        raise DataError(f"features {empty} are missing in every training row, so there is nothing to impute them "
                        "from; leave them out with features: [...]")
    infinite = [name for i, name in enumerate(plan.numeric) if row.get(f"infinite_{i}")]
    if infinite:
        raise DataError(f"features {infinite} have infinite values; replace or drop those rows before {node}")


def quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sql_text(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def preparation_sql(plan: FeaturePlan) -> str:
    """The SQLTransformer's statement: the row's columns, each numeric feature as a double and each categorical
    one as its text, ``MISSING_CATEGORY`` where it is missing."""
    columns = ["*"]
    columns += [f"CAST({quoted(name)} AS DOUBLE) AS {NUMBER_PREFIX}{i}" for i, name in enumerate(plan.numeric)]
    columns += [f"COALESCE({category_text_sql(name, plan.dtypes[name])}, {sql_text(MISSING_CATEGORY)}) AS "
                f"{TEXT_PREFIX}{i}" for i, name in enumerate(plan.categorical)]
    return f"SELECT {', '.join(columns)} FROM __THIS__"


def pipeline_for(plan: FeaturePlan, params: dict[str, Any], estimator):
    """The preparation stages (see the module's doc) and the estimator, as one Pipeline."""
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import Imputer, OneHotEncoder, SQLTransformer, StringIndexer, VectorAssembler

    stages: list[Any] = [SQLTransformer(statement=preparation_sql(plan))]
    assembled = [f"{NUMBER_PREFIX}{i}" for i in range(len(plan.numeric))]
    if assembled and params["impute"] != "none":
        imputed = [f"{name}_imputed" for name in assembled]
        stages.append(Imputer(inputCols=assembled, outputCols=imputed, strategy=params["impute"]))
        assembled = imputed
    if plan.categorical:
        count = range(len(plan.categorical))
        indexes, one_hot = [f"{INDEX_PREFIX}{i}" for i in count], [f"{ONE_HOT_PREFIX}{i}" for i in count]
        stages.append(StringIndexer(inputCols=[f"{TEXT_PREFIX}{i}" for i in count], outputCols=indexes,
                                    handleInvalid="keep", stringOrderType="alphabetAsc"))
        stages.append(OneHotEncoder(inputCols=indexes, outputCols=one_hot, dropLast=True))
        assembled += one_hot
    stages += [VectorAssembler(inputCols=assembled, outputCol=FEATURES), estimator]
    return Pipeline(stages=stages)


def fitted_levels(fitted, plan: FeaturePlan) -> dict[str, list[str]]:
    """Each categorical column's levels: the texts its StringIndexer learned, without ``MISSING_CATEGORY``."""
    from pyspark.ml.feature import StringIndexerModel

    indexer = next((s for s in fitted.stages if isinstance(s, StringIndexerModel)), None)
    if indexer is None:
        return {}
    return {name: [level for level in labels if level != MISSING_CATEGORY]
            for name, labels in zip(plan.categorical, indexer.labelsArray, strict=True)}


def training_metrics(fitted, prepared, task: str, training: TrainingFacts, params: dict[str, Any]):
    """``train_rows`` and, as Score measures them on the training rows (each row once, whatever its weight),
    ``train_accuracy`` or ``train_rmse``: one Spark job."""
    from pyspark.sql import functions as F

    scored = fitted.transform(prepared)
    metrics: dict[str, Any] = {"train_rows": training.rows}
    if task == "classification":
        predicted = predicted_index(PREDICTION, PROBABILITY, len(training.classes), params.get("threshold", 0.5))
        right = (predicted.cast("double") == F.col(LABEL)).cast("double")
        metrics["train_accuracy"] = float(scored.agg(F.avg(right)).first()[0])
    else:
        error = F.col(PREDICTION) - F.col(LABEL)
        metrics["train_rmse"] = float(scored.agg(F.sqrt(F.avg(error * error))).first()[0])
    return metrics


def warn_if_not_converged(ctx: StepContext, stage, params: dict[str, Any]) -> None:
    """An iterative solver that used every iteration allowed may not have converged: a warning. (The normal
    equations' solver reports no iterations.)"""
    if "max_iter" not in params or not getattr(stage, "hasSummary", False):
        return
    iterations = getattr(stage.summary, "totalIterations", 0)
    if iterations >= params["max_iter"]:
        ctx.warn(f"the solver stopped after max_iter ({params['max_iter']}) iterations and may not have "
                 "converged; raise max_iter")


def spark_params(spec: AlgorithmSpec, params: dict[str, Any]) -> dict[str, Any]:
    """The step's parameters that apply on Spark and have a value, for the manifest."""
    return {p.name: params[p.name] for p in spec.all_params
            if params.get(p.name) is not None and (p.engines is None or "spark" in p.engines)}


def classifier(cls, **arguments):
    """A Spark classifier reading and writing the pipeline's columns (GBTClassifier takes its probability
    columns only through setters)."""
    estimator = cls(featuresCol=FEATURES, labelCol=LABEL, predictionCol=PREDICTION, **arguments)
    return estimator.setProbabilityCol(PROBABILITY).setRawPredictionCol(RAW_PREDICTION)


def regressor(cls, **arguments):
    return cls(featuresCol=FEATURES, labelCol=LABEL, predictionCol=PREDICTION, **arguments)


def logistic_regression(params: dict[str, Any], task: str, training: TrainingFacts):
    """LogisticRegression; without ``regParam`` the regularization of scikit-learn's C = 1: Spark averages the
    (weighted) loss over the rows where scikit-learn sums it, so regParam = 1 / the total row weight (the rows,
    without weights); with ``standardization`` times (rows - 1) / rows, as Spark standardizes by the features'
    sample deviation where scikit-learn's StandardScaler takes the population one. (Spark standardizes the
    one-hot columns too, which scikit-learn's pipeline leaves as they are.)"""
    from pyspark.ml.classification import LogisticRegression

    from .specs import l1_share

    classes = training.classes
    if params["family"] == "binomial" and len(classes) > 2:
        raise DataError(f"family binomial takes two classes, but the label '{params['label']}' has "
                        f"{len(classes)}: {classes[:10]}; use family: multinomial or auto")
    strength = params["regParam"]
    if strength is None:
        rows = max(training.rows, 2)
        strength = (1.0 / training.weight_total) * ((rows - 1) / rows if params["standardization"] else 1.0)
    lr = classifier(
        LogisticRegression, maxIter=params["max_iter"], regParam=strength,
        elasticNetParam=l1_share(params, "spark"), fitIntercept=params["fit_intercept"],
        standardization=params["standardization"], tol=params["tol"], family=params["family"])
    if len(classes) == 2:
        lr.setThreshold(params["threshold"])
    if training.weighted:
        lr.setWeightCol(WEIGHT)
    return lr


def tree_arguments(params: dict[str, Any]) -> dict[str, Any]:
    arguments = {"maxDepth": params["max_depth"], "minInstancesPerNode": params["min_samples_leaf"]}
    if params["seed"] is not None:
        arguments["seed"] = params["seed"]
    return arguments


def random_forest(params: dict[str, Any], task: str, training: TrainingFacts):
    """RandomForestClassifier / Regressor: bootstrap samples of every row; at each split the square root of the
    features for a classification, a third for a regression. One-hot columns are binary features, so no
    category outgrows ``maxBins`` (32 bins for each numeric feature)."""
    from pyspark.ml.classification import RandomForestClassifier
    from pyspark.ml.regression import RandomForestRegressor

    arguments = {"numTrees": params["n_estimators"], **tree_arguments(params)}
    if task == "classification":
        return classifier(RandomForestClassifier, featureSubsetStrategy="sqrt", **arguments)
    return regressor(RandomForestRegressor, featureSubsetStrategy="onethird", **arguments)


def gbt(params: dict[str, Any], task: str, training: TrainingFacts):
    """GBTClassifier / GBTRegressor, every feature at each split; Spark's classifier takes two classes only."""
    from pyspark.ml.classification import GBTClassifier
    from pyspark.ml.regression import GBTRegressor

    arguments = {"maxIter": params["n_estimators"], "stepSize": params["learning_rate"], **tree_arguments(params)}
    if task == "regression":
        return regressor(GBTRegressor, **arguments)
    classes = training.classes
    if len(classes) > 2:
        shown = ", ".join(map(str, classes[:10])) + (" ..." if len(classes) > 10 else "")
        raise DataError(f"Spark's GBT classifier takes two classes only, and the label '{params['label']}' has "
                        f"{len(classes)} ({shown}); use TrainRandomForest, or TrainGBT with engine: sklearn or h2o")
    return classifier(GBTClassifier, **arguments)


def linear_regression(params: dict[str, Any], task: str, training: TrainingFacts):
    """LinearRegression, by the normal equations unless there is an L1 penalty (then OWL-QN), so that least
    squares equals scikit-learn's LinearRegression, and a penalty is the one of ``spark_penalty``."""
    from pyspark.ml.regression import LinearRegression

    strength, share = spark_penalty(params["regParam"], params["elasticNetParam"], training.label_std,
                                    training.rows)
    return regressor(
        LinearRegression, regParam=strength, elasticNetParam=share, fitIntercept=params["fit_intercept"],
        standardization=params["standardization"], maxIter=params["max_iter"], tol=params["tol"], solver="auto")


def spark_penalty(strength: float, l1: float, label_std: float, rows: int) -> tuple[float, float]:
    """Spark's ``regParam`` and ``elasticNetParam`` for the objective every engine minimizes: the squared error
    over twice the rows plus ``strength * (l1 * |w|_1 + (1 - l1) / 2 * |w|^2)``, ``w`` of the features
    standardized as scikit-learn's StandardScaler does with ``standardization`` (Spark's standardization also
    divides by the population deviation). Spark fits on the label divided by its population deviation and
    divides ``regParam`` by it too (as glmnet does): the L1 part stays as asked, and the L2 part, divided by that
    deviation, is given times it. (``label_std`` is the sample deviation.)"""
    if strength == 0:
        return 0.0, 0.0
    rows = max(rows, 2)
    deviation = label_std * math.sqrt((rows - 1) / rows) or 1.0
    l1_part, l2_part = strength * l1, strength * (1 - l1) * deviation
    return l1_part + l2_part, l1_part / (l1_part + l2_part)


ESTIMATORS = {"logistic_regression": logistic_regression, "random_forest": random_forest, "gbt": gbt,
              "linear_regression": linear_regression}
