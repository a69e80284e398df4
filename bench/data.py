"""Seeded data for the benchmarks: a binary classification problem with numeric features, written as CSV; the
same with two text columns and missing values (the random forest case); and the Pima Indians diabetes data as the
tutorial reads it.

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
    name = f"{'labelled' if with_label else 'features'}-{rows}-seed{seed}.csv"
    names = feature_names() + (["label"] if with_label else [])
    return _generated(folder / name, rows, seed, names, lambda rng, n: make_chunk(rng, n, with_label))


def _generated(path: Path, rows: int, seed: int, names: list[str], chunk) -> Path:
    """``path``, written once from ``chunk(rng, n)`` tables of at most CHUNK_ROWS rows (aside, then renamed)."""
    import numpy as np
    import pyarrow.csv as pcsv

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    rng = np.random.default_rng(seed)
    with open(tmp, "wb") as handle:
        handle.write((",".join(names) + "\n").encode())
        done = 0
        while done < rows:
            n = min(CHUNK_ROWS, rows - done)
            pcsv.write_csv(chunk(rng, n), handle, pcsv.WriteOptions(include_header=False))
            done += n
    os.replace(tmp, path)
    return path


# The random forest case: the 8 features above with a share of them missing, and two text columns whose levels
# move the label too (so a model that drops or mangles them is worse, and the agreement check sees it).
CATEGORIES = {
    "region": {"north": 1.0, "south": -1.0, "east": 0.5, "west": -0.5, "centre": 0.0, "islands": 1.5},
    "channel": {"web": 0.8, "phone": -0.4, "branch": 0.0, "partner": -1.2},
}
UNSEEN = {"region": "atlantis", "channel": "carrier pigeon"}  # levels only the scored file has
MISSING_SHARE = 0.02  # of each feature and each text column, at random


def mixed_names() -> list[str]:
    return [*feature_names(), *CATEGORIES, "label"]


def make_mixed_chunk(rng, rows: int, unseen_share: float):
    """``rows`` rows: standard-normal features, two text columns drawn uniformly from their levels, a 0/1 label
    from a logistic model of both; then ``MISSING_SHARE`` of every feature and text value made missing, and
    ``unseen_share`` of the text values replaced by a level the training data never has."""
    import numpy as np
    import pyarrow as pa

    X = rng.standard_normal((rows, FEATURES))
    logit = X @ np.asarray(WEIGHTS) - 0.3
    texts = {}
    for column, effects in CATEGORIES.items():
        levels = np.asarray(list(effects), dtype=object)
        codes = rng.integers(len(levels), size=rows)
        logit += np.asarray(list(effects.values()))[codes]
        values = levels[codes]
        values[rng.random(rows) < unseen_share] = UNSEEN[column]
        texts[column] = pa.array(values, pa.string(), mask=rng.random(rows) < MISSING_SHARE)
    label = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")
    numbers = {name: pa.array(X[:, i], mask=rng.random(rows) < MISSING_SHARE)
               for i, name in enumerate(feature_names())}
    return pa.table({**numbers, **texts, "label": label})


def mixed_csv_file(folder: Path, rows: int, seed: int, unseen_share: float = 0.0) -> Path:
    """The labelled CSV of the random forest case: ``rows`` rows from ``seed``, missing values as empty fields,
    the text columns quoted; ``unseen_share`` > 0 for a file to score, with levels training never saw."""
    unseen = f"-unseen{unseen_share:g}" if unseen_share else ""
    path = folder / f"mixed-{rows}-seed{seed}{unseen}.csv"
    return _generated(path, rows, seed, mixed_names(), lambda rng, n: make_mixed_chunk(rng, n, unseen_share))


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
