"""Baseline of workflows/rf_sklearn.yaml, as a user would write it with pandas and scikit-learn: the numeric
columns' missing values imputed with their median, the text columns one-hot encoded (a missing value is a level
of its own, a level unseen in training all zeros), a random forest of 100 trees fitted on the training file, its
accuracy on the training rows (TrainRandomForest reports it), then the scored file's probabilities and the same
metrics as Score.

Usage: python rf_sklearn.py TRAIN.csv SCORE.csv METRICS.json
"""

import json
import sys

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

train_path, score_path, metrics_path = sys.argv[1:4]

train = pd.read_csv(train_path)
features = [c for c in train.columns if c != "label"]
numeric = [c for c in features if pd.api.types.is_numeric_dtype(train[c])]
text = [c for c in features if c not in numeric]
model = Pipeline([
    ("prepare", ColumnTransformer([("numeric", SimpleImputer(strategy="median"), numeric),
                                   ("text", OneHotEncoder(handle_unknown="ignore"), text)])),
    ("forest", RandomForestClassifier(n_estimators=100, max_depth=10, min_samples_leaf=1, n_jobs=-1,
                                      random_state=7)),
])
model.fit(train[features], train["label"])
classes = model.classes_
train_proba = model.predict_proba(train[features])
train_accuracy = float((np.where(train_proba[:, 1] > 0.5, classes[1], classes[0]) == train["label"]).mean())

scored = pd.read_csv(score_path)
proba = model.predict_proba(scored[features])
predicted = np.where(proba[:, 1] > 0.5, classes[1], classes[0])
y = scored["label"].to_numpy()
metrics = {
    "train_accuracy": train_accuracy,
    "rows": len(y),
    "accuracy": float(accuracy_score(y, predicted)),
    "roc_auc": float(roc_auc_score(y == classes[1], proba[:, 1])),
    "log_loss": float(log_loss(y, proba, labels=classes)),
    "confusion_matrix": confusion_matrix(y, predicted, labels=classes).tolist(),
}
with open(metrics_path, "w") as handle:
    json.dump(metrics, handle)
