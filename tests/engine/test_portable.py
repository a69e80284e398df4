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
    assert doc["format"] == "emberflow.linear/2"
    assert doc["kind"] == "logistic_regression" and doc["task"] == "classification"
    assert doc["features"] == ["a", "b", "c", "d"] and doc["classes"] == [0, 1]
    assert [i["name"] for i in doc["inputs"]] == ["a", "b", "c", "d"]
    assert {i["kind"] for i in doc["inputs"]} == {"numeric"}
    assert len(doc["coef"]) == 1 and len(doc["coef"][0]) == 4 and len(doc["intercept"]) == 1
    assert doc["threshold"] == 0.5
    manifest = json.loads((tmp_path / "store" / "m-params" / "1" / "manifest.json").read_text())
    assert manifest["format"] == "params" and manifest["loads_with"] == "portable"


# ----- models with their preparation: imputation, categories, standardization -----

# Scores saved params models in a process where importing scikit-learn fails: through the Score step (LoadModel
# from the store, raw rows from ReadCSV), and through the predictor on the same rows read by pandas.
BLOCKED_SCORER = """
import json, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "sklearn":
            raise ImportError("scikit-learn is blocked in this process")

sys.meta_path.insert(0, Blocked())
import pandas as pd
from emberflow.engine.cli import main
from emberflow.engine.context import Sessions
from emberflow.engine.models import load_from_store
from emberflow.engine.predictor import predict
from emberflow.engine.store import ModelStore

store, new, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
code = main(["run", "score.yaml", "--store", store, "--quiet"])
frame, results = pd.read_csv(new), {"score_exit": code}
for case in cases:
    model, _ref, _manifest = load_from_store(ModelStore(store), case + "-params", Sessions())
    found = predict(model, frame)
    results[case] = {"values": found.values.tolist(),
                     "proba": None if found.proba is None else found.proba.tolist()}
results["sklearn_imported"] = any(m.split(".")[0] == "sklearn" for m in sys.modules)
json.dump(results, sys.stdout)
"""

# (case, trainer, label, params): every linear model the sklearn backend fits, on text, integer codes and gaps.
PREPARED_CASES = [
    ("binary", "TrainLR", "outcome", {}),
    ("binary_mean_unscaled", "TrainLR", "outcome", {"impute": "mean", "standardization": False, "max_iter": 2000}),
    ("multiclass", "TrainLR", "grade", {}),
    ("least_squares", "TrainLinearRegression", "target", {}),
    ("ridge", "TrainLinearRegression", "target", {"regParam": 0.1}),
    ("lasso", "TrainLinearRegression", "target", {"regParam": 0.05, "elasticNetParam": 1.0}),
    ("elastic_net", "TrainLinearRegression", "target", {"regParam": 0.05, "elasticNetParam": 0.5,
                                                         "standardization": False}),
]


def raw_rows(rows: int, seed: int) -> pd.DataFrame:
    """Two numbers (one with gaps), a text column with gaps, integer codes taken as categories, and three
    labels: two classes, three classes, a number."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(10.0, 3.0, size=rows), rng.normal(size=rows)
    color = rng.choice(["red", "green", "blue"], size=rows).astype(object)
    code = rng.integers(0, 4, size=rows)
    signal = 0.8 * (x1 - 10) - 1.5 * x2 + 1.0 * (color == "red") - 0.7 * (code == 2)
    noisy = signal + rng.normal(scale=0.8, size=rows)
    frame = pd.DataFrame({
        "x1": x1, "x2": x2, "color": color, "code": code,
        "outcome": np.where(noisy > 0, "yes", "no").astype(object),
        "grade": np.select([noisy < -1, noisy < 1], ["low", "mid"], "high").astype(object),
        "target": 3.0 * signal + rng.normal(scale=0.5, size=rows),
    })
    frame.loc[frame.index % 7 == 0, "x1"] = np.nan
    frame.loc[frame.index % 9 == 0, "color"] = None
    return frame


def prepared_workflows(folder: Path) -> None:
    """train.csv, new.csv (an unseen color and code, gaps in both numbers and in color), train.yaml (each case
    trained and saved as joblib and as params) and score.yaml (each params model loaded and scored)."""
    raw_rows(200, 0).to_csv(folder / "train.csv", index=False)
    new = raw_rows(40, 1)
    new.loc[[0, 1], "color"] = "purple"
    new.loc[[2, 3], "code"] = 9
    new.loc[[4, 5], "x2"] = np.nan
    new.loc[6, "color"] = None
    new.loc[6, "x1"] = np.nan
    new.drop(columns=["outcome", "grade", "target"]).to_csv(folder / "new.csv", index=False)
    train = [f"  - {{id: read, node: ReadCSV, params: {{path: {folder / 'train.csv'}}}}}"]
    score = [f"  - {{id: read, node: ReadCSV, params: {{path: {folder / 'new.csv'}}}}}"]
    for case, node, label, params in PREPARED_CASES:
        given = json.dumps({"label": label, "features": ["x1", "x2", "color", "code"], "categorical": ["code"],
                            **params})
        train += [f"  - {{id: {case}, node: {node}, inputs: {{data: read}}, params: {given}}}",
                  f"  - {{id: {case}_joblib, node: SaveModel, inputs: {{model: {case}}}, params: {{name: {case}}}}}",
                  f"  - {{id: {case}_params, node: SaveModel, inputs: {{model: {case}}}, "
                  f"params: {{name: {case}-params, format: params}}}}"]
        score += [f"  - {{id: {case}_load, node: LoadModel, params: {{name: {case}-params}}}}",
                  f"  - {{id: {case}_score, node: Score, inputs: {{model: {case}_load, data: read}}}}",
                  f"  - {{id: {case}_write, node: WriteCSV, inputs: {{data: {case}_score}}, "
                  f"params: {{path: {folder / (case + '.csv')}}}}}"]
    (folder / "train.yaml").write_text("name: train\nsteps:\n" + "\n".join(train) + "\n")
    (folder / "score.yaml").write_text("name: score\nsteps:\n" + "\n".join(score) + "\n")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> tuple[Path, dict]:
    """The cases trained, saved, and scored without scikit-learn: the folder and what the scorer reported."""
    from emberflow.engine.cli import main

    folder = tmp_path_factory.mktemp("prepared")
    prepared_workflows(folder)
    assert main(["run", str(folder / "train.yaml"), "--store", str(folder / "store"), "--quiet"]) == 0
    cases = [case for case, *_ in PREPARED_CASES]
    proc = subprocess.run([sys.executable, "-c", BLOCKED_SCORER, str(folder / "store"), str(folder / "new.csv"),
                           *cases], cwd=folder, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return folder, json.loads(proc.stdout)


def pipeline_and_rows(folder: Path, case: str):
    """The scikit-learn pipeline saved as joblib, and the new rows as its preparation takes them."""
    import joblib
    from emberflow.engine.predictor import conform

    manifest = json.loads((folder / "store" / case / "1" / "manifest.json").read_text())
    pipeline = joblib.load(folder / "store" / case / "1" / "model.joblib")
    return pipeline, conform(pd.read_csv(folder / "new.csv"), manifest["input_schema"])


def test_prepared_models_score_without_sklearn(prepared):
    _folder, scored = prepared
    assert scored["score_exit"] == 0
    assert scored["sklearn_imported"] is False


@pytest.mark.parametrize("case, node, label, params", PREPARED_CASES, ids=[c[0] for c in PREPARED_CASES])
def test_prepared_params_model_scores_like_its_pipeline(prepared, case, node, label, params):
    folder, scored = prepared
    pipeline, rows = pipeline_and_rows(folder, case)
    ours = scored[case]
    if label == "target":
        np.testing.assert_allclose(ours["values"], pipeline.predict(rows), rtol=0, atol=1e-9)
        assert ours["proba"] is None
    else:
        np.testing.assert_allclose(ours["proba"], pipeline.predict_proba(rows), rtol=0, atol=1e-9)
        assert ours["values"] == pipeline.predict(rows).tolist()
    written = pd.read_csv(folder / f"{case}.csv")  # the Score step's output, run without scikit-learn
    assert len(written) == 40 and written["prediction"].notna().all()
    if label == "target":
        np.testing.assert_allclose(written["prediction"], ours["values"], rtol=0, atol=1e-12)
    else:
        assert written["prediction"].tolist() == ours["values"]


def test_prepared_document_holds_the_pipelines_preparation(prepared):
    folder, _scored = prepared
    pipeline, _rows = pipeline_and_rows(folder, "binary")
    doc = json.loads((folder / "store" / "binary-params" / "1" / "model.json").read_text())
    manifest = json.loads((folder / "store" / "binary-params" / "1" / "manifest.json").read_text())
    assert doc["format"] == "emberflow.linear/2" and doc["task"] == "classification"
    assert doc["features"] == ["x1", "x2", "color", "code"] and doc["classes"] == ["no", "yes"]
    numeric = pipeline.named_steps["prepare"].named_transformers_["numeric"]
    imputer, scaler = numeric.named_steps["impute"], numeric.named_steps["scale"]
    inputs = {i["name"]: i for i in doc["inputs"]}
    for j, name in enumerate(["x1", "x2"]):
        assert inputs[name] == {"name": name, "kind": "numeric", "impute": imputer.statistics_[j],
                                "center": scaler.mean_[j], "scale": scaler.scale_[j]}
    levels = {c["name"]: c["levels"] for c in manifest["input_schema"] if c["kind"] == "categorical"}
    assert inputs["color"]["levels"] == [*levels["color"], None]  # missing in training: a level of its own
    assert inputs["color"]["missing_level"] == len(levels["color"]) and inputs["color"]["unseen_level"] is None
    assert inputs["code"]["levels"] == levels["code"] == ["0", "1", "2", "3"]
    assert inputs["code"]["missing_level"] is None and inputs["code"]["unseen_level"] is None
    assert len(doc["coef"][0]) == 2 + len(levels["color"]) + 1 + 4
    regression = json.loads((folder / "store" / "ridge-params" / "1" / "model.json").read_text())
    assert regression["kind"] == "linear_regression" and regression["task"] == "regression"
    assert regression["classes"] == [] and len(regression["coef"]) == 1 and len(regression["intercept"]) == 1


def test_a_params_file_alone_tells_its_task_and_columns(prepared, tmp_path: Path):
    """Loaded as a plain file without its manifest, a params model still scores raw rows as a regression."""
    from emberflow.engine.context import Sessions
    from emberflow.engine.models import load_from_path
    from emberflow.engine.predictor import predict

    folder, scored = prepared
    alone = tmp_path / "ridge.json"
    alone.write_bytes((folder / "store" / "ridge-params" / "1" / "model.json").read_bytes())
    model = load_from_path(alone, Sessions())
    assert model.task == "regression" and model.engine == "portable"
    assert [c["name"] for c in model.input_schema] == ["x1", "x2", "color", "code"]
    found = predict(model, pd.read_csv(folder / "new.csv"))
    np.testing.assert_allclose(found.values, scored["ridge"]["values"], rtol=0, atol=1e-12)


def test_a_missing_number_without_imputation_is_named():
    from emberflow.engine.errors import DataError
    from emberflow.engine.portable import LinearModel

    model = LinearModel(features=["a", "b"], classes=[0, 1], coef=np.array([[1.0, -1.0]]), intercept=np.zeros(1))
    with pytest.raises(DataError, match="column 'b' is missing in row 2"):
        model.predict_proba(pd.DataFrame({"a": [1.0, 2.0], "b": [0.5, np.nan]}))


def test_a_plain_logistic_regression_still_exports(tmp_path: Path):
    """A LogisticRegression fitted without a pipeline (a script's model) exports its coefficients as they are."""
    from emberflow.engine.formats.portable import to_linear
    from emberflow.engine.model import Model
    from sklearn.linear_model import LogisticRegression

    frame = make_data(tmp_path / "data.csv", 3)
    X = frame[["a", "b", "c", "d"]]
    estimator = LogisticRegression(max_iter=1000).fit(X, frame["y"])
    linear = to_linear(Model(obj=estimator, engine="sklearn", features=list(X.columns)))
    np.testing.assert_allclose(linear.predict_proba(X.to_numpy()), estimator.predict_proba(X), rtol=0, atol=1e-9)
    np.testing.assert_allclose(linear.predict_proba(X), estimator.predict_proba(X), rtol=0, atol=1e-9)


def test_version_1_documents_still_load(tmp_path: Path):
    from emberflow.engine.portable import LinearModel
    from sklearn.linear_model import LogisticRegression

    frame = make_data(tmp_path / "data.csv", 2)
    X = frame[["a", "b", "c", "d"]].to_numpy()
    estimator = LogisticRegression().fit(X, frame["y"])
    document = {"format": "emberflow.linear/1", "kind": "logistic_regression", "features": ["a", "b", "c", "d"],
                "classes": [0, 1], "coef": estimator.coef_.tolist(), "intercept": estimator.intercept_.tolist(),
                "threshold": 0.5, "multinomial": False}
    (tmp_path / "v1.json").write_text(json.dumps(document))
    model = LinearModel.load(tmp_path / "v1.json")
    np.testing.assert_allclose(model.predict_proba(X), estimator.predict_proba(X), rtol=0, atol=1e-9)
    assert model.task == "classification" and [i.name for i in model.inputs] == document["features"]


def test_the_spark_extractor_reads_each_column_of_a_preparation_statement():
    """The SQLTransformer of a Spark pipeline names each raw column once, quoted (commas, quotes, backquotes and
    brackets in names included), and a categorical one's text for a missing value."""
    from emberflow.engine.formats.spark import sql_columns

    statement = ("SELECT *, CAST(`a, b` AS DOUBLE) AS number_0, COALESCE(CASE WHEN isnan(CAST(`it's (x)` AS DOUBLE)) "
                 "THEN NULL ELSE CAST(`it's (x)` AS STRING) END, '(missing)') AS category_0, "
                 "COALESCE(CAST(`odd``name` AS STRING), 'don\\'t, know') AS category_1 FROM __THIS__")
    assert sql_columns(statement) == {"number_0": ("a, b", None), "category_0": ("it's (x)", "(missing)"),
                                      "category_1": ("odd`name", "don't, know")}
    assert sql_columns("SELECT *, `a` + `b` AS c FROM __THIS__") is None  # two raw columns: not a preparation


def test_two_classes_of_a_softmax_follow_the_threshold():
    """A multinomial model of two classes (Spark's family: multinomial on a binary label) predicts the second
    class above the threshold, as the predictor does, not the more probable one."""
    from emberflow.engine.portable import LinearModel
    from emberflow.engine.predictor import predicted_labels

    model = LinearModel(features=["a"], classes=["no", "yes"], coef=np.array([[0.0], [1.0]]), intercept=np.zeros(2),
                        threshold=0.9, multinomial=True)
    X = np.array([[0.5], [3.0], [-1.0]])
    proba = model.predict_proba(X)
    assert model.predict(X).tolist() == predicted_labels(proba, ["no", "yes"], 0.9).tolist() == ["no", "yes", "no"]
