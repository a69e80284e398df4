"""Baseline of the model save and load benchmark: what a user writes to load a model file and save it again.

Usage: python model_io.py joblib|joblib-mmap|pickle MODEL_FILE COPY_FILE
Prints {"load": seconds, "save": seconds} as JSON (joblib-mmap: memory-mapped loading).
"""

import json
import pickle
import sys
import time

import joblib

kind, source, copy = sys.argv[1:4]

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
