"""A model trained on Spark and saved as ``params`` scores the same rows in pandas, without Spark, within 1e-6
of Spark's own probabilities."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from nodes import learner_cases as lc

from .helpers import write_three_classes

pytestmark = pytest.mark.spark

DATA = Path(__file__).resolve().parents[2] / "workflows" / "data"

TRAIN_ON_SPARK = """
name: train-portable
engine: spark
steps:
  - {id: read, node: ReadCSV, params: {path: "${train}"}}
  - {id: new, node: ReadCSV, params: {path: "${new}"}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: "${label}", regParam: 0.01, family: "${family}"}}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {name: portable, format: params}}
  - {id: score, node: Score, inputs: {model: train, data: new}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: spark.csv}}
"""

SCORE_IN_PANDAS = """
name: score-portable
steps:
  - {id: load, node: LoadModel, params: {name: portable}}
  - {id: read, node: ReadCSV, params: {path: NEW}}
  - {id: score, node: Score, inputs: {model: load, data: read}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: pandas.csv}}
"""

# Runs the pandas workflow in a fresh interpreter and reports whether anything imported pyspark.
NO_SPARK_RUN = """
import sys
from emberflow.engine.cli import main
code = main(["run", "score.yaml", "--quiet"])
print("pyspark imported:", "pyspark" in sys.modules)
sys.exit(code)
"""


def columns(path: Path, prefix: str) -> dict[str, list[float]]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: [float(r[name]) for r in rows] for name in rows[0] if name.startswith(prefix)}


def score_without_spark(folder: Path, new: Path) -> subprocess.CompletedProcess:
    (folder / "score.yaml").write_text(SCORE_IN_PANDAS.replace("NEW", str(new)))
    return subprocess.run([sys.executable, "-c", NO_SPARK_RUN], cwd=folder, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("family", ["binomial", "auto"])
def test_binary_spark_model_scores_in_pandas_within_1e6(run_spark_text, tmp_path: Path, family: str):
    new = DATA / "diabetes_new.csv"
    result = run_spark_text(TRAIN_ON_SPARK, train=str(DATA / "diabetes.csv"), new=str(new), label="class",
                            family=family)
    assert result.ok, result.error
    pandas_run = score_without_spark(tmp_path, new)
    assert pandas_run.returncode == 0, pandas_run.stderr
    assert "pyspark imported: False" in pandas_run.stdout
    on_spark, in_pandas = columns(tmp_path / "spark.csv", "p"), columns(tmp_path / "pandas.csv", "p")
    assert list(on_spark) == list(in_pandas) == ["preg", "plas", "pres", "pedi", "prediction", "probability"]
    assert len(in_pandas["probability"]) == len(new.read_text().strip().splitlines()) - 1
    assert max(abs(a - b) for a, b in zip(on_spark["probability"], in_pandas["probability"], strict=True)) < 1e-6
    assert on_spark["prediction"] == in_pandas["prediction"]


def test_multinomial_spark_model_scores_in_pandas_within_1e6(run_spark_text, tmp_path: Path):
    train = write_three_classes(tmp_path / "train.csv", rows=150, seed=1)
    new = write_three_classes(tmp_path / "new.csv", rows=40, seed=2)
    result = run_spark_text(TRAIN_ON_SPARK, train=str(train), new=str(new), label="species", family="multinomial")
    assert result.ok, result.error
    pandas_run = score_without_spark(tmp_path, new)
    assert pandas_run.returncode == 0, pandas_run.stderr
    on_spark, in_pandas = columns(tmp_path / "spark.csv", "prob"), columns(tmp_path / "pandas.csv", "prob")
    assert list(on_spark) == list(in_pandas) == [
        "probability_setosa", "probability_versicolor", "probability_virginica"]
    for name in on_spark:
        assert max(abs(a - b) for a, b in zip(on_spark[name], in_pandas[name], strict=True)) < 1e-6
    with open(tmp_path / "spark.csv") as s, open(tmp_path / "pandas.csv") as p:
        assert [r["prediction"] for r in csv.DictReader(s)] == [r["prediction"] for r in csv.DictReader(p)]


# ----- models with their preparation (SQLTransformer, Imputer, StringIndexer, OneHotEncoder, VectorAssembler) -----

# (case, trainer, label, params) on the conformance matrix's raw rows: text and boolean columns, integer codes,
# gaps in numbers and categories; the scored rows hold an unseen color and gaps.
PREPARED_CASES = [
    ("lr", "TrainLR", "label", {"impute": "mean"}),
    ("lr_multiclass", "TrainLR", "species", {"family": "multinomial"}),
    ("linear", "TrainLinearRegression", "target", {"regParam": 0.05, "elasticNetParam": 0.5}),
]


def test_prepared_spark_models_score_in_pandas_within_1e6(run_spark_text, tmp_path: Path):
    import numpy as np
    import pandas as pd

    lc.write_data(tmp_path)
    train, score = lc.params_workflows("spark", PREPARED_CASES)
    result = run_spark_text(train)
    assert result.ok, result.error
    (tmp_path / "score.yaml").write_text(score)
    pandas_run = subprocess.run([sys.executable, "-c", NO_SPARK_RUN], cwd=tmp_path, capture_output=True,
                                text=True, timeout=300)
    assert pandas_run.returncode == 0, pandas_run.stderr
    assert "pyspark imported: False" in pandas_run.stdout
    for case, node, label, _params in PREPARED_CASES:
        on_spark, in_pandas = (pd.read_csv(tmp_path / f"{engine}_{case}.csv") for engine in ("spark", "pandas"))
        assert len(in_pandas) == len(on_spark) == lc.TEST_ROWS
        outputs = lc.outputs(lc.Case(case, node, label, "regression" if label == "target" else "classification"))
        numbers = [c for c in outputs if c != "prediction" or label == "target"]
        for column in numbers:
            np.testing.assert_allclose(in_pandas[column], on_spark[column], rtol=0, atol=1e-6, err_msg=case)
        if label != "target":
            assert in_pandas["prediction"].tolist() == on_spark["prediction"].tolist(), case
