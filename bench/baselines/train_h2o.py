"""Baseline of workflows/train_h2o.yaml, as a user would write it with the h2o client.

Usage: python train_h2o.py DATA.csv MODEL_DIR SCORED.csv METRICS.json
"""

import json
import sys

import h2o
from h2o.estimators import H2OGeneralizedLinearEstimator
from h2o_local import start, stop

data, model_dir, scored_path, metrics_path = sys.argv[1:5]

start()
frame = h2o.import_file(data)
train, test = frame.split_frame(ratios=[0.75], seed=7)
features = [c for c in frame.columns if c != "label"]
train["label"] = train["label"].asfactor()
model = H2OGeneralizedLinearEstimator(family="binomial", lambda_=0.0, max_iterations=100, beta_epsilon=1e-4)
model.train(x=features, y="label", training_frame=train)
h2o.save_model(model, path=model_dir, force=True)
model.download_mojo(path=model_dir)

test["label"] = test["label"].asfactor()
predictions = model.predict(test)
performance = model.model_performance(test)
metrics = {"auc": performance.auc(), "logloss": performance.logloss(),
           "accuracy": performance.accuracy(thresholds=[0.5])[0][1],
           "confusion_matrix": performance.confusion_matrix(thresholds=0.5).to_list()}
scored = test.cbind(predictions["predict"]).cbind(predictions["p1"])
h2o.export_file(scored, scored_path, force=True)
with open(metrics_path, "w") as handle:
    json.dump(metrics, handle, default=str)
stop()
