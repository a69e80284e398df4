"""H2O GLMs saved as ``params`` score raw rows (text columns, gaps, categories the model never saw) with NumPy
alone, in a process where importing h2o, pyspark or scikit-learn fails, within 1e-6 of H2O's own scores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nodes import learner_cases as lc

pytestmark = pytest.mark.h2o

# (case, trainer, label, params): a binomial GLM with mean imputation, a multinomial one with the medians as
# plug values, an elastic-net gaussian one; the scored rows hold an unseen color and gaps.
CASES = [
    ("lr", "TrainLR", "label", {"impute": "mean"}),
    ("lr_multiclass", "TrainLR", "species", {}),
    ("linear", "TrainLinearRegression", "target", {"regParam": 0.05, "elasticNetParam": 0.5}),
]

BLOCKED_RUN = """
import sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("h2o", "pyspark", "sklearn"):
            raise ImportError(name + " is blocked in this process")

sys.meta_path.insert(0, Blocked())
from emberflow.engine.cli import main
sys.exit(main(["run", "score.yaml", "--store", "models", "--quiet"]))
"""


def run_in(folder: Path, text: str):
    """Run a workflow text in this process (joining the session's H2O), from ``folder``, its store there."""
    import os

    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    cwd = os.getcwd()
    os.chdir(folder)
    try:
        return run_workflow(parse_workflow(text, "test.yaml", {}), ModelStore(folder / "models"),
                            reporter=Reporter(None))
    finally:
        os.chdir(cwd)


def test_h2o_glms_score_raw_rows_without_h2o_within_1e6(h2o_engine, tmp_path: Path):
    lc.write_data(tmp_path)
    train, score = lc.params_workflows("h2o", CASES)
    result = run_in(tmp_path, train)
    assert result.ok, result.record.get("error")
    (tmp_path / "score.yaml").write_text(score)
    blocked = subprocess.run([sys.executable, "-c", BLOCKED_RUN], cwd=tmp_path, capture_output=True, text=True,
                             timeout=300)
    assert blocked.returncode == 0, blocked.stderr
    for case, node, label, _params in CASES:
        on_h2o, in_pandas = (pd.read_csv(tmp_path / f"{engine}_{case}.csv") for engine in ("h2o", "pandas"))
        assert len(in_pandas) == len(on_h2o) == lc.TEST_ROWS
        task = "regression" if label == "target" else "classification"
        for column in lc.outputs(lc.Case(case, node, label, task)):
            if column == "prediction" and task == "classification":
                assert in_pandas[column].tolist() == on_h2o[column].tolist(), case
            else:
                np.testing.assert_allclose(in_pandas[column], on_h2o[column], rtol=0, atol=1e-6, err_msg=case)
    document = json.loads((tmp_path / "models" / "lr" / "1" / "model.json").read_text())
    inputs = {i["name"]: i for i in document["inputs"]}
    assert inputs["color"]["levels"][inputs["color"]["missing_level"]] == "(missing)"  # gaps in training
    assert inputs["code"]["missing_level"] == inputs["code"]["unseen_level"] is not None  # none: the mode
