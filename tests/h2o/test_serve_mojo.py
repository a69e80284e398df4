"""emberflow serve on H2O models: the MOJO scored in one JVM kept for the server's life, with no H2O cluster.
Models trained on the session's H2O from the penguins (text with gaps, an island training never saw), saved
with binary and MOJO; the server's predictions equal batch Score's with mode: mojo and on the cluster (the
binary), request by request, concurrently, and after the JVM died."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.h2o

DATA = Path(__file__).resolve().parent.parent.parent / "workflows" / "data"
NEW_ROWS = DATA / "penguins_new.csv"
MODELS = {"species-glm": "multiclass GLM", "sex-drf": "two-class forest", "mass-glm": "regression"}

WORKFLOW = """
name: serve-h2o
engine: h2o
steps:
  - {id: read, node: ReadCSV, params: {path: "DATA/penguins.csv"}}
  - {id: new, node: ReadCSV, params: {path: "DATA/penguins_new.csv"}}
  - {id: species-glm, node: TrainLR, inputs: {data: read}, params: {label: species}}
  - {id: sex-drf, node: TrainRandomForest, inputs: {data: read}, params: {label: sex, n_estimators: 8, seed: 3}}
  - {id: mass-glm, node: TrainLinearRegression, inputs: {data: read}, params: {label: body_mass_g, impute: median}}
"""
PER_MODEL = """
  - {{id: save_{m}, node: SaveModel, inputs: {{model: {m}}}, params: {{name: {m}}}}}
  - {{id: mojo_{m}, node: Score, inputs: {{model: {m}, data: new}}, params: {{mode: mojo}}}}
  - {{id: binary_{m}, node: Score, inputs: {{model: {m}, data: new}}}}
  - {{id: write_mojo_{m}, node: WriteCSV, inputs: {{data: mojo_{m}}}, params: {{path: "{out}/{m}-mojo.csv"}}}}
  - {{id: write_binary_{m}, node: WriteCSV, inputs: {{data: binary_{m}}}, params: {{path: "{out}/{m}-binary.csv"}}}}
"""


@pytest.fixture(scope="module")
def served(h2o_engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the store (models/) and each model's batch Score by mode (M-mojo.csv, M-binary.csv)."""
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    folder = tmp_path_factory.mktemp("serve-h2o")
    text = WORKFLOW.replace("DATA", str(DATA)) + "".join(PER_MODEL.format(m=name, out=folder) for name in MODELS)
    result = run_workflow(parse_workflow(text, "serve.yaml", {}), ModelStore(folder / "models"),
                          reporter=Reporter(None))
    assert result.ok, result.error
    return folder


OPENED = []  # the holders the tests made, whose JVMs end with the module


@pytest.fixture(scope="module", autouse=True)
def jvms_end():
    yield
    while OPENED:
        scorer_of(OPENED.pop()).close()


def client_of(store: Path, version: str):
    from emberflow.engine.serving.app import create_app
    from emberflow.engine.serving.holder import ModelHolder
    from emberflow.engine.store import ModelStore
    from starlette.testclient import TestClient

    holder = ModelHolder(ModelStore(store), version, lambda message: None)
    OPENED.append(holder)
    return holder, TestClient(create_app(holder))


def scorer_of(holder):
    """The MojoScorer behind the served version's Batcher."""
    return holder.current.predict.predict.__self__


def rows() -> pd.DataFrame:
    frame = pd.read_csv(NEW_ROWS)
    return frame.astype(object).where(frame.notna(), None)


def ask(client, frame: pd.DataFrame):
    payload = {"dataframe_split": {"columns": list(frame.columns), "data": frame.values.tolist()},
               "params": {"probabilities": True}}
    response = client.post("/invocations", json=payload)
    assert response.status_code == 200, response.text
    return response.json()


def assert_like_batch(answer: dict, batch: pd.DataFrame, tolerance: float) -> None:
    if "probabilities" not in answer:
        np.testing.assert_allclose(answer["predictions"], batch["prediction"], rtol=tolerance, atol=0)
        return
    assert answer["predictions"] == batch["prediction"].tolist()
    columns = [c for c in batch.columns if c.startswith("probability")]
    got = np.asarray(answer["probabilities"])
    np.testing.assert_allclose(got[:, -1:] if len(columns) == 1 else got, batch[columns], rtol=tolerance, atol=0)


@pytest.mark.parametrize("name", list(MODELS))
def test_served_mojo_predicts_as_batch_score(served: Path, name: str):
    """Every held-out row at once and one by one: Score mode: mojo's numbers (same preparation, same MOJO, same
    reading of its answer; 1e-12 for WriteCSV's text of them), and the cluster's (the binary) to 1e-9."""
    holder, client = client_of(served / "models", f"{name}@1")
    assert holder.current.model.engine == "h2o"
    mojo_batch, binary_batch = (pd.read_csv(served / f"{name}-{mode}.csv") for mode in ("mojo", "binary"))
    answer = ask(client, rows())
    assert_like_batch(answer, mojo_batch, 1e-12)
    assert_like_batch(answer, binary_batch, 1e-9)
    for index in range(len(mojo_batch)):
        single = ask(client, rows().iloc[[index]])
        assert_like_batch(single, mojo_batch.iloc[[index]], 1e-12)


def test_concurrent_requests_and_a_restarted_jvm(served: Path):
    """Requests from 8 threads at once each get their own rows' answers; a JVM that died is started again."""
    holder, client = client_of(served / "models", "species-glm@1")
    batch = pd.read_csv(served / "species-glm-mojo.csv")
    answers: dict[int, dict] = {}

    def one(index: int) -> None:
        answers[index] = ask(client, rows().iloc[[index]])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for index, answer in answers.items():
        assert_like_batch(answer, batch.iloc[[index]], 1e-12)
    scorer = scorer_of(holder)
    scorer.process.kill()
    scorer.process.wait()
    assert_like_batch(ask(client, rows()), batch, 1e-12)


def test_the_jvm_ends_with_the_scorer(served: Path):
    from emberflow.engine.serving.mojo import MojoScorer

    holder, _ = client_of(served / "models", "mass-glm@1")
    model = holder.current.model
    scorer = MojoScorer(model, model.obj.mojo, "256M")
    process, folder = scorer.process, scorer.folder
    assert process.poll() is None and folder.is_dir()
    scorer.close()
    assert process.poll() is not None and not folder.exists()


def test_the_jvm_gets_the_heap_serve_is_given(served: Path):
    """``emberflow serve --java-heap``: the MOJO's JVM runs with it, also after an alias moves (the same holder)."""
    import psutil
    from emberflow.engine.serving.holder import ModelHolder
    from emberflow.engine.store import ModelStore

    holder = ModelHolder(ModelStore(served / "models"), "mass-glm@1", lambda message: None, java_heap="384M")
    OPENED.append(holder)
    command = psutil.Process(scorer_of(holder).process.pid).cmdline()
    assert "-Xmx384M" in command and not any(a.startswith("-Xmx") and a != "-Xmx384M" for a in command)


def test_without_java_the_server_says_so(served: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from emberflow.engine.errors import EngineUnavailable

    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EngineUnavailable, match="needs Java"):
        client_of(served / "models", "mass-glm@1")
    assert os.environ["PATH"] == str(tmp_path)


def test_without_javac_the_scorer_runs_from_its_source(served: Path, monkeypatch: pytest.MonkeyPatch):
    """Java's source launcher runs MojoRows.java when there is no javac to compile it: the same answers."""
    from emberflow.engine.serving import mojo
    from emberflow.engine.serving.mojo import MojoScorer

    holder, _ = client_of(served / "models", "sex-drf@1")
    monkeypatch.setattr(mojo, "compiled_classes", lambda java, jar: None)
    scorer = MojoScorer(holder.current.model, holder.current.model.obj.mojo, "256M")
    try:
        assert str(mojo.SOURCE) in scorer.process.args
        frame = pd.read_csv(NEW_ROWS)
        np.testing.assert_array_equal(scorer.predict(frame).proba, holder.current.predict(frame).proba)
    finally:
        scorer.close()


def test_a_jvm_that_hangs_is_ended_and_the_next_request_starts_a_new_one(served: Path):
    import signal

    from emberflow.engine.errors import EmberflowError

    holder, client = client_of(served / "models", "mass-glm@1")
    scorer = scorer_of(holder)
    scorer.answer_seconds = 1.0
    hung = scorer.process
    os.kill(hung.pid, signal.SIGSTOP)  # the JVM stops answering
    frame = pd.read_csv(NEW_ROWS)
    with pytest.raises(EmberflowError, match="did not answer within 1 s and was ended"):
        scorer.predict(frame)
    assert hung.wait(timeout=10) != 0
    batch = pd.read_csv(served / "mass-glm-mojo.csv")
    assert_like_batch(ask(client, rows()), batch, 1e-12)
    assert scorer.process is not hung
