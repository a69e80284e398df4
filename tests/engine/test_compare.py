"""Two versions side by side (engine.compare), ``emberflow models diff``, and what ``models show`` tells of a
version: its parameters, libraries (an H2O version too), training metrics and the metrics its run measured."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from emberflow.engine.compare import changed_count, compare_versions, evaluation
from emberflow.engine.store import ModelStore


def manifest(**changes) -> dict:
    base = {
        "format": "joblib", "engine": "sklearn", "loads_with": "sklearn", "model_class": "LogisticRegression",
        "python": "3.11.7", "libraries": {"scikit-learn": "1.9.1", "numpy": "2.4.6"},
        "features": [{"name": "a", "dtype": "float64"}, {"name": "b", "dtype": "int64"}],
        "label": "y", "classes": [0, 1], "params": {"label": "y", "C": 1.0}, "metrics": {"train_accuracy": 0.75},
    }
    return {**base, **changes}


def entry(sections: dict, section: str, key: str) -> dict:
    return next(e for e in sections[section] if e["key"] == key)


def test_every_section_lines_up_both_versions_and_marks_what_changed():
    a = manifest()
    b = manifest(params={"label": "y", "C": 0.5, "solver": "saga"}, metrics={"train_accuracy": 0.75},
                 features=[{"name": "a", "dtype": "float32"}, {"name": "c", "dtype": "int64"}],
                 libraries={"scikit-learn": "1.8.0", "numpy": "2.4.6"}, python="3.12.1")
    sections = compare_versions(a, b)
    assert list(sections) == ["format", "params", "metrics", "schema", "libraries"]
    assert entry(sections, "params", "C") == {"key": "C", "a": 1.0, "b": 0.5, "changed": True}
    assert entry(sections, "params", "solver") == {"key": "solver", "a": None, "b": "saga", "changed": True}
    assert not entry(sections, "params", "label")["changed"] and not entry(sections, "metrics", "train_accuracy")[
        "changed"]
    assert entry(sections, "schema", "features") == {"key": "features", "a": ["a", "b"], "b": ["a", "c"],
                                                     "changed": True}
    assert entry(sections, "schema", "feature a")["changed"] and entry(sections, "schema", "feature b")["b"] is None
    assert [e["key"] for e in sections["libraries"]] == ["python", "scikit-learn", "numpy"]
    assert [e["key"] for e in sections["libraries"] if e["changed"]] == ["python", "scikit-learn"]
    # changed: C, solver; features, feature a, b and c; python, scikit-learn. b adds solver and feature c.
    assert changed_count(sections) == (8, 17)
    assert changed_count(compare_versions(a, manifest())) == (0, 15)


def test_values_compare_as_the_manifest_writes_them():
    """NaN equals NaN (a metric that could not be measured twice), true is not 1, 1 is 1.0."""
    sections = compare_versions(manifest(metrics={"m": math.nan, "flag": True, "n": 1}),
                                manifest(metrics={"m": math.nan, "flag": 1, "n": 1.0}))
    assert {e["key"]: e["changed"] for e in sections["metrics"]} == {"m": False, "flag": True, "n": False}


def test_an_older_h2o_manifest_compares_its_h2o_version_as_a_library():
    """Manifests written before the H2O version moved into libraries keep it in their h2o section."""
    old = manifest(format="h2o", libraries={}, h2o={"version": "3.44.0.3", "model_id": "glm"})
    new = manifest(format="h2o", libraries={"h2o": "3.46.0.11"}, h2o={"model_id": "glm"})
    assert entry(compare_versions(old, new), "libraries", "h2o") == {"key": "h2o", "a": "3.44.0.3",
                                                                     "b": "3.46.0.11", "changed": True}


def test_evaluation_metrics_are_flattened_by_step():
    sections = compare_versions(manifest(), manifest(), {"score": {"accuracy": 0.7, "rows": 10}},
                                {"score": {"accuracy": 0.8, "rows": 10}})
    assert [(e["key"], e["changed"]) for e in sections["evaluation"]] == [("score.accuracy", True),
                                                                         ("score.rows", False)]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 2))
    y = (X @ [1.0, -1.5] + rng.normal(size=200) > 0).astype(int)
    pd.DataFrame(X, columns=["f1", "f2"]).assign(label=y).to_csv(tmp_path / "rows.csv", index=False)
    return tmp_path / "rows.csv"


def train_text(data: Path, name: str = "m", C: float = 1.0) -> str:
    """Train and save ``name``, score it on held-out rows, and score another model made in the same run."""
    return f"""
name: train
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{data}"}}}}
  - {{id: split, node: SplitData, inputs: {{data: read}}, params: {{test_size: 0.3, seed: 1}}}}
  - {{id: train, node: TrainLR, inputs: {{data: split.train}}, params: {{label: label, C: {C}}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: {name}}}}}
  - {{id: held_out, node: Score, inputs: {{model: train, data: split.test}}}}
  - {{id: other, node: TrainLR, inputs: {{data: split.test}}, params: {{label: label}}}}
  - {{id: other_score, node: Score, inputs: {{model: other, data: split.train}}}}
"""


def run(cli, data: Path, **kwargs) -> dict:
    (data.parent / "train.yaml").write_text(train_text(data, **kwargs))
    result = cli("run", str(data.parent / "train.yaml"), "--store", str(data.parent / "models"), "--json")
    assert result.code == 0, result.err
    return result.json()


def test_evaluation_is_what_the_saving_run_measured_on_the_saved_model(cli, data: Path):
    record = run(cli, data)
    store = ModelStore(data.parent / "models")
    saved = store.manifest(store.resolve("m"))
    assert evaluation(store, saved) == {"held_out": record["metrics"]["held_out"]}
    assert evaluation(store, {**saved, "imported_from": {"name": "m", "version": 1}}) == {}
    (data.parent / "models" / "runs" / f"{record['run_id']}.json").unlink()
    assert evaluation(store, saved) == {}


def test_models_show_tells_params_libraries_and_both_kinds_of_metrics(cli, data: Path):
    record = run(cli, data, C=0.25)
    shown = cli("models", "show", "m", "--store", str(data.parent / "models"))
    assert shown.code == 0, shown.err
    lines = [line.strip() for line in shown.out.splitlines()]
    assert "features: f1 (float64), f2 (float64)" in lines
    params = next(line for line in lines if line.startswith("params: "))
    assert "C=0.25" in params and "label=label" in params
    metrics = next(line for line in lines if line.startswith("metrics: "))
    assert metrics.startswith("metrics: train_rows 140, train_accuracy 0.")
    held_out = record["metrics"]["held_out"]
    assert (f"evaluated by step held_out of run {record['run_id']}: rows {held_out['rows']}, accuracy "
            f"{held_out['accuracy']:.4f}") in shown.out
    assert "other_score" not in shown.out
    as_json = cli("models", "show", "m", "--store", str(data.parent / "models"), "--json").json()
    assert as_json["evaluation"] == {"held_out": held_out}


def test_models_show_names_the_h2o_version_of_an_older_manifest(cli, data: Path):
    run(cli, data)
    path = data.parent / "models" / "m" / "1" / "manifest.json"
    edited = json.loads(path.read_text())
    edited.update(libraries={}, h2o={"version": "3.44.0.3"})
    path.write_text(json.dumps(edited))
    shown = cli("models", "show", "m", "--store", str(data.parent / "models"))
    assert "  libraries: h2o 3.44.0.3\n" in shown.out


def test_models_diff_prints_what_differs_and_all_with_all(cli, data: Path):
    run(cli, data, C=1.0)
    run(cli, data, C=0.01)
    store = ["--store", str(data.parent / "models")]
    diff = cli("models", "diff", "m@1", "m@2", *store)
    assert diff.code == 0, diff.err
    rows = [line.split() for line in diff.out.splitlines()[2:-1]]
    assert ["params", "C", "1.0", "0.01"] in rows
    assert all(row[0] in ("params", "metrics", "evaluation") for row in rows)
    assert not any(row[1] == "label" for row in rows)
    changed, total = map(int, diff.out.splitlines()[-1].split()[:3:2])
    assert len(rows) == changed < total
    every = cli("models", "diff", "m@1", "m@2", "--all", *store)
    assert len(every.out.splitlines()) == total + 3
    as_json = cli("models", "diff", "m@1", "m@2", "--json", *store).json()
    assert (as_json["a"], as_json["b"]) == ({"name": "m", "version": 1}, {"name": "m", "version": 2})
    assert (as_json["changed"], as_json["entries"]) == (changed, total)
    assert {"key": "C", "a": 1.0, "b": 0.01, "changed": True} in as_json["sections"]["params"]


def test_models_diff_compares_two_models_and_refuses_an_unknown_one(cli, data: Path):
    run(cli, data, name="first")
    run(cli, data, name="second")
    store = ["--store", str(data.parent / "models")]
    same = cli("models", "diff", "first", "second@1", *store)
    assert same.code == 0 and same.out.splitlines()[-1].startswith("0 of ")
    missing = cli("models", "diff", "first", "third", *store)
    assert missing.code == 2 and "no model 'third'" in missing.err and missing.out == ""
