"""The H2O example trio: train_h2o.yaml saves an H2O binary and a MOJO, score_h2o.yaml loads the model by name
in a second run and scores on H2O, score_mojo.yaml scores the MOJO in a run that starts no H2O at all."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest
from h2o_helpers import genmodel_runs, h2o_processes, h2o_servers, probe_run

pytestmark = pytest.mark.h2o

MODEL = "diabetes-h2o-glm"


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def train(cli) -> dict:
    result = cli("run", "workflows/train_h2o.yaml", "--json")
    assert result.code == 0, result.err
    return result.json()


def test_train_saves_binary_and_mojo_in_one_version(cli, h2o_project: Path, h2o):
    record = train(cli)
    assert record["status"] == "ok" and record["engines"] == ["h2o"]
    assert {s["engine"] for s in record["steps"]} == {"h2o"}
    assert record["models"] == [{"step": "save", "name": MODEL, "version": 1, "format": "h2o",
                                 "path": str(Path("models") / MODEL / "1")}]
    folder = h2o_project / "models" / MODEL / "1"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "h2o" and manifest["engine"] == "h2o"
    assert manifest["model_class"].endswith("H2OGeneralizedLinearEstimator")
    info = manifest["h2o"]
    assert manifest["libraries"] == {"h2o": h2o.__version__} and info["algorithm"] == "glm"
    assert (info["binary"], info["mojo"], info["prefer"]) == ("model.h2o", "model.zip", "binary")
    assert set(manifest["files"]) == {"model.h2o", "model.zip"}
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert manifest["classes"] == [0, 1] and manifest["label"] == "class"
    assert [f["name"] for f in manifest["features"]] == ["preg", "plas", "pres", "skin", "test", "mass", "pedi",
                                                         "age"]
    assert manifest["params"]["regParam"] == 0.0 and manifest["params"]["max_iter"] == 100
    assert 0.5 < manifest["metrics"]["train_accuracy"] <= 1.0
    metrics = record["metrics"]["score"]
    assert 0.6 < metrics["accuracy"] <= 1.0 and 0.6 < metrics["roc_auc"] <= 1.0
    assert sum(map(sum, metrics["confusion_matrix"]["matrix"])) == metrics["rows"]
    rows = read_rows(h2o_project / "output" / "scored_h2o.csv")
    assert len(rows) == metrics["rows"]
    assert all(r["prediction"] == ("1" if float(r["probability"]) > 0.5 else "0") for r in rows)
    assert h2o.cluster().is_running(), "a run must leave a cluster it did not start running"


def test_score_loads_by_name_in_a_second_run(cli, h2o_project: Path):
    train(cli)
    result = cli("run", "workflows/score_h2o.yaml", "--json")
    assert result.code == 0, result.err
    record = result.json()
    assert record["warnings"] == []
    rows = read_rows(h2o_project / "output" / "scored_new_h2o.csv")
    new_rows = read_rows(h2o_project / "workflows" / "data" / "diabetes_new.csv")
    assert len(rows) == len(new_rows)
    assert [r["preg"] for r in rows] == [r["preg"] for r in new_rows]
    assert all(0.0 <= float(r["probability"]) <= 1.0 for r in rows)
    assert record["metrics"]["score"]["rows"] == len(new_rows)


def test_mojo_scoring_starts_no_h2o(cli, h2o_project: Path, tmp_path: Path):
    """A fresh process runs score_mojo.yaml: h2o-genmodel scores the MOJO, no H2O server is launched, the
    h2o client never connects, and the probabilities equal those H2O itself gives."""
    train(cli)
    assert cli("run", "workflows/score_h2o.yaml", "--quiet").code == 0
    on_cluster = read_rows(h2o_project / "output" / "scored_new_h2o.csv")

    tmpdir = tmp_path / "tmp-of-the-run"
    report = probe_run("run", "workflows/score_mojo.yaml", "--json", cwd=h2o_project, tmpdir=tmpdir)
    assert report["code"] == 0, report["err"]
    record = json.loads(report["out"])
    assert record["engines"] == [] and {s["engine"] for s in record["steps"]} == {"sklearn"}
    assert h2o_servers(report["commands"]) == []
    assert report["h2o_connection"] is None
    scorers = genmodel_runs(report["commands"])
    assert len(scorers) == 1 and any(a.startswith("-Xmx") and a.upper() == "-XMX512M" for a in scorers[0])
    with_mojo = read_rows(h2o_project / "output" / "scored_new_mojo.csv")
    assert [r["prediction"] for r in with_mojo] == [r["prediction"] for r in on_cluster]
    assert max(abs(float(a["probability"]) - float(b["probability"])) for a, b in zip(with_mojo, on_cluster,
                                                                                      strict=True)) < 1e-9
    assert record["metrics"]["score"]["accuracy"] == pytest.approx(
        sum(r["prediction"] == r["class"] for r in with_mojo) / len(with_mojo))
    assert list(tmpdir.iterdir()) == [], "the run left temporary files"
    assert h2o_processes([str(tmpdir)]) == []
