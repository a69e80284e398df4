"""Baseline of workflows/score_sklearn.yaml: load a joblib model, score a CSV with pandas, write the result.

Usage: python score_sklearn.py MODEL.joblib DATA.csv SCORED.csv
"""

import sys

import joblib
import numpy as np
import pandas as pd

model_path, data, scored_path = sys.argv[1:4]

model = joblib.load(model_path)
frame = pd.read_csv(data)
proba = model.predict_proba(frame[list(model.feature_names_in_)])
frame["prediction"] = np.where(proba[:, 1] > 0.5, model.classes_[1], model.classes_[0])
frame["probability"] = proba[:, 1]
frame.to_csv(scored_path, index=False)
