"""Baseline of workflows/score_spark.yaml: load a Spark ML pipeline, score a CSV, write one CSV file.

Usage: python score_spark.py MODEL_DIR DATA.csv SCORED.csv
"""

import sys

from pyspark.ml import PipelineModel
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F
from spark_session import start, write_one_csv

model_path, data, scored_path = sys.argv[1:4]

spark = start("baseline-score-spark")
model = PipelineModel.load(model_path)
frame = spark.read.csv(data, header=True, inferSchema=True)
scored = model.transform(frame).select(
    *[F.col(c) for c in frame.columns], F.col("prediction").cast("long").alias("prediction"),
    vector_to_array("probability")[1].alias("probability"))
write_one_csv(scored, scored_path)
spark.stop()
