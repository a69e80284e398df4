"""Baseline of workflows/train_sklearn.yaml, as a user would write it with pandas, scikit-learn and joblib.

Usage: python train_sklearn.py DATA.csv MODEL.joblib SCORED.csv METRICS.json
"""

import json
import sys

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

data, model_path, scored_path, metrics_path = sys.argv[1:5]

frame = pd.read_csv(data)
train, test = train_test_split(frame, test_size=0.25, random_state=7)
features = [c for c in frame.columns if c != "label"]
model = LogisticRegression(max_iter=200)
model.fit(train[features].astype("float64"), train["label"])
train_accuracy = float((model.predict(train[features]) == train["label"].to_numpy()).mean())
joblib.dump(model, model_path)

proba = model.predict_proba(test[features])
predicted = np.where(proba[:, 1] > 0.5, model.classes_[1], model.classes_[0])
y = test["label"].to_numpy()
metrics = {
    "train_accuracy": train_accuracy,
    "accuracy": float(accuracy_score(y, predicted)),
    "roc_auc": float(roc_auc_score(y == model.classes_[1], proba[:, 1])),
    "log_loss": float(log_loss(y, proba, labels=model.classes_)),
    "confusion_matrix": confusion_matrix(y, predicted, labels=model.classes_).tolist(),
}
scored = test.copy()
scored["prediction"] = predicted
scored["probability"] = proba[:, 1]
scored.to_csv(scored_path, index=False)
with open(metrics_path, "w") as handle:
    json.dump(metrics, handle)
