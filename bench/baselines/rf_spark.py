"""Baseline of workflows/rf_spark.yaml, as a user would write it with pyspark: a missing text value made a level
of its own (SQLTransformer), the numeric columns' missing values imputed with their median (Imputer), the text
columns indexed (StringIndexer, handleInvalid keep: a level unseen in training goes to an extra index that
OneHotEncoder's dropLast leaves out, so it is all zeros) and one-hot encoded, then assembled with the numbers into
one vector for a random forest of 100 trees; fitted on the training file, its accuracy on the training rows (the
forest's training summary; TrainRandomForest reports it), then the scored file's probabilities and the same
metrics as Score.

Usage: python rf_spark.py TRAIN.csv SCORE.csv METRICS.json
"""

import json
import sys

from pyspark.ml import Pipeline
from pyspark.ml.classification import RandomForestClassifier
from pyspark.ml.feature import Imputer, OneHotEncoder, SQLTransformer, StringIndexer, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import functions as F
from spark_session import binary_metrics, start

train_path, score_path, metrics_path = sys.argv[1:4]

spark = start("baseline-rf-spark")
train = spark.read.csv(train_path, header=True, inferSchema=True)
features = [c for c in train.columns if c != "label"]
text = [c for c, kind in train.dtypes if c in features and kind == "string"]
numeric = [c for c in features if c not in text]
levels = ", ".join(f"COALESCE(`{c}`, '(missing)') AS `{c}_level`" for c in text)
pipeline = Pipeline(stages=[
    SQLTransformer(statement=f"SELECT *, {levels} FROM __THIS__"),
    Imputer(strategy="median", inputCols=numeric, outputCols=[f"{c}_imputed" for c in numeric]),
    StringIndexer(inputCols=[f"{c}_level" for c in text], outputCols=[f"{c}_index" for c in text],
                  handleInvalid="keep"),
    OneHotEncoder(inputCols=[f"{c}_index" for c in text], outputCols=[f"{c}_onehot" for c in text]),
    VectorAssembler(inputCols=[f"{c}_imputed" for c in numeric] + [f"{c}_onehot" for c in text],
                    outputCol="features"),
    RandomForestClassifier(featuresCol="features", labelCol="label", numTrees=100, maxDepth=10,
                           minInstancesPerNode=1, seed=7),
])
model = pipeline.fit(train.withColumn("label", F.col("label").cast("double")))
train_accuracy = model.stages[-1].summary.accuracy

scoring = spark.read.csv(score_path, header=True, inferSchema=True)
scored = model.transform(scoring.withColumn("label", F.col("label").cast("double"))).select(
    "label", F.col("prediction").cast("long").alias("prediction"),
    vector_to_array("probability")[1].alias("probability")).persist()
metrics = binary_metrics(scored, train_accuracy)
with open(metrics_path, "w") as handle:
    json.dump(metrics, handle)
spark.stop()
