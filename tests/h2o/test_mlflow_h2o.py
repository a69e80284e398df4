"""An H2O model that ``mlflow.h2o.save_model`` wrote imports as an ``h2o-binary`` version (task, classes and
features learnt from H2O) that LoadModel and Score use on H2O like any other version; an H2O version exports with
mlflow.h2o's layout and a python_function that predicts as Score mode: mojo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
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
    dtypes = {f["name"]: f["dtype"] for f in manifest["features"]}
    assert dtypes == {**dict.fromkeys(NUMBERS, "float64"), "island": "str"}
    assert cli("models", "verify", "imported").code == 0

    out = h2o_project / "scored.csv"
    text = SCORE.replace("DATA", str(DATA)).replace("OUT", str(out))
    run = run_workflow(parse_workflow(text, "score.yaml", {}), ModelStore(h2o_project / "models"),
                       reporter=Reporter(None))
    assert run.ok, run.error
    new = pd.read_csv(DATA / "penguins_new.csv")[[*NUMBERS, "island"]]
    expected = glm.predict(h2o.H2OFrame(new, column_types={"island": "enum"})).as_data_frame()["predict"]
    assert list(pd.read_csv(out)["prediction"]) == list(expected)


EXPORT = """
name: export-h2o
engine: h2o
steps:
  - {id: read, node: ReadCSV, params: {path: "DATA/penguins.csv"}}
  - {id: new, node: ReadCSV, params: {path: "DATA/penguins_new.csv"}}
  - {id: sex-glm, node: TrainLR, inputs: {data: read}, params: {label: sex, threshold: 0.3}}
  - {id: mass-glm, node: TrainLinearRegression, inputs: {data: read}, params: {label: body_mass_g, impute: median}}
  - {id: save-binary, node: SaveModel, inputs: {model: sex-glm}, params: {name: binary-only, format: h2o-binary}}
"""
PER_MODEL = """
  - {{id: save-{m}, node: SaveModel, inputs: {{model: {m}}}, params: {{name: {m}}}}}
  - {{id: score-{m}, node: Score, inputs: {{model: {m}, data: new}}, params: {{mode: mojo}}}}
  - {{id: write-{m}, node: WriteCSV, inputs: {{data: score-{m}}}, params: {{path: "OUT/{m}.csv"}}}}
"""


def test_export_of_h2o_models_predicts_as_score_mojo(h2o, h2o_project: Path, cli):
    """A two-class GLM (threshold 0.3, categories with gaps and an unseen island) and a regression: the exported
    directory has mlflow.h2o's layout (the binary loads with mlflow.h2o.load_model) and its python_function
    predicts Score mode: mojo's column on the same rows (1e-12: WriteCSV's text of the numbers). A version without
    a MOJO is refused in one line."""
    import mlflow.h2o
    import mlflow.pyfunc
    import yaml
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    models = ("sex-glm", "mass-glm")
    text = (EXPORT + "".join(PER_MODEL.format(m=m) for m in models)).replace("DATA", str(DATA))
    run = run_workflow(parse_workflow(text.replace("OUT", str(h2o_project)), "export.yaml", {}),
                       ModelStore(h2o_project / "models"), reporter=Reporter(None))
    assert run.ok, run.error
    result = cli("models", "export", "binary-only", "--format", "mlflow", "-o", h2o_project / "out")
    assert result.code == 2 and "with no MOJO" in result.err
    assert len(result.err.strip().splitlines()) == 1 and not (h2o_project / "out").exists()
    rows = pd.read_csv(DATA / "penguins_new.csv")
    for name in models:
        out = h2o_project / f"{name}-mlflow"
        assert cli("models", "export", name, "--format", "mlflow", "-o", out).code == 0
        mlmodel = yaml.safe_load((out / "MLmodel").read_text())
        assert mlmodel["flavors"]["h2o"] == {"code": None, "data": "model.h2o", "h2o_version": h2o.__version__}
        settings = yaml.safe_load((out / "model.h2o" / "h2o.yaml").read_text())
        assert (out / "model.h2o" / f"{settings['model_file']}.zip").is_file()
        assert f"h2o=={h2o.__version__}" in (out / "requirements.txt").read_text().splitlines()
        loaded = mlflow.h2o.load_model(str(out))
        assert loaded.model_id == settings["model_file"]
        h2o.remove(loaded)
        got = mlflow.pyfunc.load_model(str(out)).predict(rows)
        batch = pd.read_csv(h2o_project / f"{name}.csv")["prediction"]
        if name == "mass-glm":
            np.testing.assert_allclose(np.asarray(got, dtype="float64"), batch, rtol=1e-12, atol=0)
        else:
            assert list(got) == list(batch) and len(set(got)) == 2
