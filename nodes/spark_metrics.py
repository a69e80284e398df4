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
    """The sklearn engine's metrics, computed by Spark jobs: accuracy and log loss in one aggregation, the
    confusion matrix by grouping, ROC AUC (one-vs-rest beyond two classes) by Spark's exact evaluator. ``scored``
    is cached by the caller (``kept_for_the_run``), so these jobs read the rows from memory."""
    from pyspark.sql import functions as F

    y = spark_column(label)
    labelled = scored.where(y.isNotNull())
    counts = {(r[0], r[1]): r[2] for r in labelled.groupBy(y, spark_column(params["prediction_col"]))
              .count().collect()}
    present = {truth for truth, _ in counts}
    row = labelled.agg(F.count(F.lit(1)), F.avg((y == spark_column(params["prediction_col"])).cast("double")),
                       F.avg(-F.log(_clipped(true_class_probability(y, classes, params))))).first()
    metrics: dict[str, Any] = {"rows": int(row[0]), "accuracy": float(row[1] or 0.0)}
    if len(present) > 1 and present <= set(classes):
        metrics["roc_auc"] = spark_roc_auc(labelled, y, classes, params)
        metrics["log_loss"] = float(row[2])
    metrics["confusion_matrix"] = {
        "labels": list(classes),
        "matrix": [[counts.get((truth, guess), 0) for guess in classes] for truth in classes],
    }
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
