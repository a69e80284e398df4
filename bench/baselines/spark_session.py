"""The SparkSession the pyspark baselines start: local, on loopback, quiet, as emberflow's defaults."""

import os

from pyspark.sql import SparkSession


def start(app_name: str) -> SparkSession:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return (SparkSession.builder.master("local[*]").appName(app_name)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(os.cpu_count() or 1))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .getOrCreate())


def write_one_csv(frame, path: str) -> None:
    """One CSV file, as a user gets it from Spark: one partition, then the part file moved to ``path``."""
    import glob
    import shutil

    folder = path + ".parts"
    frame.coalesce(1).write.options(header=True, quote='"', escape='"').mode("overwrite").csv(folder)
    (part,) = glob.glob(os.path.join(folder, "part-*"))
    os.replace(part, path)
    shutil.rmtree(folder)


def binary_metrics(scored, train_accuracy: float) -> dict:
    """Score's metrics of a scored frame (columns label, prediction, probability of class 1), computed by Spark
    jobs as a user would write them: rows, accuracy, log loss (clipped as scikit-learn clips), exact ROC AUC and
    the confusion matrix, beside the training accuracy."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.sql import functions as F

    eps = 2.220446049250313e-16
    p_true = F.when(F.col("label") == 1, F.col("probability")).otherwise(1 - F.col("probability"))
    row = scored.agg(F.count(F.lit(1)), F.avg((F.col("label") == F.col("prediction")).cast("double")),
                     F.avg(-F.log(F.least(F.greatest(p_true, F.lit(eps)), F.lit(1 - eps))))).first()
    confusion = {(r[0], r[1]): r[2] for r in scored.groupBy("label", "prediction").count().collect()}
    auc = BinaryClassificationEvaluator(rawPredictionCol="probability", labelCol="label", metricName="areaUnderROC",
                                        numBins=0).evaluate(scored)
    return {"train_accuracy": train_accuracy, "rows": row[0], "accuracy": row[1], "log_loss": row[2],
            "roc_auc": auc, "confusion_matrix": [[confusion.get((t, p), 0) for p in (0, 1)] for t in (0.0, 1.0)]}
