"""The example pair a newcomer runs first: train (twice), then score with the saved model by name."""

from __future__ import annotations

import csv
import json
import runpy
from pathlib import Path

import pytest


def test_train_twice_then_score_latest(cli, project: Path):
    first = cli("run", "workflows/train.yaml", "--json")
    assert first.code == 0, first.err
    record = first.json()
    assert record["status"] == "ok"
    assert [m["version"] for m in record["models"]] == [1]
    assert [s["id"] for s in record["steps"]] == ["read", "split", "train", "save", "score", "write"]
    assert {s["engine"] for s in record["steps"]} == {"sklearn"}
    assert 0.6 < record["metrics"]["score"]["accuracy"] <= 1.0

    second = cli("run", "workflows/train.yaml", "--json")
    assert second.json()["models"][0]["version"] == 2

    scored = cli("run", "workflows/score.yaml", "--json")
    assert scored.code == 0, scored.err
    with open(project / "output" / "scored_new.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    new_rows = (project / "workflows" / "data" / "diabetes_new.csv").read_text().strip().splitlines()
    assert len(rows) == len(new_rows) - 1
    assert {"prediction", "probability"} <= set(rows[0])
    assert all(0.0 <= float(r["probability"]) <= 1.0 for r in rows)

    listing = cli("models", "list", "--json").json()
    assert [(m["name"], m["versions"], m["latest"]) for m in listing] == [("diabetes-lr", [1, 2], 2)]
    table = cli("models", "list")
    assert "diabetes-lr" in table.out and "1,2" in table.out
    for version in (1, 2):
        shown = cli("models", "show", f"diabetes-lr@{version}")
        assert shown.code == 0
        assert f"diabetes-lr@{version}" in shown.out and "model.joblib" in shown.out


def test_score_can_pick_a_version_and_the_run_records_it(cli, project: Path):
    cli("run", "workflows/train.yaml", "--quiet")
    cli("run", "workflows/train.yaml", "--quiet")
    result = cli("run", "workflows/score.yaml", "--var", "model=diabetes-lr@1", "--json")
    assert result.code == 0, result.err
    run = json.loads((project / "models" / "runs" / f"{result.json()['run_id']}.json").read_text())
    assert run["status"] == "ok"
    assert "name: score-diabetes" in run["text"]
    assert run["vars"]["model"] == "diabetes-lr@1"


def test_manifest_records_what_loading_needs(cli, project: Path):
    run = cli("run", "workflows/train.yaml", "--json").json()
    manifest = json.loads((project / "models" / "diabetes-lr" / "1" / "manifest.json").read_text())
    assert manifest["name"] == "diabetes-lr" and manifest["version"] == 1
    assert manifest["format"] == "joblib" and manifest["engine"] == "sklearn"
    assert manifest["model_class"].endswith("LogisticRegression")
    assert set(manifest["libraries"]) >= {"scikit-learn", "numpy", "joblib"}
    assert manifest["python"].count(".") == 2
    assert [f["name"] for f in manifest["features"]] == ["preg", "plas", "pres", "skin", "test", "mass", "pedi",
                                                         "age"]
    assert all(f["dtype"] == "int64" or f["dtype"] == "float64" for f in manifest["features"])
    assert manifest["label"] == "class" and manifest["classes"] == [0, 1]
    assert manifest["params"]["solver"] == "liblinear"
    assert manifest["metrics"]["train_rows"] > 0
    assert manifest["workflow"]["name"] == "train-diabetes" and len(manifest["workflow"]["sha256"]) == 64
    assert manifest["step"] == "save" and manifest["run_id"] == run["run_id"]
    entry = manifest["files"]["model.joblib"]
    path = project / "models" / "diabetes-lr" / "1" / "model.joblib"
    assert entry["size"] == path.stat().st_size and len(entry["sha256"]) == 64


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # the tutorial's own fit warns
def test_the_tutorials_pickle_scores_in_a_workflow_to_the_accuracy_its_script_prints(cli, project: Path, capsys):
    """workflows/tutorial_script.py (the tutorial's script) pickles a model fitted on arrays and prints its test
    accuracy; score_tutorial_pickle.yaml splits the same data as a frame, loads the pickle with its columns named
    and scores the test part: the same rows, the same predictions, the same accuracy to the last digit."""
    import numpy as np
    import pandas as pd

    script = runpy.run_path(str(project / "workflows" / "tutorial_script.py"), run_name="__main__")
    printed = capsys.readouterr().out.strip()
    assert printed == str(script["result"])
    result = cli("run", "workflows/score_tutorial_pickle.yaml", "--json")
    assert result.code == 0, result.err
    assert result.json()["metrics"]["score"]["accuracy"] == float(printed)
    scored = pd.read_csv(project / "output" / "scored_tutorial.csv")
    features = script["names"][:8]
    assert np.array_equal(scored[features].to_numpy(dtype="float64"), script["X_test"])
    assert np.array_equal(scored["class"].to_numpy(dtype="float64"), script["Y_test"])
    assert np.array_equal(scored["prediction"].to_numpy(), script["loaded_model"].predict(script["X_test"]))


def test_the_clean_pair_prepares_a_messy_csv_trains_then_scores(cli, project: Path):
    trained = cli("run", "workflows/clean_train.yaml", "--json")
    assert trained.code == 0, trained.err
    record = trained.json()
    steps = {s["id"]: s for s in record["steps"]}
    assert [steps[i]["node"] for i in ("labelled", "typed", "adults", "columns", "joined", "features")] == [
        "DropMissing", "CastColumns", "Filter", "SelectColumns", "Join", "SQL"]
    data = project / "workflows" / "data"
    raw = list(csv.DictReader((data / "applicants.csv").read_text().splitlines()))
    labelled = [r for r in raw if r["defaulted"]]
    adults = [r for r in labelled if r["age"].strip().lstrip("-").isdigit() and 18 <= int(r["age"]) <= 100]
    assert (steps["read"]["rows"], steps["labelled"]["rows"], steps["features"]["rows"]) == (
        len(raw), len(labelled), len(adults))
    assert len(raw) > len(labelled) > len(adults)  # the data is messy: both steps drop rows
    assert record["models"][0]["name"] == "applicants-lr"
    assert 0.6 < record["metrics"]["score"]["accuracy"] <= 1.0
    manifest = json.loads((project / "models" / "applicants-lr" / "1" / "manifest.json").read_text())
    assert [f["name"] for f in manifest["features"]] == ["age", "real_income", "income_missing", "self_employed",
                                                         "unemployed", "retired", "capital"]

    scored = cli("run", "workflows/clean_score.yaml", "--json")
    assert scored.code == 0, scored.err
    new = list(csv.DictReader((data / "applicants_new.csv").read_text().splitlines()))
    plausible = [r["id"] for r in new if r["age"].strip().lstrip("-").isdigit() and 18 <= int(r["age"]) <= 100]
    with open(project / "output" / "applicants_scored.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == plausible and len(plausible) < len(new)
    assert all(r["prediction"] in ("0", "1") and 0.0 <= float(r["probability"]) <= 1.0 for r in rows)


def test_the_penguins_pair_trains_on_raw_rows_and_scores_an_unseen_island(cli, project: Path):
    """penguins_train.yaml trains on rows with text columns and gaps; penguins_score.yaml scores new raw rows, one
    of them from an island no training row had and without a species, which the metrics leave out."""
    trained = cli("run", "workflows/penguins_train.yaml", "--json")
    assert trained.code == 0, trained.err
    assert trained.json()["metrics"]["score"]["accuracy"] > 0.9
    scored = cli("run", "workflows/penguins_score.yaml", "--json")
    assert scored.code == 0, scored.err
    metrics = scored.json()["metrics"]["score"]
    assert metrics["rows_without_label"] == 1 and metrics["accuracy"] > 0.9
    with open(project / "output" / "penguins_scored_sklearn.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    new_rows = (project / "workflows" / "data" / "penguins_new.csv").read_text().strip().splitlines()
    assert len(rows) == len(new_rows) - 1 and all(r["prediction"] for r in rows)
    assert any(r["island"] == "Anvers" for r in rows)
