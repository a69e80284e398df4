"""Baseline of workflows/score_mojo.yaml: score a CSV with a MOJO and no H2O cluster (h2o.mojo_predict_csv),
then join the predictions to the rows and write them.

Usage: python score_mojo.py MOJO.zip GENMODEL.jar DATA.csv SCORED.csv
Prints {"score": seconds of the scoring call} as JSON.
"""

import json
import sys
import tempfile
import time

import h2o
import pandas as pd

mojo, genmodel, data, scored_path = sys.argv[1:5]

start = time.perf_counter()
with tempfile.TemporaryDirectory() as folder:
    predictions = h2o.mojo_predict_csv(input_csv_path=data, mojo_zip_path=mojo, genmodel_jar_path=genmodel,
                                       output_csv_path=f"{folder}/predictions.csv", java_options="-Xmx1g",
                                       verbose=False)
scored = time.perf_counter() - start
frame = pd.read_csv(data)
frame["prediction"] = [int(row["predict"]) for row in predictions]
frame["probability"] = [float(row["p1"]) for row in predictions]
frame.to_csv(scored_path, index=False)
print(json.dumps({"score": scored}))
