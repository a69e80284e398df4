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
