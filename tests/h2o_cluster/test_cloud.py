"""A real two-node H2O cloud: two H2O JVMs started here on 127.0.0.1 from the jar of the h2o package, formed into
one cloud through a flatfile that names both, and joined by the CLI with ``--h2o-url``.

Runs in a pytest invocation of its own (``pytest -m cluster tests/h2o_cluster``): the CLI runs are subprocesses,
so this process starts no H2O and never connects to one (it reads the cloud's REST status with urllib). Both
JVMs are killed by their process id when the module's tests end, passed or failed.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

NODE_HEAP = "384m"
JVM_SWITCHES = ("-Dsys.ai.h2o.ext.core.toggle.XGBoost=false",)  # no 157 MB native library unpacked per node

TRAIN = """
name: cloud-train
engine: h2o
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{data}/diabetes.csv"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: cloud-lr}}}}
"""

SCORE = """
name: cloud-score
engine: h2o
steps:
  - {{id: load, node: LoadModel, params: {{name: cloud-lr}}}}
  - {{id: read, node: ReadCSV, params: {{path: "{data}/diabetes_new.csv"}}}}
  - {{id: score, node: Score, inputs: {{model: load, data: read}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: output/scored_new.csv}}}}
"""

# Trees enough for the training to last while a node is killed; any later step needs the lost node as well.
LOSES_A_NODE = """
name: cloud-loses-a-node
engine: h2o
h2o: {{cluster_timeout: {timeout}}}
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{data}/diabetes.csv"}}}}
  - {{id: train, node: TrainGBT, inputs: {{data: read}}, params: {{label: class, n_estimators: 400, max_depth: 6}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: cloud-lost}}}}
  - {{id: score, node: Score, inputs: {{model: train, data: read}}, params: {{label: class}}}}
"""


class Cloud:
    """H2O JVMs on 127.0.0.1 that form one cloud through a flatfile naming all of them."""

    def __init__(self, folder: Path, nodes: int = 2):
        self.folder = folder
        self.ports = free_port_pairs(nodes)
        self.url = f"http://127.0.0.1:{self.ports[0]}"
        self.name = f"emberflow-test-{uuid.uuid4().hex[:8]}"
        self.flatfile = folder / "flatfile"
        self.flatfile.write_text("".join(f"127.0.0.1:{port}\n" for port in self.ports))
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        for number, port in enumerate(self.ports):
            self.start_node(number, port)
        self.wait_for(lambda: self.formed(nodes), f"{nodes} nodes in one cloud")

    def start_node(self, number: int, port: int) -> None:
        home = self.folder / f"node{number}"
        (home / "tmp").mkdir(parents=True)
        command = ["java", f"-Xmx{NODE_HEAP}", f"-Djava.io.tmpdir={home / 'tmp'}", *JVM_SWITCHES, "-jar",
                   str(h2o_jar()), "-name", self.name, "-ip", "127.0.0.1", "-port", str(port), "-flatfile",
                   str(self.flatfile), "-nthreads", "1", "-ice_root", str(home), "-log_dir", str(home / "logs")]
        log = home / "output.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            self.processes.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                                   stdin=subprocess.DEVNULL, env={**os.environ, "DO_NOT_TRACK": "1"}))

    def status(self, node: int = 0) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[node]}/3/Cloud", timeout=5) as response:
            return json.load(response)

    def jobs(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.url}/3/Jobs", timeout=5) as response:
            return json.load(response)["jobs"]

    def formed(self, nodes: int) -> bool:
        status = self.status()
        return status["cloud_size"] == nodes and status["consensus"] and status["cloud_healthy"]

    def wait_for(self, check, what: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and all(p.poll() is None for p in self.processes):
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.3)
        tails = "\n".join(f"--- {log}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs if log.exists())
        pytest.fail(f"the H2O cloud did not come up ({what}):\n{tails}")

    def stop(self) -> None:
        """Kill every node by its process id and wait for it (H2O keeps nothing that must outlive the test)."""
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        for process in self.processes:
            process.wait(timeout=30)


def h2o_jar() -> Path:
    return Path(importlib.util.find_spec("h2o").origin).parent / "backend" / "bin" / "h2o.jar"


def free_port_pairs(count: int) -> list[int]:
    """``count`` even ports P, each with P and P+1 free on loopback (an H2O node takes both)."""
    from emberflow.engine.engines.h2o import free_port_pair

    ports: list[int] = []
    while len(ports) < count:
        port = free_port_pair()
        if port not in ports:
            ports.append(port)
    return ports


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    folder = tmp_path_factory.mktemp("h2o-cloud")
    started = None
    try:
        started = Cloud(folder)
        yield started
    finally:
        if started is not None:
            started.stop()
            assert all(p.poll() is not None for p in started.processes), "an H2O node still runs"


def run_records(store: Path, workflow: str) -> list[dict]:
    records = [json.loads(p.read_text()) for p in (store / "runs").glob("*.json")]
    return [r for r in records if r["workflow"]["name"] == workflow]


@pytest.mark.timeout(300)
def test_train_save_load_and_score_on_a_two_node_cloud(cloud: Cloud, project: Path, emberflow_subprocess):
    data = project / "workflows" / "data"
    (project / "train.yaml").write_text(TRAIN.format(data=data))
    (project / "score.yaml").write_text(SCORE.format(data=data))
    assert cloud.status()["cloud_size"] == 2

    trained = emberflow_subprocess("run", "train.yaml", "--h2o-url", cloud.url, cwd=project, timeout=240)
    assert trained.code == 0, trained.err
    assert any(job["description"].startswith("GLM") for job in cloud.jobs()), "the model was not trained on the cloud"
    manifest = json.loads((project / "models" / "cloud-lr" / "1" / "manifest.json").read_text())
    assert {"model.h2o", "model.zip"} <= set(manifest["files"])  # the binary and the MOJO

    scored = emberflow_subprocess("run", "score.yaml", "--h2o-url", cloud.url, cwd=project, timeout=240)
    assert scored.code == 0, scored.err
    with open(project / "output" / "scored_new.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = len((data / "diabetes_new.csv").read_text().strip().splitlines()) - 1
    assert len(rows) == expected and all(0.0 < float(row["probability"]) < 1.0 for row in rows)
    assert [r["status"] for r in run_records(project / "models", "cloud-score")] == ["ok"]

    status = cloud.status(1)  # both nodes still in one cloud, seen from the second one too
    assert status["cloud_size"] == 2 and status["cloud_healthy"]
    assert all(p.poll() is None for p in cloud.processes)


@pytest.mark.timeout(300)
def test_a_cloud_that_loses_a_node_mid_run_ends_the_run(cloud: Cloud, project: Path):
    """The second node is killed while the training runs: the run ends within the bound with one line, a
    record, and no version in the store. (Runs last: the cloud cannot be used after it.)"""
    # 8 s: the request the lost node holds up times out after it, when that node has been silent longer than the
    # 3 s that make it a problem, whatever the load.
    data, store, timeout = project / "workflows" / "data", project / "models", 8
    (project / "lost.yaml").write_text(LOSES_A_NODE.format(data=data, timeout=timeout))
    run = subprocess.Popen([sys.executable, "-m", "emberflow.engine.cli", "run", "lost.yaml", "--h2o-url",
                            cloud.url], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    progress = b""
    while b"] train (" not in progress:
        chunk = run.stderr.read1(4096)
        assert chunk, f"the run ended before its training step: {progress.decode(errors='replace')}"
        progress += chunk
    cloud.processes[1].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    try:  # the bound: H2O's own notice of the lost node, plus cluster_timeout, plus the run's cleanup
        _, rest = run.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        pytest.fail("the run did not end within 120 s of the node's loss")
    err = (progress + rest).decode(errors="replace")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    print(f"the run ended {time.monotonic() - killed:.1f} s after the node was killed: {errors}")
    assert run.returncode == 1 and len(errors) == 1 and "Traceback" not in err, err
    assert f"the H2O cloud at {cloud.url} failed: node 127.0.0.1:{cloud.ports[1]}" in errors[0]
    assert f"cluster_timeout, {timeout} s" in errors[0]
    [record] = run_records(store, "cloud-loses-a-node")
    assert record["status"] == "failed" and record["error"]["message"] in errors[0]
    assert not (store / "cloud-lost").exists() or not any((store / "cloud-lost").iterdir())
