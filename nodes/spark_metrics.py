"""Score's metrics on Spark, computed by Spark jobs without collecting the rows, equal to the NumPy ones
(``metrics``) on the same predictions; and the Spark helpers Score shares with them.

Nothing here imports PySpark at import time: ``score`` imports this module on every engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emberflow.engine.api import StepContext


def spark_column(name: str):
    """A column by its exact name (dots and backticks in it taken literally)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def probability_columns(classes: list[Any], params: dict[str, Any]) -> list[str]:
    """The probability columns Score adds: one for two classes (the second's), else one per class."""
    if len(classes) == 2:
        return [params["probability_col"]]
    return [f"{params['probability_col']}_{c}" for c in classes]


def kept_for_the_run(ctx: StepContext, scored):
    """The scored Spark frame, cached until the run ends: the metrics' jobs and the step that writes the rows
    then read the scores from memory, instead of each reading and scoring the data again."""
    scored = scored.persist()
    ctx.sessions.on_stop(scored.unpersist)
    return scored


def spark_metrics(scored, label: str, classes: list[Any], params: dict[str, Any]) -> dict[str, Any]:
    """The sklearn engine's classification metrics, computed by Spark jobs: the (label, prediction) pairs counted
    by grouping give the confusion matrix, precision, recall and F1 (``metrics.label_scores``); accuracy, log loss
    and the rows without a label in one aggregation; ROC AUC (one-vs-rest beyond two classes) by Spark's exact
    evaluator. Rows whose label is null (or NaN) are left out and counted. ``scored`` is cached by the caller
    (``kept_for_the_run``), so these jobs read the rows from memory."""
    from emberflow.nodes.frame_columns import spark_missing
    from emberflow.nodes.metrics import confusion_of, counted_rows, label_scores
    from pyspark.sql import functions as F

    y, guess = spark_column(label), spark_column(params["prediction_col"])
    missing = spark_missing(scored, label)
    labelled = scored.where(~missing)
    counts = {(r[0], r[1]): r[2] for r in labelled.groupBy(y, guess).count().collect()}
    row = scored.agg(F.count(F.when(missing, 1)), F.count(F.when(~missing & (y == guess), 1)),
                     F.avg(F.when(~missing, -F.log(_clipped(true_class_probability(y, classes, params)))))).first()
    rows = sum(counts.values())
    metrics: dict[str, Any] = counted_rows(rows, row[0])
    if rows:
        metrics["accuracy"] = row[1] / rows
        present = {truth for truth, _ in counts}
        if len(present) > 1 and present <= set(classes):
            metrics["roc_auc"] = spark_roc_auc(labelled, y, classes, params)
            metrics["log_loss"] = float(row[2])
        metrics.update(label_scores(counts, list(classes)))
    metrics["confusion_matrix"] = confusion_of(counts, list(classes))
    return metrics


def spark_regression_metrics(scored, label: str, prediction_col: str) -> dict[str, Any]:
    """RMSE, MAE, R² and explained variance in one Spark aggregation, as ``metrics.regression_metrics`` gives
    them: sums of the squared and absolute errors, and the label's and the error's population variances (Spark
    merges those partition by partition without cancelling). Rows whose label is null (or NaN) are left out and
    counted."""
    from emberflow.nodes.frame_columns import spark_missing
    from emberflow.nodes.metrics import check_predictions, counted_rows, regression_figures, text_for_regression
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if not isinstance(scored.schema[label].dataType, T.NumericType | T.BooleanType):
        raise text_for_regression("label column")
    missing = spark_missing(scored, label)
    y = F.when(~missing, spark_column(label).cast("double"))
    guess = spark_column(prediction_col).cast("double")
    error = y - guess
    row = scored.agg(
        F.count(F.when(missing, 1)), F.count(y), F.count(F.when(~missing & (guess.isNull() | F.isnan(guess)), 1)),
        F.sum(error * error), F.sum(F.abs(error)), F.var_pop(y), F.var_pop(error), F.min(y), F.max(y)).first()
    without_label, rows, no_prediction, squared, absolute, label_variance, error_variance, lowest, highest = row
    check_predictions(no_prediction)
    metrics: dict[str, Any] = counted_rows(rows, without_label)
    if rows:
        label_spread = 0.0 if lowest == highest else label_variance * rows
        metrics.update(regression_figures(rows, squared, absolute, label_spread, error_variance * rows))
    return metrics


def true_class_probability(y, classes: list[Any], params: dict[str, Any]):
    """The probability the model gave to each row's true class."""
    from pyspark.sql import functions as F

    columns = [spark_column(n) for n in probability_columns(classes, params)]
    if len(classes) == 2:
        return F.when(y == F.lit(classes[1]), columns[0]).otherwise(1.0 - columns[0])
    result = F.lit(None)
    for cls, column in zip(classes, columns, strict=True):
        result = F.when(y == F.lit(cls), column).otherwise(result)
    return result


def _clipped(probability):
    """Clipped to [eps, 1 - eps] as scikit-learn's log_loss does, so a confident mistake is finite."""
    import numpy as np
    from pyspark.sql import functions as F

    eps = float(np.finfo(np.float64).eps)
    return F.least(F.greatest(probability, F.lit(eps)), F.lit(1.0 - eps))


def spark_roc_auc(labelled, y, classes: list[Any], params: dict[str, Any]) -> float:
    """ROC AUC without binning (exact, like scikit-learn's); the mean of one-vs-rest AUCs beyond two classes."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.sql import functions as F

    names = probability_columns(classes, params)
    positives = [classes[1]] if len(classes) == 2 else classes
    scores = []
    for cls, name in zip(positives, names, strict=True):
        pairs = labelled.select((y == F.lit(cls)).cast("double").alias("truth"),
                                spark_column(name).cast("double").alias("score"))
        evaluator = BinaryClassificationEvaluator(rawPredictionCol="score", labelCol="truth",
                                                  metricName="areaUnderROC", numBins=0)
        scores.append(evaluator.evaluate(pairs))
    return float(sum(scores) / len(scores))
