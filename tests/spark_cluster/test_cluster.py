"""The example pair on a real Spark standalone cluster: a master and one worker started here on 127.0.0.1 from the
pyspark installation, the workflows run by the CLI with ``--spark-master spark://127.0.0.1:PORT``.

Runs in a pytest invocation of its own (``pytest -m cluster tests/spark_cluster``): the CLI runs are
subprocesses, so this process never needs a SparkSession of its own.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

EXECUTOR_SETTINGS = ("--spark-conf", "spark.executor.memory=1g", "--spark-conf", "spark.cores.max=2")


@dataclass
class Cluster:
    master_url: str
    web_url: str

    def status(self) -> dict:
        with urllib.request.urlopen(f"{self.web_url}/json/", timeout=5) as response:
            return json.load(response)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def spark_home() -> Path:
    return Path(importlib.util.find_spec("pyspark").origin).parent


def start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``bin/spark-class ARGS`` in the foreground (it execs the JVM, so the pid is the JVM's)."""
    with open(log, "wb") as out:
        return subprocess.Popen([str(spark_home() / "bin" / "spark-class"), *args], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)


def wait_for(check, what: str, processes: list[subprocess.Popen], logs: list[Path], seconds: float = 180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        exited = [p for p in processes if p.poll() is not None]
        if exited:
            break
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs if log.exists())
    pytest.fail(f"the standalone cluster did not come up ({what}):\n{tails}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A master and one worker (2 cores, 2 GB), stopped by process id whatever happens."""
    folder = tmp_path_factory.mktemp("cluster")
    port, web_port, worker_web_port = free_port(), free_port(), free_port()
    env = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOCAL_DIRS": str(folder), "SPARK_LOG_DIR": str(folder)}
    cluster = Cluster(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{web_port}")
    logs = [folder / "master.log", folder / "worker.log"]
    processes: list[subprocess.Popen] = []
    try:
        processes.append(start(["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                                str(port), "--webui-port", str(web_port)], logs[0], env))
        wait_for(lambda: cluster.status().get("status") == "ALIVE", "master", processes, logs)
        processes.append(start(["org.apache.spark.deploy.worker.Worker", cluster.master_url, "--host",
                                "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port",
                                str(worker_web_port), "--work-dir", str(folder / "work")], logs[1], env))
        wait_for(lambda: cluster.status().get("aliveworkers", 0) >= 1, "worker", processes, logs)
        yield cluster
    finally:
        for process in reversed(processes):
            stop(process)


@pytest.mark.timeout(900)
def test_train_and_score_on_a_standalone_cluster(cluster: Cluster, project: Path, emberflow_subprocess):
    trained = emberflow_subprocess("run", "workflows/train_spark.yaml", "--spark-master", cluster.master_url,
                                   *EXECUTOR_SETTINGS, "--json", cwd=project, timeout=600)
    assert trained.code == 0, trained.err
    record = json.loads(trained.out)
    assert [(m["name"], m["version"], m["format"]) for m in record["models"]] == [("diabetes-spark-lr", 1, "spark-ml")]
    assert 0.6 < record["metrics"]["score"]["accuracy"] <= 1.0

    manifest = json.loads((project / "models" / "diabetes-spark-lr" / "1" / "manifest.json").read_text())
    assert any(rel.endswith(".parquet") for rel in manifest["files"])
    assert any(Path(rel).name == "_SUCCESS" for rel in manifest["files"])

    scored = emberflow_subprocess("run", "workflows/score_spark.yaml", "--spark-master", cluster.master_url,
                                  *EXECUTOR_SETTINGS, cwd=project, timeout=600)
    assert scored.code == 0, scored.err
    with open(project / "output" / "scored_new_spark.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected = len((project / "workflows" / "data" / "diabetes_new.csv").read_text().strip().splitlines()) - 1
    assert len(rows) == expected and all(0.0 < float(r["probability"]) < 1.0 for r in rows)

    finished = {app["name"] for app in cluster.status()["completedapps"]}
    assert {"train-diabetes-spark", "score-diabetes-spark"} <= finished
    verified = emberflow_subprocess("models", "verify", "diabetes-spark-lr", cwd=project)
    assert verified.code == 0 and "ok" in verified.out
