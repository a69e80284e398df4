"""A Spark standalone cluster whose worker shares no disk with the driver: a master and one worker started here on
127.0.0.1 from the pyspark installation, the worker in its own mount namespace with empty tmpfs folders over the
model store and the output folder (as on another machine), the data and the staging folder on paths both see.
The workflows run by the CLI with ``--spark-master spark://127.0.0.1:PORT --spark-staging file:///...``.

Runs in a pytest invocation of its own (``pytest -m cluster tests/spark_cluster``): the CLI runs are
subprocesses, so this process never needs a SparkSession of its own. It needs root (``unshare -m`` and
``mount``), as CI has; without it the test fails and says so.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

EXECUTOR_SETTINGS = ("--spark-conf", "spark.executor.memory=1g", "--spark-conf", "spark.cores.max=2")

TRAIN = """
name: cluster-train
engine: spark
spark: {{master_ui: "{ui}", app_name: cluster-train}}
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{data}/diabetes.csv"}}}}
  - {{id: train, node: TrainLR, inputs: {{data: read}}, params: {{label: class}}}}
  - {{id: save, node: SaveModel, inputs: {{model: train}}, params: {{name: cluster-lr}}}}
  - {{id: score, node: Score, inputs: {{model: train, data: read}}, params: {{label: class}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: output/scored_train.csv}}}}
"""

SCORE = """
name: cluster-score
engine: spark
spark: {{master_ui: "{ui}", app_name: cluster-score}}
steps:
  - {{id: load, node: LoadModel, params: {{name: cluster-lr}}}}
  - {{id: read, node: ReadCSV, params: {{path: "{data}/diabetes_new.csv"}}}}
  - {{id: score, node: Score, inputs: {{model: load, data: read}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: "{shared}/scored_new.csv"}}}}
"""

# The master's status is not read (nothing answers at port 1), so a run starts with no worker alive: its job waits
# with no executor, as when the only worker dies mid-job, until cluster_timeout cancels it.
STRANDED = """
name: cluster-stranded
engine: spark
spark: {{master_ui: "http://127.0.0.1:1", cluster_timeout: 5, app_name: cluster-stranded}}
steps:
  - {{id: read, node: ReadCSV, params: {{path: "{data}/diabetes_new.csv"}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: read}}, params: {{path: "{shared}/copied.csv"}}}}
"""


class Cluster:
    """A standalone master, and the workers started for it; every process stopped by its id at the end."""

    def __init__(self, folder: Path):
        self.folder = folder
        port, web_port = free_port(), free_port()
        self.master_url, self.web_url = f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web_port}"
        self.env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
                    "SPARK_LOCAL_DIRS": str(folder), "SPARK_LOG_DIR": str(folder)}
        self.processes: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.start(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port),
                    "--webui-port", str(web_port)], "master")
        self.wait_for(lambda: self.status().get("status") == "ALIVE", "master")

    def status(self) -> dict:
        with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as response:
            return json.load(response)

    def start(self, args: list[str], name: str, hidden: tuple[Path, ...] = ()) -> subprocess.Popen:
        """``bin/spark-class ARGS``, which execs the JVM, so the pid is the JVM's; with ``hidden`` folders, in a
        mount namespace of its own where each of them is an empty tmpfs."""
        command = [str(spark_home() / "bin" / "spark-class"), *args]
        if hidden:
            mounts = " && ".join(f'mount -t tmpfs tmpfs "${i + 1}"' for i in range(len(hidden)))
            command = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                       f'{mounts} && shift {len(hidden)} && exec "$@"', "sh", *map(str, hidden), *command]
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env=self.env)
        self.processes.append(process)
        return process

    def start_worker(self, hidden: tuple[Path, ...]) -> subprocess.Popen:
        worker = self.start(["org.apache.spark.deploy.worker.Worker", self.master_url, "--host", "127.0.0.1",
                             "--cores", "2", "--memory", "2g", "--webui-port", str(free_port()), "--work-dir",
                             str(self.folder / "work")], "worker", hidden)
        self.wait_for(lambda: self.status().get("aliveworkers", 0) >= 1, "worker")
        return worker

    def wait_for(self, check, what: str, seconds: float = 180, processes: bool = True) -> None:
        """Until ``check()``; a failure with the logs if the time runs out, or (``processes``) one of them ends."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (processes and any(p.poll() is not None for p in self.processes)):
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.5)
        tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs
                          if log.exists())
        pytest.fail(f"the standalone cluster did not come up ({what}):\n{tails}")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spark_home() -> Path:
    return Path(importlib.util.find_spec("pyspark").origin).parent


def require_mount_namespaces() -> None:
    """The worker's own view of the disk needs root (CI runs as root); anywhere else this is a failure, never a
    silent skip."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.fail("the cluster test starts its worker with 'unshare -m' and tmpfs mounts, which need root and "
                    "util-linux's unshare: run it as root (as CI does)")


@pytest.fixture
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_mount_namespaces()
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster
    finally:
        cluster.stop()


def seen_by(process: subprocess.Popen, folder: Path) -> list[str]:
    """What ``process`` sees in ``folder``, through its own mount namespace."""
    return sorted(p.name for p in Path(f"/proc/{process.pid}/root{folder}").iterdir())


@pytest.mark.timeout(900)
def test_train_save_load_and_score_on_a_cluster_that_cannot_see_the_store(cluster: Cluster, project: Path,
                                                                         emberflow_subprocess):
    store, output, shared, staging = (project / name for name in ("models", "output", "shared", "staging"))
    for folder in (store, output, shared, staging):
        folder.mkdir()
    data = project / "workflows" / "data"
    (project / "train.yaml").write_text(TRAIN.format(ui=cluster.web_url, data=data))
    (project / "score.yaml").write_text(SCORE.format(ui=cluster.web_url, data=data, shared=shared))
    cluster_options = ("--spark-master", cluster.master_url, "--spark-staging", staging.as_uri(), *EXECUTOR_SETTINGS)

    # The master has no worker yet: refused at the start, from its status, not waited on.
    refused = emberflow_subprocess("run", "train.yaml", *cluster_options, cwd=project, timeout=120)
    assert refused.code == 2 and f"the Spark master {cluster.master_url} has no live workers" in refused.err

    worker = cluster.start_worker(hidden=(store, output))
    trained = emberflow_subprocess("run", "train.yaml", *cluster_options, cwd=project, timeout=600)
    assert seen_by(worker, store) == [] and "cluster-lr" in os.listdir(store)
    # The model is saved; the scored rows are written by executors that cannot see output/: one clear line.
    assert trained.code == 2, trained.err
    assert "WriteCSV: the Spark cluster cannot write" in trained.err and "Traceback" not in trained.err
    runs = [json.loads(p.read_text()) for p in (store / "runs").glob("*.json")]
    assert [(r["status"], r["models"][0]["name"]) for r in runs if r["models"]] == [("failed", "cluster-lr")]
    manifest = json.loads((store / "cluster-lr" / "1" / "manifest.json").read_text())
    assert any(rel.endswith(".parquet") for rel in manifest["files"])

    verified = emberflow_subprocess("models", "verify", "cluster-lr", cwd=project)
    assert verified.code == 0 and "ok" in verified.out

    scored = emberflow_subprocess("run", "score.yaml", *cluster_options, cwd=project, timeout=600)
    assert scored.code == 0, scored.err
    with open(shared / "scored_new.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = len((data / "diabetes_new.csv").read_text().strip().splitlines()) - 1
    assert len(rows) == expected and all(0.0 < float(r["probability"]) < 1.0 for r in rows)
    assert os.listdir(staging) == []  # staged copies deleted
    finished = {app["name"] for app in cluster.status()["completedapps"]}
    assert {"cluster-train", "cluster-score"} <= finished

    worker.kill()  # the worker dies: a job now waits with no executor, and is cancelled after cluster_timeout
    worker.wait(timeout=30)
    cluster.wait_for(lambda: cluster.status().get("aliveworkers") == 0, "the worker's death", processes=False)
    (project / "stranded.yaml").write_text(STRANDED.format(data=data, shared=shared))
    stranded = emberflow_subprocess("run", "stranded.yaml", *cluster_options, cwd=project, timeout=180)
    assert stranded.code == 1 and "Traceback" not in stranded.err
    assert f"the Spark cluster {cluster.master_url} had no executor for 5 s while a job waited" in stranded.err
    assert "cannot read the master's status at http://127.0.0.1:1/json/" in stranded.err
    runs = [json.loads(p.read_text()) for p in (store / "runs").glob("*.json")]
    assert [r["status"] for r in runs if r["workflow"]["name"] == "cluster-stranded"] == ["failed"]
