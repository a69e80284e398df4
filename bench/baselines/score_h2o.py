"""Baseline of workflows/score_h2o.yaml: load an H2O binary model, score a CSV on a local H2O, write CSV.

Usage: python score_h2o.py MODEL_FILE DATA.csv SCORED.csv
"""

import sys

import h2o
from h2o_local import start, stop

model_file, data, scored_path = sys.argv[1:4]

start()
model = h2o.load_model(model_file)
frame = h2o.import_file(data)
predictions = model.predict(frame)
h2o.export_file(frame.cbind(predictions["predict"]).cbind(predictions["p1"]), scored_path, force=True)
stop()
