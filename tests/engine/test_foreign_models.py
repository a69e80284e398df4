"""Models made outside emberflow: a scikit-learn model fitted on NumPy arrays (a script's pickle) has no column
names, so LoadModel's ``features`` names them; without them it is refused at load, saying so."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import UserError
from emberflow.engine.models import load_from_path, load_from_store, save_to_store
from emberflow.engine.store import ModelStore

COLUMNS = ["a", "b", "c"]


def fitted_on_arrays():
    """A LogisticRegression fitted on a NumPy array (no column names), its rows and labels."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] - X[:, 2] > 0).astype(int)
    return LogisticRegression().fit(X, y), X, y


@pytest.fixture
def sav(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder (the cwd) holding ``finalized_model.sav`` (plain pickle.dump, as a script writes it) and
    ``rows.csv``, the rows it was fitted on with their label."""
    import pandas as pd

    model, X, y = fitted_on_arrays()
    with open(tmp_path / "finalized_model.sav", "wb") as handle:
        pickle.dump(model, handle)
    pd.DataFrame({**{name: X[:, i] for i, name in enumerate(COLUMNS)}, "label": y}).to_csv(tmp_path / "rows.csv",
                                                                                           index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "finalized_model.sav"


def workflow(load_params: str) -> str:
    return ("name: foreign\nsteps:\n"
            f"  - {{id: load, node: LoadModel, params: {{path: finalized_model.sav, trust: true{load_params}}}}}\n"
            "  - {id: read, node: ReadCSV, params: {path: rows.csv}}\n"
            "  - {id: score, node: Score, inputs: {model: load, data: read}, params: {label: label}}\n")


def test_a_model_without_column_names_is_refused_at_load_saying_what_to_give(sav: Path):
    with pytest.raises(UserError) as refused:
        load_from_path(sav, Sessions(), trust=True)
    assert str(refused.value) == (f"the model at {sav} was fitted without column names; give LoadModel features: "
                                  "[...] (the columns in the order it was fitted on, 3 of them)")


def test_features_name_its_columns_and_score_gives_the_models_own_accuracy(cli, sav: Path, recwarn):
    """The accuracy Score records is the estimator's own ``score`` on the same rows, to the last digit; classes
    come from the estimator; no warning about feature names (the model gets arrays, as it was fitted)."""
    model, X, y = fitted_on_arrays()
    Path("wf.yaml").write_text(workflow(", features: [a, b, c]"))
    result = cli("run", "wf.yaml", "--json", "--store", "models")
    assert result.code == 0, result.err
    record = result.json()
    assert record["metrics"]["score"]["accuracy"] == model.score(X, y)
    assert record["metrics"]["score"]["confusion_matrix"]["labels"] == [0, 1]
    assert not [w for w in recwarn if "feature names" in str(w.message)]
    assert "feature names" not in result.err


def test_the_run_without_features_fails_at_the_load_step(cli, sav: Path):
    Path("wf.yaml").write_text(workflow(""))
    result = cli("run", "wf.yaml", "--store", "models")
    assert result.code == 2
    assert "step 'load': the model at finalized_model.sav was fitted without column names; give LoadModel " \
           "features: [...] (the columns in the order it was fitted on, 3 of them)" in result.err


def test_features_of_another_count_are_refused(sav: Path):
    with pytest.raises(UserError, match=r"features name 2 columns, and the model at .* was fitted on 3"):
        load_from_path(sav, Sessions(), trust=True, features=["a", "b"])


def test_features_that_differ_from_a_models_own_names_are_refused_naming_both(tmp_path: Path):
    import pandas as pd
    from emberflow.engine.model import Model
    from sklearn.linear_model import LogisticRegression

    _model, X, y = fitted_on_arrays()
    named = LogisticRegression().fit(pd.DataFrame(X, columns=COLUMNS), y)
    store = ModelStore(tmp_path)
    save_to_store(store, Model(obj=named, engine="sklearn", features=COLUMNS, label="label", classes=[0, 1]), "m",
                  "joblib", {})
    with pytest.raises(UserError) as refused:
        load_from_store(store, "m", Sessions(), features=["c", "b", "a"])
    assert "features [c, b, a] differ from those model m@1 was fitted on: [a, b, c]" in str(refused.value)
    model, _ref, _manifest = load_from_store(store, "m", Sessions(), features=COLUMNS)
    assert model.features == COLUMNS


def test_a_model_saved_after_loading_keeps_the_features(sav: Path, tmp_path: Path):
    """The names given once travel with the model: saved into the store, it loads again without them."""
    model = load_from_path(sav, Sessions(), trust=True, features=COLUMNS)
    store = ModelStore(tmp_path / "models")
    save_to_store(store, model, "tutorial", "joblib", {})
    again, _ref, manifest = load_from_store(store, "tutorial", Sessions())
    assert again.features == COLUMNS and [f["name"] for f in manifest["features"]] == COLUMNS
    assert [c.item() for c in again.obj.classes_] == manifest["classes"] == [0, 1]


def test_a_sav_file_is_recognised_whichever_of_pickle_or_joblib_wrote_it(tmp_path: Path):
    import joblib

    model, X, _y = fitted_on_arrays()
    joblib.dump(model, tmp_path / "joblib.sav")
    for path in (tmp_path / "joblib.sav", tmp_path / "pickle.sav"):
        if not path.exists():
            path.write_bytes(pickle.dumps(model))
        loaded = load_from_path(path, Sessions(), trust=True, features=COLUMNS)
        assert (loaded.obj.predict_proba(X) == model.predict_proba(X)).all()
    with pytest.raises(UserError, match="joblib file, and loading one can run code"):
        load_from_path(tmp_path / "pickle.sav", Sessions())


@pytest.mark.parametrize("value, message", [
    ("[]", "LoadModel's features is empty"),
    ("[a, b, a]", "LoadModel's features names column 'a' twice"),
    ("[a, 1]", "expected elements of type string, got integer 1"),
    ("a", "expected array, got string 'a'"),
])
def test_features_are_checked_when_the_workflow_is_validated(cli, tmp_path: Path, monkeypatch, value: str,
                                                             message: str):
    monkeypatch.chdir(tmp_path)
    Path("wf.yaml").write_text(f"name: x\nsteps:\n  - id: load\n    node: LoadModel\n    params: {{path: m.sav, "
                               f"trust: true, features: {value}}}\n")
    result = cli("validate", "wf.yaml")
    assert result.code == 2 and message in result.err, result.err
