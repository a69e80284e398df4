"""Baseline of workflows/prep_sql.yaml: the same preparation and group-by, written with pandas as a user would.

Usage: python prep_sql.py DATA.csv SUMMARY.csv
"""

import sys

import pandas as pd

data, summary_path = sys.argv[1:3]

frame = pd.read_csv(data)
frame = frame[frame["x0"] > 0]
frame = frame[["x1", "x2", "x3", "label"]]
frame["label"] = frame["label"].astype(str)
summary = frame.groupby("label", sort=True).agg(
    n=("x1", "size"), mean_x1=("x1", "mean"), mean_x2=("x2", "mean"), min_x3=("x3", "min"), max_x3=("x3", "max"),
).reset_index()
summary.to_csv(summary_path, index=False)
