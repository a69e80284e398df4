"""The trainers' conformance matrix on the embedded engine (see learner_cases): every algorithm trains on raw
data with text, gaps and unlabelled rows, saves, loads in a new process and scores alike; and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from . import learner_cases as lc
from .helpers import run_text

SKLEARN_CASES = lc.cases_for("sklearn")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    """The sklearn conformance run, and the rescore run of its saved models in a new process."""
    import os
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("conformance")
    lc.write_data(folder)
    (folder / "train.yaml").write_text(lc.train_workflow("sklearn"))
    (folder / "rescore.yaml").write_text(lc.rescore_workflow("sklearn"))
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        result = run_text(lc.train_workflow("sklearn"), folder / "models")
    finally:
        os.chdir(cwd)
    assert result.ok, result.error
    rescored = subprocess.run([sys.executable, "-m", "emberflow.engine.cli", "run", "rescore.yaml", "--store",
                               "models"], cwd=folder, capture_output=True, text=True, timeout=300)
    assert rescored.returncode == 0, rescored.stderr
    return folder, result


@pytest.mark.parametrize("case", SKLEARN_CASES, ids=repr)
def test_each_model_scores_raw_rows_and_alike_after_reloading(trained, case: lc.Case):
    folder, result = trained
    lc.check_scored_rows(folder, case)
    lc.assert_rescored_alike(folder, case)
    manifest = json.loads((folder / "models" / case.name / "1" / "manifest.json").read_text())
    assert manifest["task"] == case.task and manifest["features"] and manifest["input_schema"]
    color = next(c for c in manifest["input_schema"] if c["name"] == "color")
    assert color["kind"] == "categorical" and color["levels"] == ["blue", "green", "red"]
    code = next(c for c in manifest["input_schema"] if c["name"] == "code")
    assert code["kind"] == "categorical" and code["levels"] == ["0", "1", "2"]
    metrics = result.record["metrics"][f"score_{case.name}"]
    expected = {"rows", "rmse", "mae", "r2", "explained_variance"} if case.task == "regression" else {
        "rows", "accuracy", "roc_auc", "log_loss", "confusion_matrix"}
    assert expected <= set(metrics), metrics


def test_rows_without_a_label_are_left_out_with_a_warning(trained):
    _, result = trained
    warnings = [w for w in result.record["warnings"] if "train_lr:" in w or "train_lr " in w]
    assert any(f"left out 2 of {lc.TRAIN_ROWS} training rows whose label 'label' is missing" in w for w in
               result.record["warnings"]), result.record["warnings"]
    assert warnings is not None
    step = next(s for s in result.record["steps"] if s["id"] == "train_rf_regression")
    assert "regression: the label 'target' holds more than 20 distinct numbers" in " ".join(step.get("notes", []))


def test_the_pipeline_is_the_hand_written_one(trained):
    """TrainLR's model equals scikit-learn's own pipeline of the same preparation, fitted on the same rows."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    folder, _ = trained
    train = pd.read_csv(folder / "train.csv").dropna(subset=["label"])
    test = pd.read_csv(folder / "test.csv")

    def as_text(frame):
        frame = frame.copy()
        frame["member"] = frame["member"].map({True: "true", False: "false"})
        frame["code"] = frame["code"].astype(str)
        return frame.astype({"color": object})

    pipeline = Pipeline([
        ("prepare", ColumnTransformer([
            ("numeric", Pipeline([("impute", SimpleImputer(strategy="mean")), ("scale", StandardScaler())]),
             ["x1", "x2", "size"]),
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["color", "member", "code"]),
        ])),
        ("model", LogisticRegression(C=np.inf)),
    ]).fit(as_text(train)[lc.FEATURES], train["label"])
    expected = pipeline.predict_proba(as_text(test)[lc.FEATURES])[:, 1]
    scored = pd.read_csv(folder / lc.SCORED.format(case="lr"))
    np.testing.assert_allclose(scored["probability"], expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("what, params, words", lc.REFUSALS, ids=[r[0] for r in lc.REFUSALS])
def test_refusals_say_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what, params, words):
    monkeypatch.chdir(tmp_path)
    lc.write_data(tmp_path)
    text = ("name: t\nsteps:\n  - {id: read, node: ReadCSV, params: {path: train.csv}}\n"
            f"  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {json.dumps(params)}}}\n")
    result = run_text(text, tmp_path / "models")
    assert not result.ok and result.exit_code == 2, what
    message = str(result.error)
    assert "\n" not in message and all(w in message for w in words), message


def test_unknown_category_error_names_the_column_and_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    lc.write_data(tmp_path)
    text = """
name: t
steps:
  - {id: read, node: ReadCSV, params: {path: train.csv}}
  - {id: test, node: ReadCSV, params: {path: test.csv}}
  - {id: train, node: TrainRandomForest, inputs: {data: read},
     params: {label: label, features: [x1, color], unknown_category: error}}
  - {id: score, node: Score, inputs: {model: train, data: test}}
"""
    result = run_text(text, tmp_path / "models")
    assert not result.ok and result.exit_code == 2
    assert "column 'color' holds 'purple' in row 1" in str(result.error), result.error


def test_knn_is_refused_on_other_engines_at_validation(tmp_path: Path):
    from emberflow.engine.errors import UserError
    from emberflow.engine.workflow import parse_workflow

    text = ("name: t\nengine: spark\nsteps:\n  - {id: read, node: ReadCSV, params: {path: train.csv}}\n"
            "  - {id: train, node: TrainKNN, inputs: {data: read}, params: {label: label}}\n")
    with pytest.raises(UserError) as caught:
        parse_workflow(text, "wf.yaml", {})
    assert "wf.yaml:5" in str(caught.value) and "k-nearest-neighbours" in str(caught.value)


@pytest.mark.parametrize("given, refused", [({"numTrees": 5}, None), ({"ntrees": 5}, None),
                                            ({"maxDepth": 3, "minInstancesPerNode": 2}, None),
                                            ({"learning_rate": 0.1}, "unknown parameter 'learning_rate'")])
def test_each_engines_names_are_aliases(given, refused):
    from emberflow.engine.errors import UserError
    from emberflow.engine.workflow import parse_workflow

    text = ("name: t\nsteps:\n  - {id: read, node: ReadCSV, params: {path: train.csv}}\n"
            f"  - {{id: train, node: TrainRandomForest, inputs: {{data: read}}, params: "
            f"{json.dumps({'label': 'label', **given})}}}\n")
    if refused is None:
        step = parse_workflow(text, "wf.yaml", {}).steps[1]
        assert all(step.params[{"numTrees": "n_estimators", "ntrees": "n_estimators", "maxDepth": "max_depth",
                                "minInstancesPerNode": "min_samples_leaf"}[k]] == v for k, v in given.items())
    else:
        with pytest.raises(UserError, match=refused):
            parse_workflow(text, "wf.yaml", {})


def test_models_show_tells_the_task_and_the_categories_seen(trained, cli):
    folder, _ = trained
    shown = cli("models", "show", "rf_regression", "--store", folder / "models")
    assert shown.code == 0, shown.err
    assert "task: regression (random_forest)" in shown.out
    assert "categories of color: blue, green, red" in shown.out and "categories of member: false, true" in shown.out
    assert "evaluated by step score_rf_regression" in shown.out and "r2" in shown.out
