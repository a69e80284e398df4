"""Promise 7: when a step fails, the models earlier steps saved stay whole, the run record names the failed
step and the cause, and the Spark or H2O session the run started is stopped (its JVM gone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psutil
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.models import load_from_store
from emberflow.engine.store import ModelStore

# Runs after the save (file order among ready steps), and fails on the engine: the data has no column 'nope'.
FAILING = "  - {id: broken, node: Score, inputs: {model: train, data: read}, params: {label: nope}}"
REPORTER = Path(__file__).resolve().parent / "run_and_report.py"
DATA = Path(__file__).resolve().parents[2] / "workflows" / "data" / "diabetes.csv"


def workflow(engine: str, failing_step: str) -> str:
    return f"""\
name: fails-after-save
engine: {engine}
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{DATA}"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class, max_iter: 200}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: kept}}}}
{failing_step}
  - {{id: after, node: Score, inputs: {{model: train, data: read}}}}
"""


def check_record_and_model(record: dict, store_root: Path, failed: str, cause: str) -> None:
    assert record["status"] == "failed"
    assert record["error"]["step"] == failed and cause in record["error"]["message"]
    statuses = {s["id"]: s["status"] for s in record["steps"]}
    assert statuses == {"read": "ok", "train": "ok", "save": "ok", failed: "failed", "after": "skipped"}
    failed_step = next(s for s in record["steps"] if s["id"] == failed)
    assert cause in failed_step["error"]
    assert [(m["name"], m["version"]) for m in record["models"]] == [("kept", 1)]
    store = ModelStore(store_root)
    assert store.problems(store.resolve("kept@1")) == []


def test_sklearn_failure_keeps_the_saved_model_and_records_the_cause(cli, project: Path):
    failing = FAILING
    (project / "wf.yaml").write_text(workflow("sklearn", failing))
    result = cli("run", "wf.yaml", "--store", project / "store", "--json")
    assert result.code == 2 and "step 'broken'" in result.err
    record = json.loads(result.out)
    check_record_and_model(record, project / "store", "broken", "no label column 'nope'")
    stored = json.loads(next((project / "store" / "runs").glob("*.json")).read_text())
    assert stored["error"] == record["error"] and stored["steps"] == record["steps"]
    model, _ref, _ = load_from_store(ModelStore(project / "store"), "kept", Sessions())
    assert model.label == "class"


def run_in_fresh_process(text: str, tmp_path: Path) -> dict:
    """Run ``text`` in a new Python process tagged with a marker; after it exits, no process carrying the
    marker (a JVM it started) may remain."""
    (tmp_path / "wf.yaml").write_text(text)
    marker = uuid.uuid4().hex
    env = {**os.environ, "EMBERFLOW_TEST_MARKER": marker}
    done = subprocess.run([sys.executable, str(REPORTER), str(tmp_path / "wf.yaml"), str(tmp_path / "store")],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["java_children"] == [], "the run's JVM is still running after the run returned"
    assert leftover_processes(marker) == []
    return report["record"]


def leftover_processes(marker: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("EMBERFLOW_TEST_MARKER") == marker:
                found.append(proc.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


@pytest.mark.parametrize("engine, saved_format", [
    pytest.param("spark", "spark-ml", marks=pytest.mark.spark),
    pytest.param("h2o", "h2o", marks=pytest.mark.h2o),
])
def test_a_failed_engine_step_stops_the_session_it_started(engine: str, saved_format: str, tmp_path: Path):
    record = run_in_fresh_process(workflow(engine, FAILING), tmp_path)
    assert record["engines"] == [engine]
    check_record_and_model(record, tmp_path / "store", "broken", "nope")
    store = ModelStore(tmp_path / "store")
    assert store.manifest(store.resolve("kept"))["format"] == saved_format
