"""Baseline of the serve-h2o benchmark: H2O's own MOJO scoring without a cluster, h2o.mojo_predict_pandas,
called once per row for the first SINGLE rows of DATA.csv, then once for the first BATCH rows.

Usage: python mojo_predict_pandas.py MOJO.zip GENMODEL.jar DATA.csv SINGLE BATCH
Prints {"single": seconds of the one-row calls, "batch": seconds of the batch call, "p1": its probabilities}.
"""

import json
import sys
import time

import h2o
import pandas as pd

mojo, genmodel, data, single, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
frame = pd.read_csv(data)


def score(rows):
    return h2o.mojo_predict_pandas(rows, mojo_zip_path=mojo, genmodel_jar_path=genmodel, java_options="-Xmx1g")


rows = [frame.iloc[[i]] for i in range(single)]
start = time.perf_counter()
for row in rows:
    score(row)
singles = time.perf_counter() - start
start = time.perf_counter()
predictions = score(frame.head(batch))
batched = time.perf_counter() - start
print(json.dumps({"single": singles, "batch": batched, "p1": predictions["p1"].astype(float).tolist()}))
