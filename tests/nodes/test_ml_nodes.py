"""SplitData, TrainLR, Score, SaveModel, LoadModel and WriteCSV on the sklearn engine."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from emberflow.engine.params import resolve_params
from emberflow.nodes.learners.sklearn_backend import logistic_regression
from emberflow.nodes.train import TrainLR
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .helpers import run_text


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = (X @ [1.5, -2.0, 0.5] + rng.normal(scale=0.8, size=400) > 0).astype(int)
    pd.DataFrame(X, columns=["f1", "f2", "f3"]).assign(label=y).to_csv(tmp_path / "data.csv", index=False)
    return tmp_path / "data.csv"


PIPELINE = """
name: t
vars: {data: data.csv, out: out}
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: split, node: SplitData, inputs: {data: read}, params: {test_size: 0.3, seed: 11, stratify: label}}
  - {id: train, node: TrainLR, inputs: {data: split.train}, params: {label: label, C: 0.5}}
  - {id: score, node: Score, inputs: {model: train, data: split.test}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: "${out}/scored.csv"}}
"""


def test_split_train_score_match_a_hand_written_script(data: Path, tmp_path: Path):
    result = run_text(PIPELINE, tmp_path / "store", data=str(data), out=str(tmp_path / "out"))
    assert result.ok, result.error
    frame = pd.read_csv(data)
    train, test = train_test_split(frame, test_size=0.3, random_state=11, stratify=frame["label"])
    estimator = make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(train[["f1", "f2", "f3"]],
                                                                                train["label"])
    proba = estimator.predict_proba(test[["f1", "f2", "f3"]])

    scored = pd.read_csv(tmp_path / "out" / "scored.csv")
    assert scored[["f1", "f2", "f3"]].to_numpy() == pytest.approx(test[["f1", "f2", "f3"]].to_numpy())
    np.testing.assert_allclose(scored["probability"], proba[:, 1], atol=1e-12)
    assert scored["prediction"].tolist() == estimator.predict(test[["f1", "f2", "f3"]]).tolist()

    metrics = result.record["metrics"]["score"]
    assert metrics["accuracy"] == pytest.approx(accuracy_score(test["label"], estimator.predict(test[["f1", "f2",
                                                                                                        "f3"]])))
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(test["label"], proba[:, 1]))
    assert metrics["log_loss"] == pytest.approx(log_loss(test["label"], proba))
    assert metrics["confusion_matrix"]["matrix"] == confusion_matrix(test["label"], proba.argmax(1)).tolist()
    step = next(s for s in result.record["steps"] if s["id"] == "score")
    assert step["rows"] == len(test) and step["metrics"]["accuracy"] == metrics["accuracy"]


@pytest.mark.parametrize("threshold", [0.5, 0.2, 0.8])
def test_the_training_accuracy_is_measured_at_the_steps_threshold(data: Path, tmp_path: Path, threshold: float):
    """train_accuracy predicts as Score does (the second class above the threshold), as on Spark and H2O: Score
    on the training rows gives the same accuracy."""
    text = f"""
name: t
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{data}"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: label, threshold: {threshold}}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: m}}}}
  - {{id: score, node: Score, inputs: {{model: train, data: read}}}}
"""
    result = run_text(text, tmp_path / "store")
    assert result.ok, result.error
    manifest = json.loads((tmp_path / "store" / "m" / "1" / "manifest.json").read_text())
    assert manifest["metrics"]["train_accuracy"] == result.record["metrics"]["score"]["accuracy"]


def resolved(**given):
    params = resolve_params(TrainLR.params, {"label": "y", **given}, "sklearn", "TrainLR")
    TrainLR.check_params(params, "sklearn")
    return params


def sklearn_arguments(params, rows):
    return logistic_regression(params, "classification", rows).get_params()


def test_fire_insights_names_map_to_scikit_learn():
    args = sklearn_arguments(resolved(maxIter=50, regParam=0.01, elasticNetParam=1.0, fitIntercept=False,
                                      solver="saga"), rows=200)
    assert args["max_iter"] == 50 and args["fit_intercept"] is False
    assert args["C"] == pytest.approx(1 / (0.01 * 200))
    assert args["l1_ratio"] == 1.0


@pytest.mark.parametrize("penalty, expected", [("l2", (1.0, 0.0)), ("l1", (1.0, 1.0)), ("none", (math.inf, 0.0))])
def test_penalty_is_spelled_the_new_way(penalty, expected):
    args = sklearn_arguments(resolved(penalty=penalty, solver="saga"), rows=10)
    assert (args["C"], args["l1_ratio"]) == expected


def test_train_errors_name_the_column(tmp_path: Path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,x,0\n2,y,1\n")
    text = """
name: t
steps:
  - {id: read, node: ReadCSV, params: {path: d.csv}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: y, features: [a, bb]}}
"""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run_text(text, tmp_path / "store")
    finally:
        os.chdir(cwd)
    assert not result.ok and result.exit_code == 2
    assert "feature columns ['bb'] are not in the data" in str(result.error) and "'b'" in str(result.error)
    assert result.record["steps"][1]["status"] == "failed"


def test_save_to_a_plain_path_and_load_it_back(data: Path, tmp_path: Path):
    text = """
name: t
vars: {data: data.csv, model: m.joblib}
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: label}}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {path: "${model}"}}
"""
    model_path = tmp_path / "models" / "m.joblib"
    assert run_text(text, tmp_path / "store", data=str(data), model=str(model_path)).ok
    sidecar = json.loads((tmp_path / "models" / "m.joblib.manifest.json").read_text())
    assert sidecar["format"] == "joblib" and "m.joblib" in sidecar["files"]
    again = run_text(text, tmp_path / "store", data=str(data), model=str(model_path))
    assert again.exit_code == 2 and "exists" in str(again.error)

    load = """
name: l
vars: {data: data.csv, model: m.joblib, trust: false}
steps:
  - {id: load, node: LoadModel, params: {path: "${model}", trust: "${trust}"}}
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: score, node: Score, inputs: {model: load, data: read}}
"""
    refused = run_text(load, tmp_path / "store", data=str(data), model=str(model_path))
    assert refused.exit_code == 2 and "trust: true" in str(refused.error)
    trusted = run_text(load, tmp_path / "store", data=str(data), model=str(model_path), trust=True)
    assert trusted.ok, trusted.error
    assert trusted.record["metrics"]["score"]["accuracy"] > 0.7


def test_alias_and_loading_by_alias(data: Path, tmp_path: Path):
    text = """
name: t
vars: {data: data.csv, C: 1.0}
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: label, C: "${C}"}}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {name: m, alias: prod}}
"""
    assert run_text(text, tmp_path / "store", data=str(data), C=0.01).ok
    assert run_text(text.replace(", alias: prod", ""), tmp_path / "store", data=str(data)).ok
    load = """
name: l
steps:
  - {id: load, node: LoadModel, params: {name: m@prod}}
"""
    from emberflow.engine.store import ModelStore

    assert ModelStore(tmp_path / "store").aliases("m") == {"prod": 1}
    result = run_text(load, tmp_path / "store")
    assert result.ok
    manifest = ModelStore(tmp_path / "store").manifest(ModelStore(tmp_path / "store").resolve("m@prod"))
    assert manifest["params"]["C"] == 0.01


def test_write_csv_replaces_atomically_and_respects_overwrite(data: Path, tmp_path: Path):
    text = """
name: w
vars: {data: data.csv, out: out.csv, overwrite: true}
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: write, node: WriteCSV, inputs: {data: read}, params: {path: "${out}", separator: ";",
                                                                 overwrite: "${overwrite}"}}
"""
    out = tmp_path / "deep" / "out.csv"
    assert run_text(text, tmp_path / "store", data=str(data), out=str(out)).ok
    assert out.read_text().splitlines()[0] == "f1;f2;f3;label"
    assert [p.name for p in out.parent.iterdir()] == ["out.csv"]
    kept = run_text(text, tmp_path / "store", data=str(data), out=str(out), overwrite=False)
    assert kept.exit_code == 2 and "overwrite is false" in str(kept.error)
