"""The Spark engine: one SparkSession per run, started on first use, quiet and on loopback by default.

Settings (the workflow's ``spark:`` section, with ``--spark-master`` / ``--spark-conf`` on top):
``master`` (default ``local[*]``), ``app_name``, ``conf`` (Spark settings), ``ui`` (Spark's web UI, off by
default) and ``staging`` (where Spark ML models go through between the store and a cluster's executors: see
``spark_staging``; kept in the session's Spark setting ``spark.emberflow.staging``).

A SparkSession that is already running in the process (a notebook's, an application's, a test fixture's) is
used as it is and left running at the end of the run: emberflow stops only what it started. When emberflow
launched Spark's JVM for the run, it also ends that JVM when the run ends, so an application that runs
workflows leaves no idle JVM behind and the next run gets its own driver settings.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import EngineUnavailable
from . import EngineSession

DEFAULT_MASTER = "local[*]"
DEFAULT_APP_NAME = "emberflow"
LOG_CONFIG = Path(__file__).resolve().parent.parent / "resources" / "spark-log4j2.properties"
PROBE_SECONDS = 3.0
EMBERFLOW_PREFIX = "spark.emberflow."  # emberflow's own settings, kept in the session's conf (Spark ignores them)
DEFAULT_CLUSTER_TIMEOUT = 180  # seconds a job may wait with no executor on a cluster before it is cancelled
WATCH_SECONDS = 2.0
DEFAULT_MASTER_UI_PORT = 8080  # a standalone master's web UI, whose /json/ status tells its live workers
LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
QUIET_JAVA_OPTIONS = ("-Ddev.ludovic.netlib.blas.allowNative=false",)
# Applied to a session emberflow joins, for the run's duration, when Spark lets them change at run time.
RUNTIME_DEFAULTS = {"spark.sql.execution.arrow.pyspark.enabled": "true"}
PANDAS_WARNING = "PySpark does not yet fully support pandas"
# Spark 4's launcher always adds --add-modules=jdk.incubator.vector, and the JVM announces it on every start.
JVM_NOTICES = ("WARNING: Using incubator modules",)


class _Started:
    """The session emberflow started, shared by the runs of this process that use it at the same time."""

    lock = threading.Lock()
    session: Any = None
    users = 0
    launched_jvm = False
    watchdog: ExecutorWatchdog | None = None


class Engine(EngineSession):
    name = "spark"

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self._session: Any = None
        self._shared = False  # uses the session emberflow started (counted in _Started.users)
        self._restore: dict[str, str | None] = {}

    def start(self) -> Any:
        quiet_python_side()
        requested = self.settings.get("master")
        with _Started.lock:
            running = running_session()
            if running is not None:
                self._session = self._join(running, requested)
            else:
                self._session = self._launch(requested or DEFAULT_MASTER)
        return self._session

    def stop(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        with _Started.lock:
            self._restore_conf(session)
            if not self._shared:
                return
            self._shared = False
            _Started.users -= 1
            if _Started.users > 0 or _Started.session is not session:
                return
            launched_jvm = _Started.launched_jvm
            _Started.session, _Started.launched_jvm = None, False
            if _Started.watchdog is not None:
                _Started.watchdog.stop()
                _Started.watchdog = None
            try:
                session.stop()
            finally:
                if launched_jvm:
                    end_jvm()

    def _join(self, running: Any, requested: str | None) -> Any:
        """Use a SparkSession that already runs in this process (after checking its master fits)."""
        master = running.sparkContext.master
        if requested and requested != master:
            if not (is_local(requested) and is_local(master)):
                raise EngineUnavailable(
                    f"this process already runs a SparkSession on master {master}, and Spark cannot switch to "
                    f"{requested} within one process; run the workflow in a new process (emberflow run ...) or "
                    f"use master {master}")
            self.warn(f"Spark: using the SparkSession already running on {master} instead of {requested}")
        if running is _Started.session:
            _Started.users += 1
            self._shared = True
        self._apply_runtime_conf(running)
        return running

    def _apply_runtime_conf(self, session: Any) -> None:
        wanted = {**RUNTIME_DEFAULTS, **{k: spark_value(v) for k, v in (self.settings.get("conf") or {}).items()},
                  **emberflow_conf(self.settings)}
        for key, value in wanted.items():
            current = session.conf.get(key, None)
            if current == value:
                continue
            if not session.conf.isModifiable(key) and not key.startswith(EMBERFLOW_PREFIX):
                self.warn(f"Spark: {key}={value} cannot be applied to the SparkSession already running in this "
                          f"process (it keeps {current}); set it where that session is created")
                continue
            self._restore.setdefault(key, current)
            session.conf.set(key, value)

    def _restore_conf(self, session: Any) -> None:
        for key, value in self._restore.items():
            if value is None:
                session.conf.unset(key)
            else:
                session.conf.set(key, value)
        self._restore.clear()

    def _launch(self, master: str) -> Any:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        if master.startswith("spark://"):
            probe_master(master)
            check_live_workers(master, self.settings.get("master_ui"), self.warn)
        conf = {"spark.master": master, "spark.app.name": self.settings.get("app_name") or DEFAULT_APP_NAME,
                **launch_conf(master, self.settings)}
        launched_jvm = False
        try:
            with launch_environment(master):
                if SparkContext._gateway is None:
                    launched_jvm = launch_jvm(conf)
                builder = SparkSession.builder
                for key, value in conf.items():
                    builder = builder.config(key, value)
                session = builder.getOrCreate()
        except Exception as exc:
            if launched_jvm:
                end_jvm()
            raise EngineUnavailable(f"Spark did not start on master {master}: {first_line(exc)}") from exc
        _Started.session, _Started.users, _Started.launched_jvm = session, 1, launched_jvm
        self._shared = True
        if not is_local(master):
            seconds = int(self.settings.get("cluster_timeout") or DEFAULT_CLUSTER_TIMEOUT)
            _Started.watchdog = ExecutorWatchdog(session.sparkContext, master, seconds)
            _Started.watchdog.start()
        return session


def quiet_python_side() -> None:
    """Silence pyspark's own reports of what emberflow reports itself: its warning about pandas 3 (Arrow
    conversions work), and its loggers that print every analysis error as JSON before it is raised."""
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pyspark\.")
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark 3.5 has neither these loggers nor the reports they print
        return
    for name in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def spark_to_pandas(frame: Any) -> Any:
    """A Spark frame collected to pandas through Arrow (the session enables it)."""
    from ..spark_errors import spark_errors

    with spark_errors():
        return frame.toPandas()


def pandas_to_spark(session: Any, frame: Any) -> Any:
    """A pandas frame as a Spark frame through Arrow; its index is dropped, column names become text."""
    from ..spark_errors import spark_errors

    if any(not isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    with spark_errors():
        return session.createDataFrame(frame)


def running_session() -> Any:
    """The SparkSession already running in this process, or None."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkContext._active_spark_context is None:
        return None
    try:
        return SparkSession.active()
    except Exception:  # a bare SparkContext: give it a session
        return SparkSession.builder.getOrCreate()


@contextlib.contextmanager
def launch_environment(master: str) -> Iterator[None]:
    """While Spark starts: Python workers run this interpreter (unless PYSPARK_PYTHON says otherwise), and a
    driver for a local master binds to loopback (unless SPARK_LOCAL_IP says otherwise). Restored afterwards, so
    that a later run of this process on another master starts clean."""
    wanted = {"PYSPARK_PYTHON": sys.executable}
    if is_loopback(master):
        wanted["SPARK_LOCAL_IP"] = LOOPBACK
    added = [key for key in wanted if key not in os.environ]
    os.environ.update({key: wanted[key] for key in added})
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def launch_conf(master: str, settings: dict[str, Any]) -> dict[str, str]:
    """The Spark settings a new session starts with: emberflow's quiet defaults, then the user's on top."""
    conf = {
        "spark.ui.enabled": spark_value(bool(settings.get("ui"))),
        "spark.ui.showConsoleProgress": "false",
        **RUNTIME_DEFAULTS,
    }
    if is_local(master):
        conf["spark.sql.shuffle.partitions"] = str(local_threads(master))
    if is_loopback(master):
        conf["spark.driver.host"] = LOOPBACK
        conf["spark.driver.bindAddress"] = LOOPBACK
    user = {**{str(k): spark_value(v) for k, v in (settings.get("conf") or {}).items()}, **emberflow_conf(settings)}
    java = [f"-Dlog4j2.configurationFile={quote_option(str(LOG_CONFIG))}", *QUIET_JAVA_OPTIONS]
    if user.get("spark.driver.extraJavaOptions"):
        java.append(user.pop("spark.driver.extraJavaOptions"))  # later -D options win
    conf["spark.driver.extraJavaOptions"] = " ".join(java)
    conf.update(user)
    return conf


def emberflow_conf(settings: dict[str, Any]) -> dict[str, str]:
    """emberflow's own settings that Spark code reads from the session: the staging location."""
    from ..spark_staging import STAGING_KEY

    return {STAGING_KEY: str(settings["staging"])} if settings.get("staging") else {}


def spark_value(value: Any) -> str:
    """A setting as Spark reads it: booleans in lower case, everything else as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def quote_option(text: str) -> str:
    return f'"{text}"' if any(c.isspace() for c in text) else text


def is_local(master: str) -> bool:
    return master == "local" or master.startswith("local[")


def local_threads(master: str) -> int:
    """The worker threads of a local master: local (1), local[N] or local[N,F] (N), local[*] (the cores)."""
    inside = master[len("local["):-1] if master.startswith("local[") else "1"
    count = inside.split(",")[0].strip()
    if count == "*":
        return os.cpu_count() or 1
    return int(count) if count.isdigit() and int(count) > 0 else 1


def master_addresses(master: str) -> list[tuple[str, int]]:
    """The (host, port) pairs of ``spark://host:port[,host:port...]`` (several for a high-availability master)."""
    addresses = []
    for part in master[len("spark://"):].split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep or not host or not port.isdigit():
            raise EngineUnavailable(f"invalid Spark master URL {master!r}; expected spark://host:port")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def is_loopback(master: str) -> bool:
    """Local mode, or a standalone master on this machine's loopback address: the driver binds to 127.0.0.1."""
    if is_local(master):
        return True
    if not master.startswith("spark://"):
        return False
    try:
        hosts = [host for host, _port in master_addresses(master)]
    except EngineUnavailable:
        return False
    return all(h in LOOPBACK_HOSTS or h.startswith("127.") for h in hosts)


def probe_master(master: str, seconds: float = PROBE_SECONDS) -> None:
    """Fail fast if no master of ``spark://...`` accepts a TCP connection (Spark itself retries for a minute)."""
    problems = []
    for host, port in master_addresses(master):
        try:
            with socket.create_connection((host, port), timeout=seconds):
                return
        except OSError as exc:
            problems.append(f"{host}:{port}: {exc.strerror or exc}")
    raise EngineUnavailable(
        f"cannot reach the Spark master {master} ({'; '.join(problems)}); start the master, check the URL "
        "(--spark-master or spark: master in the workflow), or run locally with --spark-master 'local[*]'")


def check_live_workers(master: str, master_ui: str | None, warn) -> None:
    """Refuse at the start a standalone master that has no live worker (Spark would wait for one silently),
    from its web UI's JSON status: ``master_ui``, else port 8080 of each master host when it answers as that
    master. A status that cannot be read is skipped (with a warning when ``master_ui`` was given)."""
    urls = [master_ui.rstrip("/")] if master_ui else [f"http://{host}:{DEFAULT_MASTER_UI_PORT}"
                                                       for host, _port in master_addresses(master)]
    wanted = {(host, port) for host, port in master_addresses(master)}
    for url in urls:
        status = master_status(url)
        if status is None:
            if master_ui:
                warn(f"Spark: cannot read the master's status at {url}/json/; its live workers are not checked")
            continue
        if not master_ui and _status_address(status) not in wanted:
            continue  # something else answers there
        if status.get("status", "ALIVE") != "ALIVE":
            continue  # a standby master of a high-availability pair
        if not status.get("aliveworkers"):
            raise EngineUnavailable(
                f"the Spark master {master} has no live workers ({url}/json/ lists {len(status.get('workers') or [])} "
                "workers, none alive), so a job would wait for one forever; start a worker "
                f"(spark-class org.apache.spark.deploy.worker.Worker {master}) or use another master")
        return


def master_status(url: str) -> dict[str, Any] | None:
    import json
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/json/", timeout=PROBE_SECONDS) as response:
            status = json.load(response)
    except (OSError, ValueError):
        return None
    return status if isinstance(status, dict) else None


def _status_address(status: dict[str, Any]) -> tuple[str, int] | None:
    try:
        return master_addresses(str(status.get("url", "")))[0]
    except EngineUnavailable:
        return None


class ExecutorWatchdog:
    """Cancels the jobs of a cluster session that have waited ``seconds`` with no executor at all (its worker
    died, or the cluster has no free cores): Spark itself would wait forever. ``reason`` then says why, for
    the error that the cancelled job raises (see ``spark_errors``)."""

    reason: str | None = None  # of the last cancellation, in this process

    def __init__(self, context: Any, master: str, seconds: int):
        self.context, self.master, self.seconds = context, master, seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="spark-executor-watchdog", daemon=True)

    def start(self) -> None:
        ExecutorWatchdog.reason = None
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=10)
        ExecutorWatchdog.reason = None

    def _watch(self) -> None:
        waiting_since = None
        while not self._stopped.wait(WATCH_SECONDS):
            try:
                stalled = self._stalled()
            except Exception:  # the session is stopping: nothing to watch
                return
            now = time.monotonic()
            waiting_since = (waiting_since or now) if stalled else None
            if waiting_since is not None and now - waiting_since >= self.seconds:
                ExecutorWatchdog.reason = (
                    f"the Spark cluster {self.master} had no executor for {self.seconds} s while a job waited (a "
                    "worker died, or no worker has free cores), so the job was cancelled; check the workers, or "
                    "set spark: cluster_timeout to wait longer")
                self.context.cancelAllJobs()
                waiting_since = None

    def _stalled(self) -> bool:
        """A job is running and no executor is registered (the map lists the driver too)."""
        if not self.context.statusTracker().getActiveJobsIds():
            return False
        return self.context._jsc.sc().getExecutorMemoryStatus().size() <= 1


def cancelled_by_watchdog() -> str | None:
    return ExecutorWatchdog.reason


def launch_jvm(conf: dict[str, str]) -> bool:
    """Launch Spark's driver JVM for this process, as pyspark would, but with its standard error passed on
    through a filter that drops the JVM's "Using incubator modules" notice. True if a JVM was launched (not
    when pyspark connects to one that runs already, under spark-submit)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    spark_conf = SparkConf()
    for key, value in conf.items():
        spark_conf.set(key, value)
    read_end, write_end = os.pipe()
    threading.Thread(target=_pass_on, args=(os.fdopen(read_end, "rb"),), name="spark-jvm-stderr",
                     daemon=True).start()
    try:
        gateway = launch_gateway(spark_conf, popen_kwargs={"stderr": write_end})
    finally:
        os.close(write_end)  # the JVM holds the other copy: the filter ends when the JVM does
    SparkContext._gateway, SparkContext._jvm = gateway, gateway.jvm
    return getattr(gateway, "proc", None) is not None


def _pass_on(stream) -> None:
    with stream:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if not line.startswith(JVM_NOTICES):
                sys.stderr.write(line)
                sys.stderr.flush()


def end_jvm() -> None:
    """End the JVM that pyspark launched for this process (it exits when its standard input closes)."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    process = getattr(gateway, "proc", None)
    SparkContext._gateway = None
    SparkContext._jvm = None
    with contextlib.suppress(Exception):  # already gone: the process is dealt with below
        gateway.shutdown()
    if process is None:
        return
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=15)
    except Exception:
        process.kill()
        process.wait(timeout=15)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
