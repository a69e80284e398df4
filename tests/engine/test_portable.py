"""Manual serialization: a linear model's `params` JSON scores without scikit-learn, within 1e-9 of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCORER = """
import json, sys
import numpy as np
from emberflow.engine.portable import LinearModel
model = LinearModel.load(sys.argv[1])
X = np.loadtxt(sys.argv[2], delimiter=",", ndmin=2)
json.dump({"proba": model.predict_proba(X).tolist(), "pred": model.predict(X).tolist(),
           "sklearn_imported": any(m.split(".")[0] == "sklearn" for m in sys.modules)}, sys.stdout)
"""

WORKFLOW = """
name: train-params
vars: {data: data.csv, solver: lbfgs}
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}"}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: y, solver: "${solver}", max_iter: 500}}
  - {id: joblib, node: SaveModel, inputs: {model: train}, params: {name: m}}
  - {id: params, node: SaveModel, inputs: {model: train}, params: {name: m-params, format: params}}
"""


def make_data(path: Path, classes: int, rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(classes)
    X = rng.normal(size=(rows, 4)) * [1.0, 10.0, 0.1, 3.0]
    score = X @ [1.0, -0.2, 5.0, 0.3] + rng.normal(size=rows)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(y=y)
    frame.to_csv(path, index=False)
    return frame


@pytest.mark.parametrize("classes, solver", [(2, "lbfgs"), (2, "liblinear"), (3, "lbfgs")])
def test_params_json_scores_like_sklearn_without_importing_it(cli, tmp_path: Path, monkeypatch, classes, solver):
    monkeypatch.chdir(tmp_path)
    frame = make_data(tmp_path / "data.csv", classes)
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    result = cli("run", "wf.yaml", "--store", "store", "--var", f"solver={solver}", "--quiet")
    assert result.code == 0, result.err

    import joblib

    estimator = joblib.load(tmp_path / "store" / "m" / "1" / "model.joblib")
    X = frame[["a", "b", "c", "d"]]
    np.savetxt(tmp_path / "X.csv", X.to_numpy(), delimiter=",", fmt="%.17g")
    params_file = tmp_path / "store" / "m-params" / "1" / "model.json"
    proc = subprocess.run([sys.executable, "-c", SCORER, str(params_file), str(tmp_path / "X.csv")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    scored = json.loads(proc.stdout)
    assert scored["sklearn_imported"] is False
    np.testing.assert_allclose(scored["proba"], estimator.predict_proba(X), rtol=0, atol=1e-9)
    assert scored["pred"] == estimator.predict(X).tolist()


def test_params_document_is_readable_json(cli, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_data(tmp_path / "data.csv", 2)
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    assert cli("run", "wf.yaml", "--store", "store", "--quiet").code == 0
    doc = json.loads((tmp_path / "store" / "m-params" / "1" / "model.json").read_text())
    assert doc["format"] == "emberflow.linear/1"
    assert doc["features"] == ["a", "b", "c", "d"] and doc["classes"] == [0, 1]
    assert len(doc["coef"]) == 1 and len(doc["coef"][0]) == 4 and len(doc["intercept"]) == 1
    assert doc["threshold"] == 0.5
    manifest = json.loads((tmp_path / "store" / "m-params" / "1" / "manifest.json").read_text())
    assert manifest["format"] == "params" and manifest["loads_with"] == "portable"
