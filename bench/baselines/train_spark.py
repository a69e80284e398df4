"""Baseline of workflows/train_spark.yaml, as a user would write it with pyspark.

Usage: python train_spark.py DATA.csv MODEL_DIR SCORED.csv METRICS.json
"""

import json
import sys

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F
from spark_session import start, write_one_csv

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
eps = 2.220446049250313e-16
p_true = F.when(F.col("label") == 1, F.col("probability")).otherwise(1 - F.col("probability"))
row = scored.agg(F.count(F.lit(1)), F.avg((F.col("label") == F.col("prediction")).cast("double")),
                 F.avg(-F.log(F.least(F.greatest(p_true, F.lit(eps)), F.lit(1 - eps))))).first()
confusion = {(r[0], r[1]): r[2] for r in scored.groupBy("label", "prediction").count().collect()}
auc = BinaryClassificationEvaluator(rawPredictionCol="probability", labelCol="label", metricName="areaUnderROC",
                                    numBins=0).evaluate(scored)
metrics = {"train_accuracy": train_accuracy, "rows": row[0], "accuracy": row[1], "log_loss": row[2], "roc_auc": auc,
           "confusion_matrix": [[confusion.get((t, p), 0) for p in (0, 1)] for t in (0.0, 1.0)]}
write_one_csv(scored, scored_path)
with open(metrics_path, "w") as handle:
    json.dump(metrics, handle)
spark.stop()
