"""Baseline of workflows/rf_h2o.yaml, as a user would write it with the h2o client: H2O's parser reads the text
columns as enums (categorical, a missing value NA) and its DRF handles them and the numbers' missing values
natively; a random forest of 100 trees trained on the training file, its accuracy on the training rows (at 0.5, from a
prediction of them; TrainRandomForest reports it), then the scored file's predictions and the same metrics as
Score.

Usage: python rf_h2o.py TRAIN.csv SCORE.csv METRICS.json
"""

import json
import sys

import h2o
from h2o.estimators import H2ORandomForestEstimator
from h2o_local import start, stop


def accuracy(predictions, frame) -> float:
    """The share of rows whose class, the second one when its probability is above 0.5, is the label."""
    return ((predictions["p1"] > 0.5) == frame["label"].asnumeric()).mean()[0]


train_path, score_path, metrics_path = sys.argv[1:4]

start()
train = h2o.import_file(train_path)
train["label"] = train["label"].asfactor()
features = [c for c in train.columns if c != "label"]
model = H2ORandomForestEstimator(ntrees=100, max_depth=10, min_rows=1, seed=7)
model.train(x=features, y="label", training_frame=train)

train_accuracy = accuracy(model.predict(train), train)

scoring = h2o.import_file(score_path)
scoring["label"] = scoring["label"].asfactor()
predictions = model.predict(scoring)
performance = model.model_performance(scoring)
metrics = {"train_accuracy": train_accuracy, "rows": scoring.nrows, "accuracy": accuracy(predictions, scoring),
           "roc_auc": performance.auc(), "log_loss": performance.logloss(),
           "confusion_matrix": performance.confusion_matrix(thresholds=0.5).to_list()}
with open(metrics_path, "w") as handle:
    json.dump(metrics, handle, default=str)
stop()
