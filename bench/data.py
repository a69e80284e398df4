"""Seeded data for the benchmarks: a binary classification problem with numeric features, written as CSV; and
the Pima Indians diabetes data as the tutorial reads it.

Files are named by their content (rows, seed, label or not), so a second run reuses them.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = 8
CHUNK_ROWS = 500_000
WEIGHTS = (1.5, -2.0, 0.75, 0.0, 1.0, -0.5, 0.25, 2.0)


def feature_names() -> list[str]:
    return [f"x{i}" for i in range(FEATURES)]


def make_chunk(rng, rows: int, with_label: bool):
    """``rows`` rows: standard-normal features and, if asked, a 0/1 label drawn from a logistic model."""
    import numpy as np
    import pyarrow as pa

    X = rng.standard_normal((rows, FEATURES))
    columns = {name: X[:, i] for i, name in enumerate(feature_names())}
    if with_label:
        logit = X @ np.asarray(WEIGHTS) - 0.3
        columns["label"] = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")
    return pa.table(columns)


def csv_file(folder: Path, rows: int, seed: int, with_label: bool = True) -> Path:
    """The CSV of ``rows`` rows from ``seed`` in ``folder``, generated once (written aside, then renamed)."""
    import numpy as np
    import pyarrow.csv as pcsv

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{'labelled' if with_label else 'features'}-{rows}-seed{seed}.csv"
    if path.exists():
        return path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    rng = np.random.default_rng(seed)
    names = feature_names() + (["label"] if with_label else [])
    with open(tmp, "wb") as handle:
        handle.write((",".join(names) + "\n").encode())
        done = 0
        while done < rows:
            n = min(CHUNK_ROWS, rows - done)
            pcsv.write_csv(make_chunk(rng, n, with_label), handle, pcsv.WriteOptions(include_header=False))
            done += n
    os.replace(tmp, path)
    return path


def pima_file(folder: Path) -> Path:
    """The Pima Indians diabetes data (768 rows) as the tutorial reads it: ``pima-indians-diabetes.data.csv``, no
    header. The examples ship it in two parts with a header each, ``workflows/data/diabetes.csv`` (the first 700
    rows) and ``diabetes_new.csv`` (the other 68); they are joined in order."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pima-indians-diabetes.data.csv"
    rows = []
    for part in ("diabetes.csv", "diabetes_new.csv"):
        rows += (ROOT / "workflows" / "data" / part).read_text().strip().splitlines()[1:]
    text = "\n".join(rows) + "\n"
    if not path.exists() or path.read_text() != text:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path
