"""Baseline of workflows/train_spark.yaml, as a user would write it with pyspark.

Usage: python train_spark.py DATA.csv MODEL_DIR SCORED.csv METRICS.json
"""

import json
import sys

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F
from spark_session import binary_metrics, start, write_one_csv

data, model_path, scored_path, metrics_path = sys.argv[1:5]

spark = start("baseline-train-spark")
frame = spark.read.csv(data, header=True, inferSchema=True)
train, test = frame.randomSplit([0.75, 0.25], seed=7)
features = [c for c in frame.columns if c != "label"]
pipeline = Pipeline(stages=[
    VectorAssembler(inputCols=features, outputCol="features"),
    LogisticRegression(featuresCol="features", labelCol="label", maxIter=100, regParam=0.0, elasticNetParam=0.0,
                       tol=1e-4),
])
model = pipeline.fit(train.withColumn("label", F.col("label").cast("double")))
train_accuracy = model.stages[-1].summary.accuracy
model.write().overwrite().save(model_path)

scored = model.transform(test.withColumn("label", F.col("label").cast("double"))).select(
    *[F.col(c) for c in frame.columns], F.col("prediction").cast("long").alias("prediction"),
    vector_to_array("probability")[1].alias("probability")).persist()
metrics = binary_metrics(scored, train_accuracy)
write_one_csv(scored, scored_path)
with open(metrics_path, "w") as handle:
    json.dump(metrics, handle)
spark.stop()
