"""H2O model formats: binary and MOJO in one version, the MOJO when the binary's H2O version is not the running
one, the binary alone when H2O refuses a MOJO, and the portable params JSON of an H2O GLM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.h2o

MODEL = "diabetes-h2o-glm"
DATA = "workflows/data/diabetes.csv"
NEW = "workflows/data/diabetes_new.csv"


def run_text(text: str, store: Path):
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    return run_workflow(parse_workflow(text, "test.yaml"), ModelStore(store), reporter=Reporter(None))


def train_text(fmt: str = "auto", name: str = MODEL, train_params: str = "{label: class, lambda_: 0.0}") -> str:
    return f"""
name: train
engine: h2o
steps:
  - {{id: read, node: ReadCSV, params: {{path: {DATA}}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {train_params}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: {name}, format: {fmt}}}}}
"""


def score_text(model: str = MODEL, engine: str = "h2o", mode: str = "engine") -> str:
    return f"""
name: score
engine: {engine}
steps:
  - {{id: load, node: LoadModel, params: {{name: "{model}"}}}}
  - {{id: read, node: ReadCSV, params: {{path: {NEW}}}}}
  - {{id: score, node: Score, inputs: {{model: load, data: read}}, params: {{mode: {mode}}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: out/{engine}-{mode}.csv}}}}
"""


def ok(result):
    assert result.ok, result.record.get("error")
    return result.record


def edit_manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2))


def other_version(h2o) -> str:
    """A version string that is not the running H2O's (the same release line, a patch level lower)."""
    *head, last = h2o.__version__.split(".")
    return ".".join([*head, str(int(last) - 1 if int(last) > 0 else 99)])


def test_another_h2o_version_makes_load_use_the_mojo_and_say_so(h2o_project: Path, h2o):
    store = h2o_project / "models"
    ok(run_text(train_text(), store))
    binary_run = ok(run_text(score_text(), store))
    with_binary = pd.read_csv("out/h2o-engine.csv")
    claimed = other_version(h2o)
    edit_manifest(store / MODEL / "1", lambda m: m["libraries"].update(h2o=claimed))

    record = ok(run_text(score_text(), store))
    said = [w for w in record["warnings"] if w.startswith("load: ")]
    assert len(said) == 1
    assert f"written by H2O {claimed}" in said[0] and f"running {h2o.__version__}" in said[0]
    assert "using its MOJO instead" in said[0]
    assert binary_run["warnings"] == []
    with_mojo = pd.read_csv("out/h2o-engine.csv")
    assert (with_mojo["prediction"] == with_binary["prediction"]).all()
    assert np.abs(with_mojo["probability"] - with_binary["probability"]).max() < 1e-9


def test_the_loaded_model_says_which_file_it_uses(h2o_project: Path, h2o):
    from emberflow.engine.context import Sessions
    from emberflow.engine.models import load_from_store
    from emberflow.engine.store import ModelStore

    store = ModelStore(h2o_project / "models")
    ok(run_text(train_text(), store.root))
    heard: list[str] = []
    sessions = Sessions()
    try:
        model, _ref, _manifest = load_from_store(store, MODEL, sessions, warn=heard.append)
        assert (model.obj.use, heard) == ("binary", [])
        assert model.obj.estimator().algo == "glm"
        edit_manifest(store.root / MODEL / "1", lambda m: m["libraries"].update(h2o=other_version(h2o)))
        model, _ref, _manifest = load_from_store(store, MODEL, sessions, warn=heard.append)
        assert model.obj.use == "mojo" and len(heard) == 1
        assert model.obj.estimator().algo == "generic"
    finally:
        assert sessions.stop_all() == []


def test_a_binary_of_another_version_without_mojo_is_a_clear_error(h2o_project: Path, h2o):
    store = h2o_project / "models"
    ok(run_text(train_text("h2o-binary"), store))
    manifest = json.loads((store / MODEL / "1" / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.h2o"} and manifest["libraries"] == {"h2o": h2o.__version__}
    assert ok(run_text(score_text(), store))["warnings"] == []
    claimed = other_version(h2o)
    edit_manifest(store / MODEL / "1", lambda m: m["libraries"].update(h2o=claimed))
    result = run_text(score_text(), store)
    assert result.record["error"]["step"] == "load" and result.record["error"]["type"] == "VersionMismatch"
    message = result.record["error"]["message"]
    assert f"written by H2O {claimed}" in message and "no MOJO" in message and f"h2o=={claimed}" in message
    assert result.exit_code == 2


def test_mojo_alone_loads_on_the_cluster_and_without_it(h2o_project: Path):
    store = h2o_project / "models"
    ok(run_text(train_text("mojo"), store))
    manifest = json.loads((store / MODEL / "1" / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.zip"} and manifest["h2o"]["prefer"] == "mojo"
    ok(run_text(score_text(), store))
    ok(run_text(score_text(engine="sklearn", mode="mojo"), store))
    on_cluster, without = pd.read_csv("out/h2o-engine.csv"), pd.read_csv("out/sklearn-mojo.csv")
    assert np.abs(on_cluster["probability"] - without["probability"]).max() < 1e-9


def test_params_json_scores_in_pandas_like_h2o(h2o_project: Path):
    """A GLM trained with standardization and elastic-net regularization, saved as params, scores in pandas
    within 1e-6 of H2O's own probabilities."""
    store = h2o_project / "models"
    trained = "{label: class, regParam: 0.01, elasticNetParam: 0.5, standardization: true}"
    ok(run_text(train_text("params", train_params=trained), store))
    ok(run_text(train_text("auto", name="same-glm", train_params=trained), store))
    manifest = json.loads((store / MODEL / "1" / "manifest.json").read_text())
    assert manifest["format"] == "params" and manifest["loads_with"] == "portable"
    ok(run_text(score_text(engine="sklearn"), store))
    ok(run_text(score_text(model="same-glm"), store))
    in_pandas, in_h2o = pd.read_csv("out/sklearn-engine.csv"), pd.read_csv("out/h2o-engine.csv")
    assert np.abs(in_pandas["probability"] - in_h2o["probability"]).max() < 1e-6
    assert (in_pandas["prediction"] == in_h2o["prediction"]).all()
    document = json.loads((store / MODEL / "1" / "model.json").read_text())
    assert document["features"] == ["preg", "plas", "pres", "skin", "test", "mass", "pedi", "age"]
    assert document["classes"] == [0, 1]


def naive_bayes_model(h2o):
    """A real H2O model that has no MOJO form: H2O refuses its MOJO export with an H2OValueError."""
    from emberflow.engine.api import Model
    from h2o.estimators import H2ONaiveBayesEstimator

    frame = h2o.import_file(str(Path(DATA).resolve()))
    frame["class"] = frame["class"].asfactor()
    estimator = H2ONaiveBayesEstimator()
    estimator.train(y="class", training_frame=frame)
    assert not estimator.have_mojo
    return Model(obj=estimator, engine="h2o", features=frame.columns[:-1], label="class", classes=[0, 1])


def test_a_refused_mojo_leaves_the_binary_alone_with_a_warning(h2o_project: Path, h2o):
    from emberflow.engine.context import Sessions
    from emberflow.engine.errors import UserError, VersionMismatch
    from emberflow.engine.models import load_from_store, save_to_store
    from emberflow.engine.store import ModelStore

    store = ModelStore(h2o_project / "models")
    model = naive_bayes_model(h2o)
    ref, manifest = save_to_store(store, model, "nb", "auto", {})
    assert manifest["format"] == "h2o" and set(manifest["files"]) == {"model.h2o"}
    assert manifest["h2o"]["mojo"] is None and manifest["h2o"]["prefer"] == "binary"
    assert manifest["h2o"]["mojo_refused"] == "Export to MOJO not supported"
    assert len(manifest["warnings"]) == 1 and "no MOJO saved" in manifest["warnings"][0]
    assert f"loads only on H2O {h2o.__version__}" in manifest["warnings"][0]
    assert sorted(p.name for p in ref.path.iterdir()) == ["manifest.json", "model.h2o"]
    sessions = Sessions()
    try:
        loaded, _ref, _manifest = load_from_store(store, "nb", sessions)
        assert loaded.obj.use == "binary" and loaded.obj.estimator().algo == "naivebayes"
    finally:
        assert sessions.stop_all() == []

    edit_manifest(ref.path, lambda m: m["libraries"].update(h2o=other_version(h2o)))
    with pytest.raises(VersionMismatch, match="no MOJO beside it"):
        load_from_store(store, "nb", Sessions())
    with pytest.raises(UserError, match="format: h2o-binary instead"):
        save_to_store(store, model, "nb", "mojo", {})
    assert store.versions("nb") == [1]


def test_the_refusal_warning_names_the_secure_only_clients():
    """The message that 3.46.0.12's client raises is explained (the refusal itself needs that client)."""
    from emberflow.engine.formats.h2o import MojoRefused

    secure = MojoRefused("MOJO export requires H2O-3 Secure").warning("3.46.0.12")
    assert "H2O-3 Secure" in secure and "h2o==3.46.0.11" in secure and "loads only on H2O 3.46.0.12" in secure
    assert "3.46.0.11" not in MojoRefused("Export to MOJO not supported").warning("3.46.0.11").split(";")[0]


def test_save_to_a_path_and_load_it_back(h2o_project: Path):
    text = f"""
name: path
engine: h2o
steps:
  - {{id: read, node: ReadCSV, params: {{path: {DATA}}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{path: saved/glm}}}}
  - {{id: mojo, node: SaveModel, inputs: {{model: train}}, params: {{path: saved/glm.zip, format: mojo}}}}
"""
    ok(run_text(text, h2o_project / "models"))
    assert sorted(p.name for p in Path("saved/glm").iterdir()) == ["model.h2o", "model.zip"]
    score = """
name: score-path
steps:
  - {id: load, node: LoadModel, params: {path: saved/glm.zip}}
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes_new.csv}}
  - {id: score, node: Score, inputs: {model: load, data: read}, params: {mode: mojo}}
  - {id: load_folder, node: LoadModel, params: {path: saved/glm}}
  - {id: score_folder, node: Score, engine: h2o, inputs: {model: load_folder, data: read}}
"""
    record = ok(run_text(score, h2o_project / "models"))
    assert record["metrics"]["score"]["roc_auc"] == pytest.approx(record["metrics"]["score_folder"]["roc_auc"],
                                                                  abs=1e-9)
