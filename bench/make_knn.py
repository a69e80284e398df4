"""Fit the large model of the save/load benchmark and store it for both sides.

Usage: python -m bench.make_knn ROWS STORE_DIR OUT_DIR
Saves a KNeighborsClassifier fitted on ROWS x 8 float64 into the emberflow store at STORE_DIR twice (as
``bench-knn`` with ``format: auto`` and as ``bench-knn-joblib`` with ``format: joblib``), and as plain
``knn.joblib`` and ``knn.pkl`` files in OUT_DIR for the baselines; and the same model fitted on 100 rows
(``bench-knn-small``, ``small.pkl``), which both sides load first so that importing scikit-learn is not timed.
Prints the formats chosen as JSON.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

import joblib
import numpy as np
from emberflow.engine.api import Model, save_to_store
from emberflow.engine.store import ModelStore
from sklearn.neighbors import KNeighborsClassifier

from .data import FEATURES, feature_names


def knn_model(rows: int) -> Model:
    rng = np.random.default_rng(11)
    X = rng.standard_normal((rows, FEATURES))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype("int64")
    knn = KNeighborsClassifier(n_neighbors=5).fit(X, y)
    return Model(obj=knn, engine="sklearn", features=feature_names(), label="label", classes=[0, 1],
                 feature_types={f: "float64" for f in feature_names()}, params={"n_neighbors": 5})


def main(rows: int, store_dir: Path, out_dir: Path) -> dict:
    model, small = knn_model(rows), knn_model(100)
    store = ModelStore(store_dir)
    formats = {}
    for name, fmt, saved in (("bench-knn", "auto", model), ("bench-knn-joblib", "joblib", model),
                             ("bench-knn-small", "auto", small)):
        _ref, manifest = save_to_store(store, saved, name, fmt, {"step": "make_knn"})
        formats[name] = manifest["format"]
    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model.obj, out_dir / "knn.joblib")
    for path, obj in ((out_dir / "knn.pkl", model.obj), (out_dir / "small.pkl", small.obj)):
        with open(path, "wb") as handle:
            pickle.dump(obj, handle, protocol=5)
    return formats


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))))
