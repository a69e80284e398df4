"""The trainers on H2O (see tests/nodes/learner_cases.py): GLM, DRF and GBM train on raw rows with text, gaps and
unlabelled rows, save as binary and MOJO, load in a new process (joining the session's H2O) and score the same
rows alike on the cluster and from the MOJO without one; Score's regression metrics; unknown_category: error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nodes import learner_cases as lc

pytestmark = pytest.mark.h2o

H2O_CASES = lc.cases_for("h2o")
MOJO_SCORED = "mojo_{case}.csv"


def run_in(folder: Path, text: str, **overrides: str):
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return run_workflow(parse_workflow(text, "test.yaml", overrides), ModelStore(folder / "models"),
                            reporter=Reporter(None))
    finally:
        os.chdir(cwd)


def mojo_workflow(cases: list[lc.Case]) -> str:
    """Load each saved model and score the test rows from its MOJO, on pandas (no H2O)."""
    steps = ["  - {id: test_data, node: ReadCSV, params: {path: test.csv}}"]
    for case in cases:
        steps += [
            f"  - {{id: load_{case.name}, node: LoadModel, params: {{name: {case.name}}}}}",
            f"  - {{id: score_{case.name}, node: Score, inputs: {{model: load_{case.name}, data: test_data}}, "
            "params: {mode: mojo}}",
            f"  - {{id: write_{case.name}, node: WriteCSV, inputs: {{data: score_{case.name}}}, "
            f"params: {{path: {MOJO_SCORED.format(case=case.name)}}}}}",
        ]
    return "name: mojo\nengine: sklearn\nsteps:\n" + "\n".join(steps) + "\n"


@pytest.fixture(scope="module")
def trained(h2o_engine, tmp_path_factory: pytest.TempPathFactory):
    """The H2O conformance run; the rescore run of its saved models in a new process that joins the session's
    H2O; the MOJO run on pandas."""
    import subprocess
    import sys

    import h2o

    folder = tmp_path_factory.mktemp("h2o-learners")
    lc.write_data(folder)
    result = run_in(folder, lc.train_workflow("h2o"), engine="h2o")
    assert result.ok, result.record.get("error")
    (folder / "rescore.yaml").write_text(lc.rescore_workflow("h2o"))
    rescored = subprocess.run([sys.executable, "-m", "emberflow.engine.cli", "run", "rescore.yaml", "--store",
                               "models", "--var", "engine=h2o", "--h2o-url", h2o.connection().base_url],
                              cwd=folder, capture_output=True, text=True, timeout=300, check=False)
    assert rescored.returncode == 0, rescored.stderr
    mojo = run_in(folder, mojo_workflow(H2O_CASES))
    assert mojo.ok, mojo.record.get("error")
    return folder, result, mojo


@pytest.mark.parametrize("case", H2O_CASES, ids=repr)
def test_each_model_scores_raw_rows_alike_reloaded_and_from_its_mojo(trained, case: lc.Case):
    folder, result, _ = trained
    lc.check_scored_rows(folder, case)
    lc.assert_rescored_alike(folder, case)
    scored = pd.read_csv(folder / lc.SCORED.format(case=case.name))
    from_mojo = pd.read_csv(folder / MOJO_SCORED.format(case=case.name))
    for column in lc.outputs(case):
        if column == "prediction" and case.task == "classification":
            assert from_mojo[column].tolist() == scored[column].tolist()
        else:
            np.testing.assert_allclose(from_mojo[column], scored[column], rtol=0, atol=1e-6, err_msg=column)
    manifest = json.loads((folder / "models" / case.name / "1" / "manifest.json").read_text())
    assert manifest["format"] == "h2o" and set(manifest["files"]) == {"model.h2o", "model.zip"}
    assert manifest["task"] == case.task and [f["name"] for f in manifest["features"]] == lc.FEATURES
    schema = {c["name"]: c for c in manifest["input_schema"]}
    assert [schema[n]["kind"] for n in lc.FEATURES] == ["numeric"] * 3 + ["categorical"] * 3
    assert schema["color"]["levels"] == ["blue", "green", "red"]
    assert schema["member"]["levels"] == ["false", "true"] and schema["code"]["levels"] == ["0", "1", "2"]
    assert manifest["metrics"]["train_rows"] == lc.TRAIN_ROWS - 2


def test_score_records_the_task_metrics_as_scikit_learn_computes_them(trained):
    from sklearn import metrics

    folder, result, mojo = trained
    test = pd.read_csv(folder / "test.csv")
    for case in H2O_CASES:
        scored = pd.read_csv(folder / lc.SCORED.format(case=case.name))
        recorded = result.record["metrics"][f"score_{case.name}"]
        from_mojo = dict(mojo.record["metrics"][f"score_{case.name}"])
        assert from_mojo.pop("confusion_matrix", None) == recorded.get("confusion_matrix"), case
        assert from_mojo == pytest.approx({k: v for k, v in recorded.items() if k != "confusion_matrix"},
                                          abs=1e-6), case
        if case.task == "regression":
            y, predicted = test[case.label], scored["prediction"]
            expected = {"rows": lc.TEST_ROWS, "rmse": metrics.root_mean_squared_error(y, predicted),
                        "mae": metrics.mean_absolute_error(y, predicted), "r2": metrics.r2_score(y, predicted),
                        "explained_variance": metrics.explained_variance_score(y, predicted)}
            assert {k: recorded[k] for k in expected} == pytest.approx(expected, abs=1e-9), case
        else:
            accuracy = metrics.accuracy_score(test[case.label], scored["prediction"])
            assert recorded["accuracy"] == pytest.approx(accuracy, abs=1e-12), case


def test_training_warns_of_unlabelled_rows_and_scoring_of_unseen_levels_in_the_record(trained):
    _, result, _ = trained
    warnings = result.record["warnings"]
    for case in H2O_CASES:
        left_out = f"train_{case.name}: left out 2 of {lc.TRAIN_ROWS} training rows whose label"
        assert any(w.startswith(left_out) for w in warnings)
        unseen = [w for w in warnings if w.startswith(f"score_{case.name}: H2O: ")]
        assert len(unseen) == 1 and "levels not trained on" in unseen[0] and "purple" in unseen[0], warnings
    notes = {s["id"]: " ".join(s.get("notes", [])) for s in result.record["steps"]}
    assert "regression: the label 'target' holds more than 20 distinct numbers" in notes["train_rf_regression"]
    assert "classification: the label 'label' is text" in notes["train_rf"]


def test_the_engines_agree_with_scikit_learn(trained, tmp_path: Path):
    """Accuracy (R^2) of H2O's trees within 0.03 of scikit-learn's on the same rows, its linear models'
    probabilities and predictions within 1e-3 where the objective is the same."""
    folder, result, _ = trained
    lc.write_data(tmp_path)
    cases = H2O_CASES
    reference = run_in(tmp_path, lc.train_workflow("sklearn", cases))
    assert reference.ok, reference.record.get("error")
    for case in cases:
        step = f"score_{case.name}"
        lc.assert_agrees_with_sklearn(result.record["metrics"][step], reference.record["metrics"][step], case,
                                      folder, tmp_path)


def test_unknown_category_error_names_the_column_and_value_on_the_cluster_and_for_the_mojo(h2o_engine,
                                                                                          tmp_path: Path):
    lc.write_data(tmp_path)
    params = {"label": "label", "features": lc.FEATURES, "unknown_category": "error", "impute": "mean"}
    text = f"""
name: unknown
engine: h2o
steps:
  - {{id: train_data, node: ReadCSV, params: {{path: train.csv}}}}
  - {{id: test_data, node: ReadCSV, params: {{path: test.csv}}}}
  - {{id: train, node: TrainLR, inputs: {{data: train_data}}, params: {json.dumps(params)}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: strict, format: mojo}}}}
  - {{id: score, node: Score, inputs: {{model: train, data: test_data}}}}
"""
    mojo = """
name: unknown-mojo
steps:
  - {id: test_data, node: ReadCSV, params: {path: test.csv}}
  - {id: load, node: LoadModel, params: {name: strict}}
  - {id: score, node: Score, inputs: {model: load, data: test_data}, params: {mode: mojo}}
"""
    for workflow in (text, mojo):
        result = run_in(tmp_path, workflow)
        error = result.record["error"]
        assert error["step"] == "score" and "\n" not in error["message"], error
        assert error["message"].startswith("column 'color' holds 'purple' in row 1 of the scored data, a category "
                                           "the model never saw (it knows blue, green, red)"), error


def test_impute_median_is_in_the_glm_and_its_mojo(h2o_engine, tmp_path: Path):
    """A linear regression with impute: median (H2O's plug values) scores a row missing x1 as the training
    median of x1, on the cluster and from the MOJO."""
    rows = pd.DataFrame({"x1": [1.0, 2.0, 3.0, 10.0, np.nan, 4.0], "x2": [0.5, 1.0, 0.0, 2.0, 1.5, 3.0]})
    rows["y"] = 2.0 * rows["x1"].fillna(3.0) - rows["x2"] + 1.0
    rows.to_csv(tmp_path / "train.csv", index=False)
    new = pd.DataFrame({"x1": [np.nan, 3.0], "x2": [1.0, 1.0]})
    new.to_csv(tmp_path / "new.csv", index=False)
    text = """
name: median
engine: h2o
steps:
  - {id: data, node: ReadCSV, params: {path: train.csv}}
  - {id: new, node: ReadCSV, params: {path: new.csv}}
  - {id: train, node: TrainLinearRegression, inputs: {data: data}, params: {label: y, impute: median}}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {name: median}}
  - {id: score, node: Score, inputs: {model: train, data: new}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: engine.csv}}
  - {id: mojo, node: Score, engine: sklearn, inputs: {model: train, data: new}, params: {mode: mojo}}
  - {id: write_mojo, node: WriteCSV, engine: sklearn, inputs: {data: mojo}, params: {path: mojo.csv}}
"""
    result = run_in(tmp_path, text)
    assert result.ok, result.record.get("error")
    on_cluster = pd.read_csv(tmp_path / "engine.csv")["prediction"]
    from_mojo = pd.read_csv(tmp_path / "mojo.csv")["prediction"]
    assert on_cluster[0] == pytest.approx(on_cluster[1], abs=1e-6)  # the median of x1 (1, 2, 3, 4, 10) is 3
    np.testing.assert_allclose(from_mojo, on_cluster, rtol=0, atol=1e-6)


def test_a_text_column_read_as_h2o_text_is_a_category_and_weight_col_weighs_the_rows(h2o_engine, tmp_path: Path):
    """A column ReadCSV gives H2O as text (string) is a categorical feature, and weight_col weighs the rows: an
    unregularized TrainLR gives scikit-learn's probabilities for the same weighted, one-hot encoded rows."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    rows = pd.DataFrame({"x": rng.normal(size=80), "t": rng.choice(["a", "b", "c"], size=80),
                         "w": rng.uniform(0.2, 3.0, size=80)})
    rows["y"] = (rows["x"] + 0.8 * (rows["t"] == "b") + rng.normal(size=80) > 0.3).astype(int)
    rows.to_csv(tmp_path / "rows.csv", index=False)
    text = """
name: weighted
engine: h2o
steps:
  - {id: read, node: ReadCSV, params: {path: rows.csv, mode: PERMISSIVE, dtypes: {t: string}}}
  - id: train
    node: TrainLR
    inputs: {data: read}
    params: {label: y, features: [x, t], weight_col: w, regParam: 0, max_iter: 200, tol: 1.0e-10}
  - {id: score, node: Score, inputs: {model: train, data: read}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: scored.csv}}
"""
    result = run_in(tmp_path, text)
    assert result.ok, result.record.get("error")
    X = pd.concat([rows[["x"]], pd.get_dummies(rows["t"], dtype=float)], axis=1)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, rows["y"], sample_weight=rows["w"])
    scored = pd.read_csv(tmp_path / "scored.csv")
    np.testing.assert_allclose(scored["probability"], reference.predict_proba(X)[:, 1], rtol=0, atol=1e-5)
