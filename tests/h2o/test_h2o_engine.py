"""The H2O engine: the instance a run starts and always stops, an existing cluster it joins and leaves running,
its settings, frames to and from pandas, and the nodes on H2O."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from h2o_helpers import h2o_processes, probe_run

pytestmark = pytest.mark.h2o

ROOT = Path(__file__).resolve().parents[2]


def run_text(text: str, store: Path, settings: dict | None = None):
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    return run_workflow(parse_workflow(text, "test.yaml"), ModelStore(store), settings=settings,
                        reporter=Reporter(None))


def ok(result):
    assert result.ok, result.record.get("error")
    return result.record


FAILING = """
name: fails-after-h2o-started
engine: h2o
h2o: {max_mem_size: 512M, nthreads: 1}
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: no_such_column}}
"""


def test_a_failed_step_still_shuts_down_the_instance_and_leaves_no_files(project: Path, tmp_path: Path):
    (project / "fails.yaml").write_text(FAILING)
    tmpdir = tmp_path / "tmp-of-the-run"
    report = probe_run("run", "fails.yaml", "--json", cwd=project, tmpdir=tmpdir)
    assert report["code"] == 2
    record = json.loads(report["out"])
    assert record["status"] == "failed" and record["engines"] == ["h2o"]
    assert record["error"]["step"] == "train" and "no_such_column" in record["error"]["message"]
    servers = [c for c in report["commands"] if "-jar" in c]
    assert len(servers) == 1
    server = servers[0]
    assert "-Xmx512M" in server and server[server.index("-ip") + 1] == "127.0.0.1"
    assert "-Dsys.ai.h2o.ext.core.toggle.XGBoost=false" in server
    port = int(server[server.index("-port") + 1])
    assert 20000 <= port < 30000 and port % 2 == 0
    flatfile = next(a.split("=", 1)[1] for a in server if a.startswith("-Dai.h2o.flatfile="))
    assert flatfile.startswith(str(tmpdir))
    assert report["children"] == [], "the H2O JVM was still there when the run returned"
    assert report["temp_left"] == [], "the run's temporary files were still there when it returned"
    assert list(tmpdir.iterdir()) == [], "the run left temporary files"
    assert h2o_processes([str(tmpdir)]) == []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_cluster_is_one_clear_line(project: Path, tmp_path: Path):
    url = f"http://127.0.0.1:{free_port()}"
    report = probe_run("run", "workflows/train_h2o.yaml", "--h2o-url", url, cwd=project, tmpdir=tmp_path / "t")
    assert report["code"] == 2
    assert report["err"].strip().splitlines()[-1].startswith("error: ")
    assert f"cannot reach the H2O cluster at {url}" in report["err"]
    assert [c for c in report["commands"] if "-jar" in c] == []


def test_an_existing_cluster_is_joined_and_left_running(h2o_engine, h2o, project: Path, tmp_path: Path):
    """A fresh process trains on the session's cluster through --h2o-url, and does not shut it down; the
    frames and the model its steps made there are removed when it ends."""
    from emberflow.engine.engines.h2o import cluster_keys

    url = h2o.connection().base_url
    keys, models = cluster_keys(), {m["model_id"]["name"] for m in h2o.api("GET /3/Models")["models"]}
    report = probe_run("run", "workflows/train_h2o.yaml", "--h2o-url", url, "--json", cwd=project,
                       tmpdir=tmp_path / "t")
    assert report["code"] == 0, report["err"]
    assert {m["model_id"]["name"] for m in h2o.api("GET /3/Models")["models"]} == models
    left = cluster_keys() - keys  # the read, split and scored frames gone: at most Score's predictions
    assert len(left) <= 1, left
    assert "Warning" not in report["err"], report["err"]
    assert json.loads(report["out"])["engines"] == ["h2o"]
    assert [c for c in report["commands"] if "-jar" in c] == []
    assert report["h2o_connection"] == url
    assert h2o.cluster().is_running() and h2o_engine.launched.server.is_running()
    assert (project / "models" / "diabetes-h2o-glm" / "1" / "model.zip").is_file()


def test_runs_in_a_process_share_the_running_instance(h2o_engine, h2o, project: Path):
    from emberflow.engine.engines.h2o import Engine

    instance = h2o_engine.launched
    joined = Engine({"max_mem_size": "4G"})
    assert joined.start() is h2o and joined.launched is instance
    joined.stop()
    assert instance.server.is_running() and h2o.cluster().is_running()


@pytest.mark.parametrize(("settings", "message"), [
    ({"max_mem_size": "lots"}, "max_mem_size must be a number followed by M, G or T"),
    ({"extensions": ["NoSuchThing"]}, "unknown extension 'NoSuchThing'"),
])
def test_bad_settings_are_refused_before_a_jvm_starts(settings: dict, message: str, tmp_path: Path, monkeypatch):
    import tempfile

    from emberflow.engine.engines.h2o import launch_local
    from emberflow.engine.errors import UserError

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(UserError, match=message):
        launch_local(settings)
    assert list(tmp_path.iterdir()) == []


def test_a_busy_port_is_refused_before_a_jvm_starts(tmp_path: Path, monkeypatch):
    import tempfile

    from emberflow.engine.engines.h2o import free_port_pair, launch_local
    from emberflow.engine.errors import EngineUnavailable

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    port = free_port_pair()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port + 1))
        with pytest.raises(EngineUnavailable, match=f"port {port} or {port + 1} is in use"):
            launch_local({"port": port})
    assert list(tmp_path.iterdir()) == []


def test_extensions_asked_for_stay_on():
    from emberflow.engine.engines.h2o import extension_switches

    assert extension_switches([]) == ["-Dsys.ai.h2o.ext.core.toggle.XGBoost=false"]
    assert extension_switches(["xgboost"]) == []


def test_the_port_pair_is_free_even_and_below_the_ephemeral_range():
    from emberflow.engine.engines.h2o import free_port_pair, port_free

    port = free_port_pair()
    assert 20000 <= port < 30000 and port % 2 == 0
    assert port_free(port) and port_free(port + 1)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        assert not port_free(port)


def test_frames_cross_between_pandas_and_h2o(h2o_engine):
    from emberflow.engine.context import Sessions
    from emberflow.engine.frames import frame_engine, to_engine, to_pandas

    frame = pd.DataFrame({"n": [1, 2, 3], "x": [0.5, np.nan, 2.25], "s": ["a", None, "c"],
                          "b": [True, False, True]})
    sessions = Sessions()
    try:
        on_h2o = to_engine(frame, "h2o", sessions)
        assert frame_engine(on_h2o) == "h2o"
        assert on_h2o.types == {"n": "int", "x": "real", "s": "enum", "b": "enum"}
        assert on_h2o["s"].levels() == [["a", "c"]]
        back = to_pandas(on_h2o)
    finally:
        sessions.stop_all()
    assert list(back.columns) == ["n", "x", "s", "b"]
    assert back["n"].tolist() == [1, 2, 3]
    assert back["x"].iloc[0] == 0.5 and np.isnan(back["x"].iloc[1]) and back["x"].iloc[2] == 2.25
    assert back["s"].iloc[0] == "a" and pd.isna(back["s"].iloc[1]) and back["s"].iloc[2] == "c"
    assert back["b"].astype(str).tolist() == ["True", "False", "True"]


MALFORMED = "a,b,c\n1,2,x\n3,4\n5,6,z\n"


@pytest.mark.parametrize("mode", ["FAILFAST", "DROPMALFORMED", "PERMISSIVE"])
def test_read_csv_modes_on_h2o_match_the_sklearn_engine(h2o_engine, tmp_path: Path, mode: str):
    (tmp_path / "bad.csv").write_text(MALFORMED)
    text = f"""
name: read
steps:
  - {{id: read, node: ReadCSV, engine: ENGINE, params: {{path: {tmp_path / 'bad.csv'}, mode: {mode}}}}}
  - {{id: write, node: WriteCSV, engine: ENGINE, inputs: {{data: read}}, params: {{path: {tmp_path}/ENGINE.csv}}}}
"""
    results = {engine: run_text(text.replace("ENGINE", engine), tmp_path / "models") for engine in ("sklearn", "h2o")}
    if mode == "FAILFAST":
        for result in results.values():
            assert result.record["error"]["step"] == "read" and "malformed row" in result.record["error"]["message"]
        assert "bad.csv:3" in results["h2o"].record["error"]["message"]
        return
    rows = {engine: pd.read_csv(tmp_path / f"{engine}.csv") for engine in results}
    assert all(result.ok for result in results.values())
    expected = [1, 5] if mode == "DROPMALFORMED" else [1, 3, 5]
    assert rows["h2o"]["a"].tolist() == rows["sklearn"]["a"].tolist() == expected


def test_read_csv_header_separator_and_types_on_h2o(h2o_engine, tmp_path: Path):
    (tmp_path / "plain.csv").write_text("7;x;1.5\n8;y;2.5\n9;x;3.5\n")
    text = f"""
name: read
engine: h2o
steps:
  - id: read
    node: ReadCSV
    params: {{path: {tmp_path / 'plain.csv'}, header: false, separator: ";", mode: PERMISSIVE,
              dtypes: {{_c0: float}}}}
  - {{id: named, node: ReadCSV, params: {{path: {tmp_path / 'plain.csv'}, header: false, sep: ";",
     columns: [n, s, v]}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: read}}, params: {{path: {tmp_path}/a.csv}}}}
  - {{id: write_named, node: WriteCSV, inputs: {{data: named}}, params: {{path: {tmp_path}/b.csv}}}}
"""
    ok(run_text(text, tmp_path / "models"))
    first = pd.read_csv(tmp_path / "a.csv")
    assert list(first.columns) == ["_c0", "_c1", "_c2"] and first["_c0"].tolist() == [7.0, 8.0, 9.0]
    named = pd.read_csv(tmp_path / "b.csv")
    assert list(named.columns) == ["n", "s", "v"] and named["s"].tolist() == ["x", "y", "x"]


def test_split_data_on_h2o_repeats_with_the_seed(h2o_engine, tmp_path: Path):
    text = f"""
name: split
engine: h2o
steps:
  - {{id: read, node: ReadCSV, params: {{path: {ROOT / 'workflows/data/diabetes.csv'}}}}}
  - {{id: split, node: SplitData, inputs: {{data: read}}, params: {{test_size: 0.3, seed: SEED}}}}
  - {{id: test, node: WriteCSV, inputs: {{data: split.test}}, params: {{path: {tmp_path}/SEED-test.csv}}}}
  - {{id: train, node: WriteCSV, inputs: {{data: split.train}}, params: {{path: {tmp_path}/SEED-train.csv}}}}
"""
    for seed in ("1", "1", "2"):
        ok(run_text(text.replace("SEED", seed), tmp_path / f"models{seed}"))
    first, second = pd.read_csv(tmp_path / "1-test.csv"), pd.read_csv(tmp_path / "2-test.csv")
    train = pd.read_csv(tmp_path / "1-train.csv")
    assert len(first) + len(train) == 700 and 0.2 < len(first) / 700 < 0.4
    assert not first.equals(second)
    ok(run_text(text.replace("SEED", "1"), tmp_path / "again"))
    assert pd.read_csv(tmp_path / "1-test.csv").equals(first)


def test_train_lr_maps_spark_and_fire_names_to_h2o(h2o_engine, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(ROOT)
    text = """
name: train
engine: h2o
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - id: train
    node: TrainLR
    inputs: {data: read}
    params: {label: class, regParam: 0.02, elasticNetParam: 0.25, maxIter: 30, standardize: false,
             intercept: true, features: [plas, mass, age]}
  - {id: save, node: SaveModel, inputs: {model: train}, params: {name: mapped}}
"""
    from emberflow.engine.context import Sessions
    from emberflow.engine.models import load_from_store
    from emberflow.engine.store import ModelStore

    ok(run_text(text, tmp_path / "models"))
    sessions = Sessions()
    try:
        model, _ref, manifest = load_from_store(ModelStore(tmp_path / "models"), "mapped", sessions)
        actual = model.obj.estimator().actual_params
    finally:
        sessions.stop_all()
    assert actual["lambda"] == [0.02] and actual["alpha"] == [0.25] and actual["max_iterations"] == 30
    assert actual["standardize"] is False and actual["intercept"] is True and actual["family"] == "binomial"
    assert [f["name"] for f in manifest["features"]] == ["plas", "mass", "age"]


def test_train_lr_leaves_out_rows_without_a_label_with_a_warning(h2o_engine, tmp_path: Path):
    """Rows whose label is missing are left out of training, with a warning, as on the other engines (H2O
    refused them before)."""
    (tmp_path / "d.csv").write_text("x,t,y\n1,a b,0\n2,c d,1\n3,e f,\n4,g h,1\n5,i j,0\n")
    text = f"""
name: train
engine: h2o
steps:
  - {{id: read, node: ReadCSV, params: {{path: {tmp_path / 'd.csv'}, mode: PERMISSIVE, dtypes: {{t: string}}}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: y, features: [x]}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: gaps}}}}
"""
    from emberflow.nodes.learners.preparation import missing_label_warning

    record = ok(run_text(text, tmp_path / "models"))
    assert record["warnings"] == [f"train: {missing_label_warning('y', 1, 5)}"]
    manifest = json.loads((tmp_path / "models" / "gaps" / "1" / "manifest.json").read_text())
    assert manifest["metrics"]["train_rows"] == 4 and manifest["classes"] == [0, 1]


def test_a_mixed_workflow_moves_frames_between_engines(h2o_engine, tmp_path: Path, monkeypatch):
    """ReadCSV on pandas, TrainLR and Score on H2O, WriteCSV on pandas."""
    monkeypatch.chdir(ROOT)
    text = f"""
name: mixed
steps:
  - {{id: read, node: ReadCSV, params: {{path: workflows/data/diabetes.csv}}}}
  - {{id: train, node: TrainLR, engine: h2o, inputs: {{data: read}}, params: {{label: class}}}}
  - {{id: score, node: Score, engine: h2o, inputs: {{model: train, data: read}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: {tmp_path}/mixed.csv}}}}
"""
    record = ok(run_text(text, tmp_path / "models"))
    assert [s["engine"] for s in record["steps"]] == ["sklearn", "h2o", "h2o", "sklearn"]
    scored = pd.read_csv(tmp_path / "mixed.csv")
    assert len(scored) == 700 and {"prediction", "probability"} <= set(scored.columns)
    assert record["metrics"]["score"]["rows"] == 700


def labelled_rows(path: Path, classes: int) -> Path:
    """Rows of two features whose label (text) has ``classes`` values that the features separate only in part."""
    rng = np.random.default_rng(classes)
    x = rng.normal(size=(300, 2))
    score = x[:, 0] + 0.7 * x[:, 1] + rng.normal(scale=0.8, size=300)
    label = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "y": [f"c{v}" for v in label]}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize("classes", [2, 3])
def test_train_lr_records_the_training_accuracy_that_score_measures_on_every_engine(h2o_engine, tmp_path: Path,
                                                                                   classes: int):
    """H2O's TrainLR records train_accuracy at the step's threshold, as the other engines do, under the same
    names: Score on the training rows measures the same accuracy."""
    from emberflow.engine.store import ModelStore

    data = labelled_rows(tmp_path / "rows.csv", classes)
    recorded = {}
    for engine in ("sklearn", "h2o"):
        text = f"""
name: train-{engine}
engine: {engine}
steps:
  - {{id: read, node: ReadCSV, params: {{path: {data}}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: y, threshold: 0.3}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: {engine}}}}}
  - {{id: score, node: Score, inputs: {{model: train, data: read}}}}
"""
        record = ok(run_text(text, tmp_path / "models"))
        store = ModelStore(tmp_path / "models")
        metrics = store.manifest(store.resolve(engine))["metrics"]
        assert metrics["train_rows"] == 300
        assert metrics["train_accuracy"] == pytest.approx(record["metrics"]["score"]["accuracy"], abs=1e-12)
        recorded[engine] = set(metrics)
    assert recorded["h2o"] == recorded["sklearn"] == {"train_rows", "train_accuracy"}
