"""An H2O model that ``mlflow.h2o.save_model`` wrote imports as an ``h2o-binary`` version (task, classes and
features learnt from H2O) that LoadModel and Score use on H2O like any other version; export refuses H2O models
in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.h2o

DATA = Path(__file__).resolve().parent.parent.parent / "workflows" / "data"
NUMBERS = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]

SCORE = """
name: score-imported-h2o
engine: h2o
steps:
  - {id: new, node: ReadCSV, params: {path: "DATA/penguins_new.csv"}}
  - {id: load, node: LoadModel, params: {name: imported}}
  - {id: score, node: Score, inputs: {model: load, data: new}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: "OUT"}}
"""


def test_import_of_what_mlflow_h2o_saved_scores_and_verifies(h2o, h2o_project: Path, cli):
    import mlflow.h2o
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow
    from h2o.estimators import H2OGeneralizedLinearEstimator
    from mlflow.models import infer_signature

    train = pd.read_csv(DATA / "penguins.csv")[[*NUMBERS, "island", "species"]]
    frame = h2o.H2OFrame(train, column_types={"island": "enum", "species": "enum"})
    glm = H2OGeneralizedLinearEstimator(family="multinomial", seed=1)
    glm.train(x=[*NUMBERS, "island"], y="species", training_frame=frame)
    saved = h2o_project / "saved"
    mlflow.h2o.save_model(glm, str(saved), signature=infer_signature(train.drop(columns="species").head()),
                          pip_requirements=["h2o"])
    result = cli("models", "import", saved, "--name", "imported")
    assert result.code == 0, result.err
    manifest = json.loads((h2o_project / "models" / "imported" / "1" / "manifest.json").read_text())
    assert manifest["format"] == "h2o-binary" and manifest["source"]["flavor"] == "h2o"
    assert manifest["task"] == "classification" and manifest["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert manifest["features"][0]["name"] == NUMBERS[0] and manifest["libraries"]["h2o"] == h2o.__version__
    assert cli("models", "verify", "imported").code == 0

    out = h2o_project / "scored.csv"
    text = SCORE.replace("DATA", str(DATA)).replace("OUT", str(out))
    run = run_workflow(parse_workflow(text, "score.yaml", {}), ModelStore(h2o_project / "models"),
                       reporter=Reporter(None))
    assert run.ok, run.error
    new = pd.read_csv(DATA / "penguins_new.csv")[[*NUMBERS, "island"]]
    expected = glm.predict(h2o.H2OFrame(new, column_types={"island": "enum"})).as_data_frame()["predict"]
    assert list(pd.read_csv(out)["prediction"]) == list(expected)


def test_export_refuses_an_h2o_model_in_one_line(h2o, h2o_project: Path, cli):
    text = """
name: train-h2o-glm
engine: h2o
steps:
  - {id: read, node: ReadCSV, params: {path: "DATA/penguins.csv"}}
  - {id: lr, node: TrainLR, inputs: {data: read}, params: {label: sex}}
  - {id: save, node: SaveModel, inputs: {model: lr}, params: {name: sex-h2o}}
""".replace("DATA", str(DATA))
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    assert run_workflow(parse_workflow(text, "t.yaml", {}), ModelStore(h2o_project / "models"),
                        reporter=Reporter(None)).ok
    result = cli("models", "export", "sex-h2o", "--format", "mlflow", "-o", h2o_project / "out")
    assert result.code == 2 and "scikit-learn and Spark models only" in result.err
    assert len(result.err.strip().splitlines()) == 1 and not (h2o_project / "out").exists()
