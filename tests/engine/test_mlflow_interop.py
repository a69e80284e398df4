"""MLflow interop with MLflow itself installed: ``models export --format mlflow`` gives a directory that MLflow's
pyfunc loader and ``mlflow models serve`` score as Score does, and ``models import`` takes the models that
``mlflow.sklearn.save_model`` writes (pickle, cloudpickle, skops) as store versions that score like any other."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "workflows" / "data"

# A multiclass forest, a two-class logistic regression whose threshold is not 0.5 (so MLflow's predict, the most
# probable class, would differ from Score's on some rows) and a regression; each scored on rows holding an island
# that training never saw and gaps.
TRAIN = """
name: mlflow-fixture
engine: sklearn
steps:
  - {id: read, node: ReadCSV, params: {path: "${data}/penguins.csv"}}
  - {id: new, node: ReadCSV, params: {path: "${data}/penguins_new.csv"}}
  - {id: rf, node: TrainRandomForest, inputs: {data: read}, params: {label: species, n_estimators: 15, seed: 3}}
  - {id: lr, node: TrainLR, inputs: {data: read}, params: {label: sex, threshold: 0.3}}
  - {id: mass, node: TrainLinearRegression, inputs: {data: read}, params: {label: body_mass_g}}
  - {id: save_rf, node: SaveModel, inputs: {model: rf}, params: {name: species-rf}}
  - {id: save_lr, node: SaveModel, inputs: {model: lr}, params: {name: sex-lr}}
  - {id: save_mass, node: SaveModel, inputs: {model: mass}, params: {name: mass-lr}}
  - {id: score_rf, node: Score, inputs: {model: rf, data: new}}
  - {id: score_lr, node: Score, inputs: {model: lr, data: new}}
  - {id: score_mass, node: Score, inputs: {model: mass, data: new}}
  - {id: write_rf, node: WriteCSV, inputs: {data: score_rf}, params: {path: "${out}/species-rf.csv"}}
  - {id: write_lr, node: WriteCSV, inputs: {data: score_lr}, params: {path: "${out}/sex-lr.csv"}}
  - {id: write_mass, node: WriteCSV, inputs: {data: score_mass}, params: {path: "${out}/mass-lr.csv"}}
"""

SCORE_STORED = """
name: score-imported
engine: sklearn
steps:
  - {id: new, node: ReadCSV, params: {path: "${data}/penguins_new.csv"}}
  - {id: load, node: LoadModel, params: {name: "${model}"}}
  - {id: score, node: Score, inputs: {model: load, data: new}}
  - {id: write, node: WriteCSV, inputs: {data: score}, params: {path: "${out}"}}
"""


def run_text(text: str, store: Path, folder: Path, **variables: str) -> None:
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import load_workflow

    path = folder / f"workflow-{len(list(folder.glob('workflow-*')))}.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_workflow(load_workflow(path, {"data": str(DATA), **variables}), ModelStore(store),
                          reporter=Reporter(None))
    assert result.ok, result.error


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("mlflow")
    run_text(TRAIN, base / "models", base, out=str(base / "scored"))
    return base


def new_rows() -> pd.DataFrame:
    return pd.read_csv(DATA / "penguins_new.csv")


@pytest.mark.parametrize("name, label", [("species-rf", "species"), ("sex-lr", "sex"), ("mass-lr", "body_mass_g")])
def test_exported_pyfunc_predicts_as_score(trained: Path, cli, tmp_path: Path, name: str, label: str):
    import mlflow.pyfunc

    target = tmp_path / "exported"
    result = cli("models", "export", name, "--format", "mlflow", "-o", target, "--store", trained / "models")
    assert result.code == 0, result.err
    rows = new_rows().drop(columns=label)  # as read: whole numbers int64, gaps NaN
    predicted = mlflow.pyfunc.load_model(str(target)).predict(rows)
    expected = pd.read_csv(trained / "scored" / f"{name}.csv")["prediction"]
    if label == "body_mass_g":
        assert list(predicted) == pytest.approx(list(expected), rel=1e-12)
    else:
        assert list(predicted) == list(expected)
    mlmodel = yaml.safe_load((target / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "pickle"
    inputs = {spec["name"]: spec["type"] for spec in json.loads(mlmodel["signature"]["inputs"])}
    assert inputs["island"] == "string" and inputs["year"] == "any" and inputs["bill_length_mm"] == "double"
    requirements = (target / "requirements.txt").read_text().split()
    manifest = json.loads(next((trained / "models" / name).glob("*/manifest.json")).read_text())
    assert f"scikit-learn=={manifest['libraries']['scikit-learn']}" in requirements
    assert yaml.safe_load((target / "python_env.yaml").read_text())["python"] == manifest["python"]


def test_threshold_matters_for_the_two_class_model(trained: Path, tmp_path: Path, cli):
    """MLflow's own sklearn loader (the most probable class) disagrees with Score on this model: the reason the
    export's pyfunc is emberflow's loader."""
    import mlflow.sklearn

    target = tmp_path / "exported"
    assert cli("models", "export", "sex-lr", "--format", "mlflow", "-o", target,
               "--store", trained / "models").code == 0
    bare = mlflow.sklearn.load_model(str(target)).predict(new_rows().drop(columns="sex"))
    expected = pd.read_csv(trained / "scored" / "sex-lr.csv")["prediction"]
    assert list(bare) != list(expected)


def test_export_refuses_a_damaged_version_and_a_used_directory(trained: Path, tmp_path: Path, cli):
    store = tmp_path / "models"
    import shutil

    shutil.copytree(trained / "models", store)
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("x")
    result = cli("models", "export", "sex-lr", "--format", "mlflow", "-o", occupied, "--store", store)
    assert result.code == 2 and "not empty" in result.err
    artifact = next((store / "sex-lr").glob("*/model.joblib"))
    artifact.write_bytes(artifact.read_bytes() + b"x")
    result = cli("models", "export", "sex-lr", "--format", "mlflow", "-o", tmp_path / "out", "--store", store)
    assert result.code != 0 and "does not match" in result.err
    assert not (tmp_path / "out").exists()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_mlflow_models_serve_answers_as_score(trained: Path, tmp_path: Path, cli):
    target = tmp_path / "exported"
    assert cli("models", "export", "species-rf", "--format", "mlflow", "-o", target,
               "--store", trained / "models").code == 0
    port = free_port()
    scripts = Path(sys.executable).parent  # mlflow starts uvicorn by name, from PATH
    server = subprocess.Popen([str(scripts / "mlflow"), "models", "serve", "-m", str(target), "--env-manager",
                               "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1"],
                              env={**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/ping", server)
        rows = new_rows()
        body = json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split", index=False))}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answered = json.loads(response.read())["predictions"]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answered == list(pd.read_csv(trained / "scored" / "species-rf.csv")["prediction"])


def wait_until_up(url: str, server: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, "mlflow models serve exited"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"mlflow models serve did not answer {url} within {seconds} s")


@pytest.fixture(scope="module")
def fitted():
    """A scikit-learn pipeline fitted on the penguins' raw columns, as a script using MLflow would make it."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.read_csv(DATA / "penguins.csv").dropna(subset=["sex"])
    numbers = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
    prepare = ColumnTransformer([("n", SimpleImputer(), numbers),
                                 ("c", OneHotEncoder(handle_unknown="ignore"), ["island"])])
    columns = [*numbers, "island"]
    pipeline = make_pipeline(prepare, LogisticRegression(max_iter=1000)).fit(frame[columns], frame["species"])
    return pipeline, frame[columns]


@pytest.mark.parametrize("serialization", ["pickle", "cloudpickle", "skops"])
def test_import_of_what_mlflow_saved_scores_and_verifies(fitted, tmp_path: Path, cli, serialization: str):
    import mlflow.sklearn
    from mlflow.models import infer_signature

    pipeline, rows = fitted
    saved = tmp_path / "saved"
    mlflow.sklearn.save_model(pipeline, str(saved), serialization_format=serialization,
                              signature=infer_signature(rows, pipeline.predict(rows)),
                              skops_trusted_types=trusted_types(pipeline) if serialization == "skops" else None)
    store = tmp_path / "models"
    pickled = serialization != "skops"
    if pickled:
        refused = cli("models", "import", saved, "--name", "species", "--store", store)
        errors = [line for line in refused.err.splitlines() if line.startswith("error:")]  # MLflow's warning aside
        assert refused.code == 2 and len(errors) == 1 and "--trust" in errors[0]
    result = cli("models", "import", saved, "--name", "species", "--store", store, *(["--trust"] if pickled else []))
    assert result.code == 0, result.err
    manifest = json.loads((store / "species" / "1" / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "mlflow" and manifest["source"]["serialization_format"] == serialization
    assert manifest["format"] == ("pickle" if pickled else "skops")
    assert [c["name"] for c in manifest["input_schema"]] == list(rows.columns)
    dtypes = {f["name"]: f["dtype"] for f in manifest["features"]}
    assert dtypes == {**{c: "float64" for c in rows.columns if c != "island"}, "island": "str"}
    assert manifest["classes"] == ["Adelie", "Chinstrap", "Gentoo"] and manifest["task"] == "classification"
    assert cli("models", "verify", "species", "--store", store).code == 0
    run_text(SCORE_STORED, store, tmp_path, model="species", out=str(tmp_path / "scored.csv"))
    scored = pd.read_csv(tmp_path / "scored.csv")["prediction"]
    assert list(scored) == list(pipeline.predict(new_rows()[rows.columns]))


def trusted_types(pipeline) -> list[str]:
    import skops.io as sio

    dumped = sio.dumps(pipeline)
    return sio.get_untrusted_types(data=dumped)


def test_import_refuses_other_flavors_and_plain_folders(tmp_path: Path, cli):
    other = tmp_path / "other"
    other.mkdir()
    (other / "MLmodel").write_text(yaml.safe_dump({"flavors": {"python_function": {"loader_module": "x"},
                                                               "pytorch": {"pytorch_version": "2.5"}}}))
    result = cli("models", "import", other, "--name", "m", "--store", tmp_path / "models")
    assert result.code == 2 and "pytorch" in result.err and len(result.err.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = cli("models", "import", empty, "--name", "m", "--store", tmp_path / "models")
    assert result.code == 2 and "no MLmodel" in result.err


def test_a_pickle_that_does_not_load_is_one_line(tmp_path: Path, cli):
    import sklearn

    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "model.pkl").write_bytes(b"cnot_installed_anywhere\nModel\n(tR.")  # a class of a missing module
    flavor = {"pickled_model": "model.pkl", "serialization_format": "pickle", "sklearn_version": sklearn.__version__}
    (saved / "MLmodel").write_text(yaml.safe_dump({"flavors": {"sklearn": flavor}}))
    result = cli("models", "import", saved, "--name", "broken", "--trust", "--store", tmp_path / "models")
    assert result.code == 2 and "not_installed_anywhere" in result.err
    assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "models" / "broken" / "1").exists()


def test_exported_directory_imports_back(trained: Path, tmp_path: Path, cli):
    target = tmp_path / "exported"
    assert cli("models", "export", "mass-lr", "--format", "mlflow", "-o", target,
               "--store", trained / "models").code == 0
    store = tmp_path / "models"
    assert cli("models", "import", target, "--name", "mass", "--store", store, "--trust").code == 0
    manifest = json.loads((store / "mass" / "1" / "manifest.json").read_text())
    assert manifest["task"] == "regression"
    run_text(SCORE_STORED, store, tmp_path, model="mass", out=str(tmp_path / "scored.csv"))
    expected = pd.read_csv(trained / "scored" / "mass-lr.csv")["prediction"]
    assert list(pd.read_csv(tmp_path / "scored.csv")["prediction"]) == pytest.approx(list(expected), rel=1e-9)


def test_signature_output_type_follows_the_classes():
    from emberflow.engine.mlflow_export import _class_type

    classes = ([True, False], [0, 1], [0, 1.5], ["a", 1], [], [True, 1])
    assert [_class_type(c) for c in classes] == ["boolean", "long", "double", "string", "string", "string"]


def test_feature_types_are_the_pandas_dtypes_of_the_signature_columns():
    from emberflow.engine.mlflow_import import feature_types

    columns = [{"name": "a", "type": "double"}, {"name": "b", "type": "long"}, {"name": "c", "type": "string"},
               {"name": "d", "type": "integer"}, {"name": "e", "type": "boolean"}, {"name": "f", "type": "datetime"}]
    assert feature_types(columns) == {"a": "float64", "b": "int64", "c": "str", "d": "int32", "e": "boolean",
                                      "f": "datetime"}
    assert feature_types([]) == {}


def test_spark_labels_take_the_type_the_signature_gives_the_label_column():
    from emberflow.engine.mlflow_import import typed_labels

    # Spark indexes a label as text: a double column's 1.0 as "1.0", a long's 1 as "1", a boolean as "true".
    assert typed_labels(["1.0", "0.0"], "double") == [1.0, 0.0]
    assert typed_labels(["1", "0"], "long") == [1, 0] and typed_labels(["2", "1"], "integer") == [2, 1]
    assert typed_labels(["true", "false"], "boolean") == [True, False]
    assert typed_labels(["yes", "no"], "string") == ["yes", "no"]
    assert typed_labels(["1.0", "yes"], "double") == ["1.0", "yes"]  # not all numbers: kept as text
    assert typed_labels(["1", "0"], "datetime") == ["1", "0"]


def test_export_gives_the_version_gate_warnings_on_stderr(trained: Path, tmp_path: Path, cli, monkeypatch):
    import platform

    saved_with = json.loads((trained / "models" / "mass-lr" / "1" / "manifest.json").read_text())["python"]
    monkeypatch.setattr(platform, "python_version", lambda: "3.1.0")
    result = cli("models", "export", "mass-lr", "--format", "mlflow", "-o", tmp_path / "exported",
                 "--store", trained / "models")
    assert result.code == 0, result.err
    assert result.err.startswith(f"warning: model saved with python {saved_with}, running python 3.1.0; ")


def test_import_gives_the_version_gate_warnings_on_stderr(fitted, tmp_path: Path, cli, monkeypatch):
    import platform

    import mlflow.sklearn

    pipeline, rows = fitted
    saved = tmp_path / "saved"
    mlflow.sklearn.save_model(pipeline, str(saved), serialization_format="skops",
                              skops_trusted_types=trusted_types(pipeline))
    saved_with = platform.python_version()
    monkeypatch.setattr(platform, "python_version", lambda: "3.1.0")
    result = cli("models", "import", saved, "--name", "species", "--store", tmp_path / "models")
    assert result.code == 0, result.err
    assert result.err.startswith(f"warning: model saved with python {saved_with}, running python 3.1.0; ")
