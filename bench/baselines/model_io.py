"""Baseline of the model save and load benchmark: what a user writes to load a model file and save it again.

Usage: python model_io.py joblib|joblib-mmap|pickle SMALL_MODEL_FILE MODEL_FILE COPY_FILE
Loads the small model first (untimed: it imports scikit-learn), then times loading MODEL_FILE and saving it
to COPY_FILE. Prints {"load": seconds, "save": seconds} as JSON (joblib-mmap: memory-mapped loading).
"""

import json
import pickle
import sys
import time

import joblib

kind, small, source, copy = sys.argv[1:5]

with open(small, "rb") as handle:
    pickle.load(handle)
start = time.perf_counter()
if kind.startswith("joblib"):
    model = joblib.load(source, mmap_mode="r" if kind == "joblib-mmap" else None)
else:
    with open(source, "rb") as handle:
        model = pickle.load(handle)
loaded = time.perf_counter()
if kind.startswith("joblib"):
    joblib.dump(model, copy)
else:
    with open(copy, "wb") as handle:
        pickle.dump(model, handle, protocol=5)
saved = time.perf_counter()
print(json.dumps({"load": loaded - start, "save": saved - loaded}))
