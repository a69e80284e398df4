"""The Spark session of a run: started lazily, once, quiet and on loopback; stopped at the end of the run (also
after a failure) unless it was already running; a clear, fast error for a master that cannot be reached."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from emberflow.engine.engines.spark import (
    LOG_CONFIG,
    Engine,
    is_loopback,
    launch_conf,
    local_threads,
    master_addresses,
    probe_master,
)
from emberflow.engine.errors import EngineUnavailable

from .helpers import run_text

MANY_SPARK_STEPS = """
name: many-spark-steps
engine: spark
steps:
  - {id: read, node: ReadCSV, params: {path: rows.csv}}
  - {id: split, node: SplitData, inputs: {data: read}, params: {test_size: 0.5}}
  - {id: again, node: SplitData, inputs: {data: split.train}, params: {test_size: 0.5}}
  - {id: write_test, node: WriteCSV, inputs: {data: split.test}, params: {path: test.csv}}
  - {id: write_rest, node: WriteCSV, inputs: {data: again.train}, params: {path: rest.csv, parts: true}}
  - {id: to_pandas, node: WriteCSV, engine: sklearn, inputs: {data: again.test}, params: {path: last.csv}}
"""

RAGGED_WORKFLOW = """
name: fails-on-spark
engine: spark
steps:
  - {id: read, node: ReadCSV, params: {path: ragged.csv}}
  - {id: write, node: WriteCSV, inputs: {data: read}, params: {path: out.csv}}
"""

# Runs workflows in this fresh interpreter, watching its child processes for JVMs while each run lasts.
WATCH_RUNS = """
import json, sys, threading, time
import psutil
from emberflow.engine.cli import main

me = psutil.Process()

def jvms(drivers_only=False):
    # drivers_only: Spark's driver, not the short-lived JVM that Spark's launcher script runs first
    found = set()
    for child in me.children(recursive=True):
        try:
            # the name before and after the command line: a launcher script that execs java between the two
            # reads would otherwise show its own command line under java's name
            if child.name() != "java":
                continue
            command = " ".join(child.cmdline())
            driver = "deploy.SparkSubmit" in command and "launcher.Main" not in command
            if child.name() == "java" and (driver or not drivers_only):
                found.add(child.pid)
        except psutil.Error:
            pass
    return found

report = []
for workflow in sys.argv[1:]:
    seen, done = set(), threading.Event()
    def watch():
        while not done.is_set():
            seen.update(jvms(drivers_only=True))
            time.sleep(0.05)
    watcher = threading.Thread(target=watch)
    watcher.start()
    code = main(["run", workflow, "--quiet"])
    done.set()
    watcher.join()
    from pyspark import SparkContext
    report.append({"workflow": workflow, "code": code, "jvms": len(seen), "left": sorted(jvms()),
                   "context": SparkContext._active_spark_context is not None})
print(json.dumps(report))
"""

# Runs a pandas-only workflow, and validates a Spark one, and says whether pyspark was imported.
IMPORTS = """
import sys
from emberflow.engine.cli import main
codes = [main(["validate", "workflows/train_spark.yaml"]), main(["run", "workflows/train.yaml", "--quiet"])]
print(codes, "pyspark" in sys.modules, "py4j" in sys.modules)
"""


def python(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_quiet_loopback_defaults_and_the_users_settings_on_top():
    conf = launch_conf("local[3]", {"conf": {"spark.sql.shuffle.partitions": 8, "spark.driver.extraJavaOptions":
                                             "-Dx=1", "spark.eventLog.enabled": True}})
    assert conf["spark.ui.enabled"] == "false" and conf["spark.ui.showConsoleProgress"] == "false"
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert conf["spark.sql.shuffle.partitions"] == "8" and conf["spark.eventLog.enabled"] == "true"
    java = conf["spark.driver.extraJavaOptions"]
    assert f"-Dlog4j2.configurationFile={LOG_CONFIG}" in java and LOG_CONFIG.is_file()
    assert "-Ddev.ludovic.netlib.blas.allowNative=false" in java and java.endswith("-Dx=1")
    assert launch_conf("local[3]", {})["spark.sql.shuffle.partitions"] == "3"
    remote = launch_conf("spark://10.1.2.3:7077", {"ui": True})
    assert remote["spark.ui.enabled"] == "true" and "spark.driver.host" not in remote
    assert "spark.sql.shuffle.partitions" not in remote
    assert "spark.driver.host" in launch_conf("spark://127.0.0.1:7077", {})


def test_master_urls():
    assert [local_threads(m) for m in ("local", "local[4]", "local[2,3]")] == [1, 4, 2]
    assert master_addresses("spark://a:7077,b:7078") == [("a", 7077), ("b", 7078)]
    assert is_loopback("spark://localhost:7077") and not is_loopback("spark://10.0.0.1:7077")
    assert not is_loopback("yarn")
    with pytest.raises(EngineUnavailable, match="expected spark://host:port"):
        master_addresses("spark://nohost")


def test_probe_passes_a_listening_master_and_refuses_a_closed_port():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        probe_master(f"spark://127.0.0.1:{server.getsockname()[1]}")
    port = closed_port()
    with pytest.raises(EngineUnavailable, match=rf"cannot reach the Spark master spark://127.0.0.1:{port} "):
        probe_master(f"spark://127.0.0.1:{port}")


@pytest.mark.spark
def test_a_running_session_is_joined_its_settings_restored_and_left_running(spark):
    before = spark.conf.get("spark.sql.shuffle.partitions")
    warnings: list[str] = []
    engine = Engine({"conf": {"spark.sql.shuffle.partitions": "7", "spark.executor.memory": "3g"}})
    engine.warn = warnings.append
    assert engine.start() is spark
    assert spark.conf.get("spark.sql.shuffle.partitions") == "7"
    assert any("spark.executor.memory=3g cannot be applied" in w for w in warnings)
    engine.stop()
    assert spark.conf.get("spark.sql.shuffle.partitions") == before
    assert spark.range(2).count() == 2


@pytest.mark.spark
def test_another_master_while_a_session_runs(spark, tmp_path: Path):
    engine = Engine({"master": "spark://127.0.0.1:7077"})
    with pytest.raises(EngineUnavailable, match=r"already runs a SparkSession on master local\[2\].*cannot switch"):
        engine.start()
    local = Engine({"master": "local[*]"})
    local.warn = (seen := []).append
    assert local.start() is spark and "using the SparkSession already running on local[2]" in seen[0]
    local.stop()
    (tmp_path / "ragged.csv").write_text("a\n1\n")
    result = run_text(RAGGED_WORKFLOW.replace("ragged.csv", str(tmp_path / "ragged.csv")), tmp_path / "models",
                      settings={"spark": {"master": "spark://127.0.0.1:7077"}})
    assert not result.ok and result.exit_code == 2 and "cannot switch" in str(result.error)
    assert spark.range(2).count() == 2


@pytest.mark.spark
def test_one_jvm_per_run_and_none_left_after_success_or_failure(project: Path):
    (project / "rows.csv").write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(40)))
    (project / "many.yaml").write_text(MANY_SPARK_STEPS)
    (project / "ragged.csv").write_text("a,b\n1,2\n3\n")
    (project / "fails.yaml").write_text(RAGGED_WORKFLOW)
    done = python(WATCH_RUNS, "many.yaml", "fails.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    ok, failed = json.loads(done.stdout.strip().splitlines()[-1])
    assert ok == {"workflow": "many.yaml", "code": 0, "jvms": 1, "left": [], "context": False}
    assert (project / "last.csv").is_file() and (project / "rest.csv" / "_SUCCESS").is_file()
    assert failed == {"workflow": "fails.yaml", "code": 2, "jvms": 1, "left": [], "context": False}
    assert "malformed CSV row '3'" in done.stderr
    assert "WARNING: Using incubator modules" not in done.stderr and "INFO" not in done.stderr
    assert "at org.apache" not in done.stderr and "Traceback" not in done.stderr


def test_pandas_workflows_and_validation_never_import_pyspark(project: Path):
    done = python(IMPORTS, cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[0, 0] False False"


def test_an_unreachable_master_is_a_clear_error_not_a_wait(project: Path, emberflow_subprocess):
    port = closed_port()
    result = emberflow_subprocess("run", "workflows/train_spark.yaml", "--spark-master",
                                  f"spark://127.0.0.1:{port}", cwd=project, timeout=120)
    assert result.code == 2
    assert f"cannot reach the Spark master spark://127.0.0.1:{port}" in result.err
    assert "start the master" in result.err and "Traceback" not in result.err
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "step 'read'" in errors[0]


@pytest.mark.spark
def test_the_command_lines_master_and_settings_win_over_the_workflows(spark, cli, project: Path):
    (project / "rows.csv").write_text("a,b\n1,2\n")
    (project / "wf.yaml").write_text("""
name: settings
engine: spark
spark:
  master: spark://127.0.0.1:9
  conf: {spark.executor.memory: 3g, spark.executor.cores: 1}
steps:
  - {id: read, node: ReadCSV, params: {path: rows.csv}}
  - {id: write, node: WriteCSV, inputs: {data: read}, params: {path: out.csv}}
""")
    refused = cli("run", "wf.yaml")
    assert refused.code == 2 and "cannot switch to spark://127.0.0.1:9" in refused.err
    result = cli("run", "wf.yaml", "--spark-master", "local[2]", "--spark-conf", "spark.executor.memory=4g")
    assert result.code == 0, result.err
    assert "spark.executor.memory=4g cannot be applied" in result.err
    assert "spark.executor.cores=1 cannot be applied" in result.err
    assert (project / "out.csv").read_text().splitlines() == ["a,b", "1,2"]


def test_pyspark_35_without_its_logger_module_starts_quietly(monkeypatch: pytest.MonkeyPatch):
    from emberflow.engine.engines.spark import quiet_python_side

    monkeypatch.setitem(sys.modules, "pyspark.logger", None)  # pyspark 3.5 has no pyspark.logger
    quiet_python_side()


def test_the_staging_setting_reaches_the_session_as_emberflows_spark_setting():
    assert launch_conf("spark://10.1.2.3:7077", {"staging": "hdfs://nn/tmp/ef"})["spark.emberflow.staging"] == \
        "hdfs://nn/tmp/ef"
    assert "spark.emberflow.staging" not in launch_conf("local[2]", {})


def serve_status(status: dict):
    """A web server on a free loopback port answering /json/ with ``status``, as a standalone master's UI does."""
    import http.server
    import threading

    body = json.dumps(status).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/json/" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_standalone_master_without_live_workers_is_refused_from_its_status():
    from emberflow.engine.engines.spark import check_live_workers

    warnings: list[str] = []
    dead = {"url": "spark://127.0.0.1:7077", "status": "ALIVE", "aliveworkers": 0, "workers": [{"state": "DEAD"}]}
    server = serve_status(dead)
    ui = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(EngineUnavailable, match=r"the Spark master spark://127.0.0.1:7077 has no live workers "
                                                    r"\(.*/json/ lists 1 workers, none alive\)"):
            check_live_workers("spark://127.0.0.1:7077", ui, warnings.append)
    finally:
        server.shutdown()
    for status in ({**dead, "aliveworkers": 1}, {**dead, "status": "STANDBY"}):
        server = serve_status(status)
        try:
            check_live_workers("spark://127.0.0.1:7077", f"http://127.0.0.1:{server.server_address[1]}",
                               warnings.append)
        finally:
            server.shutdown()
    assert warnings == []
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    check_live_workers("spark://127.0.0.1:7077", f"http://127.0.0.1:{closed}", warnings.append)
    assert warnings == [f"Spark: cannot read the master's status at http://127.0.0.1:{closed}/json/; its live "
                        "workers are not checked"]
