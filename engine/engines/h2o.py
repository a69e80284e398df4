"""The H2O engine: a local H2O started once per run (or an existing cluster), and frames to and from pandas.

Settings (the workflow's ``h2o:`` section, ``--h2o-url`` on top): ``url`` joins an existing cluster, which
emberflow never shuts down. Without it, emberflow starts H2O from the jar inside the ``h2o`` package: bound
to 127.0.0.1 on a free even port P in 20000-30000 (H2O also takes P+1; both lie below the ephemeral range),
under a unique cluster name, with a flatfile that names only itself (no multicast discovery), a bounded heap
(``max_mem_size``, ``nthreads``), optional extensions such as XGBoost off unless listed in ``extensions``,
and its ice_root, logs and temporary files in one temporary folder. At the end of the run that folder is
removed once the JVM is gone.

The ``h2o`` client keeps one connection per process. A cluster it is already connected to (a notebook's, an
application's, a test fixture's) is used as it is and left running. What emberflow opened (the instance it
started, or its connection to a cluster given by url) is shared by the runs of this process that overlap, and
shut down (the instance) or closed (the connection) when the last of them ends.

On a cluster joined by url, a ``CloudWatch`` bounds how long a run can wait on a cloud that lost a node: H2O
cannot finish a job without every node of its cloud (its jobs wait for the lost one, and the client polls them
forever), so once the cloud has been unhealthy for ``cluster_timeout`` seconds, the run ends with one line.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from ..errors import EmberflowError, EngineUnavailable, UserError
from . import EngineSession

LOOPBACK = "127.0.0.1"
PORT_RANGE = (20000, 30000)  # below Linux's ephemeral range (32768-60999), so no client socket takes them
PORT_ATTEMPTS = 3
PROBE_SECONDS = 3.0
STOP_SECONDS = 20.0
OPTIONAL_EXTENSIONS = ("XGBoost",)  # H2O core extensions that emberflow turns off unless asked for
MEMORY = re.compile(r"^[1-9][0-9]*[MGTmgt]$")
DEFAULTS = {"max_mem_size": "2G", "nthreads": 2}
DEFAULT_CLUSTER_TIMEOUT = 180  # seconds; the workflow's h2o: cluster_timeout
WATCH_SECONDS = 1.0  # between two reads of a joined cloud's status
STATUS_SECONDS = 5.0  # the longest one read of that status may take
SILENT_SECONDS = 3.0  # a node whose last heartbeat is older than this has a problem (H2O sends one a second)
NOISE = ("cluster version is", "There may be a newer version", "download and install the latest version")


class LocalH2O:
    """An H2O JVM that emberflow launched: its connection, process handle and temporary folder."""

    def __init__(self, connection: Any, temp: Path):
        self.connection = connection
        self.server = connection.local_server
        self.process = getattr(self.server, "_process", None)  # the client's Popen of the JVM
        self.temp = temp
        atexit.register(self.shutdown)  # a process that ends without stopping its runs leaves nothing either

    def shutdown(self) -> None:
        """Close the connection, kill the JVM, wait until it is gone, remove the folder.

        The JVM is killed (SIGKILL) rather than asked to shut down: after H2O's own ``POST /3/Shutdown`` it
        takes about 2.4 s to exit, after SIGTERM 0.35 s (its shutdown hooks), after SIGKILL 0.02 s. Killing it
        loses nothing: every save, download and export emberflow asks of it has returned once its file was
        written; the frames and models in its memory belong to the run that ends; its ice_root, logs and
        ``java.io.tmpdir`` (where an extension unpacks native libraries) lie in the temporary folder removed here;
        and it starts no processes of its own. Waiting for the process to be reaped, then removing the folder,
        keeps the promise that no JVM and no file is left when the run returns.
        """
        atexit.unregister(self.shutdown)
        try:
            with contextlib.suppress(Exception):
                self.connection.close()
            if self.process is None:  # a client that does not expose its process: it terminates the JVM itself
                self.server.shutdown()
                return
            if self.process.poll() is None:
                self.process.kill()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                raise EngineUnavailable(f"the H2O JVM (process {self.process.pid}) did not exit within "
                                        f"{STOP_SECONDS:.0f} s of SIGKILL; end it by hand") from None
        finally:
            shutil.rmtree(self.temp, ignore_errors=True)


class CloudLost(EmberflowError):
    """The H2O cloud emberflow joined lost a node, or stopped answering: the run cannot finish on it."""


class CloudWatch:
    """Bounds the waits of the h2o client on a cloud emberflow joined.

    A thread reads the cloud's status (``GET /3/Cloud``) every ``WATCH_SECONDS``. Once the cloud has had a
    problem (a node silent or unhealthy, fewer nodes than at the start, no answer) for ``seconds``, the
    cloud is taken as lost, and every later request of the client raises ``CloudLost`` instead of being sent:
    a job's polling loop, which would otherwise wait forever for the lost node, ends at its next poll. A request
    already sent waits at most ``seconds`` for an answer (the connection's timeout). A request that fails while
    the cloud has a problem ends the run at once, with that problem as the reason.
    """

    def __init__(self, connection: Any, seconds: int):
        self.connection, self.seconds = connection, seconds
        self.url = connection.base_url
        self.size = 0  # the cloud's node count when joined
        self.lost: str | None = None  # why the cloud was given up, once it was
        self._send = connection.request
        self._timeout = connection.timeout_interval
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="h2o-cloud-watch", daemon=True)

    def start(self) -> None:
        """Check the cloud (refused if it already has a problem), then guard the connection and watch."""
        problem, self.size = self.status()
        if problem:
            raise EngineUnavailable(f"the H2O cloud at {self.url} is not usable: {problem}; restart the cloud, "
                                    "or leave out url to start a local H2O")
        self.connection.timeout_interval = self.seconds
        self.connection.request = self._guarded  # the client sends every REST call through this method
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STATUS_SECONDS + WATCH_SECONDS)

    def release(self) -> None:
        """Give the connection back its own request method and timeout."""
        vars(self.connection).pop("request", None)
        self.connection.timeout_interval = self._timeout

    def status(self) -> tuple[str | None, int]:
        """What is wrong with the cloud now (None: nothing), and its node count."""
        import requests

        wait = min(STATUS_SECONDS, self.seconds)
        args = {**self.connection._request_args(), "timeout": wait}  # the client's headers, auth, TLS, proxies
        try:
            response = requests.get(f"{self.url}/3/Cloud", **args)
            response.raise_for_status()
            cloud = response.json()
        except requests.ConnectionError:
            return "it refuses connections (its node at that url is down)", 0
        except requests.Timeout:
            return f"its status did not come within {wait:g} s", 0
        except Exception as exc:  # an HTTP error status, an answer that is not JSON
            return f"its status could not be read ({first_line(exc)})", 0
        return cloud_problem(cloud, self.size), int(cloud.get("cloud_size") or 0)

    def _watch(self) -> None:
        since = None
        while not self._stopped.wait(WATCH_SECONDS):
            problem, _ = self.status()
            now = time.monotonic()
            since = (since or now) if problem else None
            if problem and now - since >= self.seconds:
                self._give_up(f"{problem}, for {self.seconds} s")
                return

    def _give_up(self, problem: str) -> str:
        if self.lost is None:
            self.lost = (f"the H2O cloud at {self.url} failed: {problem}; H2O cannot finish work without every "
                         "node of its cloud, so the run was ended: restart the cloud and run again (h2o: "
                         f"cluster_timeout, {self.seconds} s, is how long a problem may last)")
        return self.lost

    def _guarded(self, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        from h2o.exceptions import H2OConnectionError, H2OResponseError, H2OServerError

        if self.lost:
            raise CloudLost(self.lost)
        try:
            return self._send(endpoint, *args, **kwargs)
        except (H2OConnectionError, H2OResponseError, H2OServerError) as exc:
            problem = self.lost or self.status()[0]
            if problem:
                raise CloudLost(self._give_up(problem)) from exc
            if isinstance(exc, H2OConnectionError) and str(exc).startswith("Timeout"):
                raise CloudLost(f"H2O at {self.url} did not answer {endpoint} within {self.seconds} s; set h2o: "
                                "cluster_timeout to wait longer") from exc
            raise


def cloud_problem(cloud: dict[str, Any], expected: int) -> str | None:
    """What is wrong with a cloud, from its ``/3/Cloud`` status; None when nothing is.

    A node sends a heartbeat every second, and each node's ``last_ping`` is when the answering node last heard
    from it (its own clock: compared with the freshest one, not with this machine's). H2O itself marks a silent
    node unhealthy only after about 60 s (measured), so a node silent for ``SILENT_SECONDS`` counts already."""
    nodes = cloud.get("nodes") or []
    pings = [node.get("last_ping") or 0 for node in nodes]
    latest = max(pings, default=0)
    silent = [(str(node.get("ip_port")), (latest - ping) / 1000) for node, ping in zip(nodes, pings, strict=True)
              if not node.get("healthy", True) or latest - ping > SILENT_SECONDS * 1000]
    if silent:
        return ", ".join(f"node {name} sent no heartbeat for {age:.0f} s" for name, age in silent)
    size = int(cloud.get("cloud_size") or 0)
    if size < expected:
        return f"it has {size} of its {expected} nodes"
    if cloud.get("cloud_healthy") is False:
        return "H2O reports it unhealthy"
    return None


def cluster_timeout(settings: dict[str, Any]) -> int:
    return int(settings.get("cluster_timeout") or DEFAULT_CLUSTER_TIMEOUT)


class JoinedCluster:
    """A connection emberflow opened to a cluster it did not start: watched while in use, closed at the end, the
    cluster left up, the frames and models the runs made there removed."""

    def __init__(self, connection: Any, seconds: int = DEFAULT_CLUSTER_TIMEOUT):
        self.connection = connection
        self.watch = CloudWatch(connection, seconds)
        try:
            self.watch.start()
        except BaseException:
            with contextlib.suppress(Exception):
                connection.close()
            raise
        self.preexisting = cluster_keys()  # never removed, whatever a (plugin) step returns

    def remove(self, keys: list[str]) -> None:
        import h2o

        for key in dict.fromkeys(keys):
            with contextlib.suppress(Exception):  # already removed, or the cluster is gone: nothing to free
                h2o.remove(key)

    def shutdown(self) -> None:
        """Close the connection (through the guard: on a lost cloud, without waiting on it) and stop watching."""
        self.watch.stop()
        with contextlib.suppress(Exception):
            self.connection.close()
        self.watch.release()


class _Opened:
    """What emberflow opened in this process (the H2O it launched, or its connection to an existing cluster),
    and how many runs use it now; the last one to stop closes it."""

    lock = threading.Lock()
    owner: LocalH2O | JoinedCluster | None = None
    users = 0


class Engine(EngineSession):
    name = "h2o"

    def __init__(self, settings: dict[str, Any]):
        super().__init__(settings)
        self._owner: LocalH2O | JoinedCluster | None = None  # what this engine uses of what emberflow opened
        self._made: list[str] = []  # keys of the frames and models the run's steps made on a joined cluster

    def start(self) -> Any:
        import h2o

        with _Opened.lock:
            url = self.settings.get("url")
            opened = _Opened.owner
            if opened is not None and is_up(opened.connection) and h2o.connection() is opened.connection and (
                    not url or same_url(url, opened.connection.base_url)):
                _Opened.users += 1
                self._owner = opened
            elif url:
                if connect_existing(url):
                    self._open(JoinedCluster(h2o.connection(), cluster_timeout(self.settings)))
            elif not is_up(h2o.connection()):
                self._open(launch_local(self.settings))
        h2o.no_progress()
        return h2o

    def _open(self, owner: LocalH2O | JoinedCluster) -> None:
        if _Opened.owner is not None:  # gone meanwhile (its JVM killed, say): clear what is left of it
            _Opened.owner.shutdown()
        _Opened.owner, _Opened.users = owner, 1
        self._owner = owner

    @property
    def launched(self) -> LocalH2O | None:
        """The H2O instance emberflow launched that this engine uses; None for a cluster it only joined."""
        return self._owner if isinstance(self._owner, LocalH2O) else None

    def produced(self, value: Any) -> None:
        """On a cluster emberflow joined (``url``), note the H2O frame or model a step returned: ``stop`` removes
        it, so that runs do not fill a shared cluster's memory. A launched H2O ends with the run anyway."""
        if isinstance(self._owner, JoinedCluster):
            key = h2o_key(value)
            if key is not None and key not in self._owner.preexisting:
                self._made.append(key)

    def stop(self) -> None:
        owner, self._owner = self._owner, None
        if owner is None:
            return  # a connection emberflow did not open stays as it is
        if isinstance(owner, JoinedCluster):
            owner.remove(self._made)
            self._made = []
        with _Opened.lock:
            if _Opened.owner is not owner:
                return
            _Opened.users -= 1
            if _Opened.users > 0:
                return
            _Opened.owner = None
        owner.shutdown()


def cluster_keys() -> frozenset[str]:
    """The keys of every frame and model on the cluster (``h2o.ls``, without its warning about converting its
    small answer to pandas in one thread)."""
    import warnings

    import h2o

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return frozenset(h2o.ls()["key"])


def h2o_key(value: Any) -> str | None:
    """The key of an H2O frame, or of the H2O model inside an emberflow Model (or bare); None for anything else."""
    import h2o
    from h2o.model import ModelBase

    if isinstance(value, h2o.H2OFrame):
        return value.frame_id
    model = getattr(value, "obj", value)
    return model.model_id if isinstance(model, ModelBase) else None


def same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def is_up(connection: Any) -> bool:
    """The connection is open and its cluster answers."""
    if connection is None or not connection.connected:
        return False
    try:
        return bool(connection.cluster.is_running())
    except Exception:
        return False


def connect_existing(url: str) -> bool:
    """Join the H2O cluster at ``url``; its version must be the client's. False when this process is already
    connected to it (through someone else's connection, used as it is)."""
    import h2o

    current = h2o.connection()
    if is_up(current):
        if same_url(current.base_url, url):
            return False
        raise EngineUnavailable(
            f"this process is already connected to H2O at {current.base_url}, and the h2o client holds one "
            f"connection per process; run the workflow in a new process to use {url}")
    probe(url)
    try:
        with quiet_stdout():
            h2o.connect(url=url, verbose=False)
    except Exception as exc:
        raise EngineUnavailable(f"cannot connect to the H2O cluster at {url}: {first_line(exc)}") from exc
    server, client = str(h2o.cluster().version), h2o.__version__
    if server != client:
        h2o.connection().close()
        raise EngineUnavailable(
            f"the H2O cluster at {url} runs H2O {server}, but the h2o client here is {client}; install the "
            f"matching client (pip install h2o=={server}) or leave out url to start a local H2O")
    return True


def probe(url: str) -> None:
    """Fail fast when nothing listens at ``url`` (the client would otherwise retry for a while)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        raise UserError(f"invalid H2O url {url!r}; expected http://host:port")
    port = parts.port or (443 if parts.scheme == "https" else 54321)
    try:
        with socket.create_connection((parts.hostname, port), timeout=PROBE_SECONDS):
            return
    except OSError as exc:
        raise EngineUnavailable(
            f"cannot reach the H2O cluster at {url} ({exc.strerror or exc}); start it, check the url "
            "(--h2o-url or h2o: url in the workflow), or leave out url to start a local H2O") from None


def launch_local(settings: dict[str, Any]) -> LocalH2O:
    """Start H2O from the package's jar, on loopback, with everything it writes in one temporary folder."""
    import h2o

    options = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    memory = check_memory(options["max_mem_size"])
    switches = extension_switches(options.get("extensions") or [])
    if options.get("port") and not (port_free(options["port"]) and port_free(options["port"] + 1)):
        raise EngineUnavailable(f"h2o: port {options['port']} or {options['port'] + 1} is in use on {LOOPBACK} (H2O "
                                "takes both); choose another port, or leave out port to get a free one")
    temp = Path(tempfile.mkdtemp(prefix=f"emberflow-h2o-{os.getpid()}-"))
    try:
        for attempt in range(1, PORT_ATTEMPTS + 1):
            port = options.get("port") or free_port_pair()
            try:
                start_jvm(port, memory, int(options["nthreads"]), switches, temp)
                return LocalH2O(h2o.connection(), temp)
            except (UserError, EngineUnavailable):
                raise
            except Exception as exc:  # a port taken in the meantime: try another one
                if options.get("port") or attempt == PORT_ATTEMPTS:
                    raise EngineUnavailable(f"H2O did not start: {first_line(exc)}") from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise


def start_jvm(port: int, memory: str, nthreads: int, switches: list[str], temp: Path) -> None:
    import h2o

    folders = {name: temp / name for name in ("ice", "logs", "tmp")}
    for folder in folders.values():
        folder.mkdir(exist_ok=True)
    flatfile = temp / "flatfile"
    flatfile.write_text(f"{LOOPBACK}:{port}\n", encoding="utf-8")
    java = [f"-Dai.h2o.flatfile={flatfile}", f"-Djava.io.tmpdir={folders['tmp']}", *switches]
    with launch_environment(folders["tmp"]), quiet_stdout():
        h2o.init(ip=LOOPBACK, port=port, name=f"emberflow-{os.getpid()}-{uuid.uuid4().hex[:8]}",
                 nthreads=nthreads, max_mem_size=memory, ice_root=str(folders["ice"]), log_dir=str(folders["logs"]),
                 enable_assertions=False, jvm_custom_args=java, bind_to_localhost=True, ignore_config=True,
                 verbose=False, as_port=True)


def check_memory(value: Any) -> str:
    text = str(value)
    if not MEMORY.match(text):
        raise UserError(f"h2o: max_mem_size must be a number followed by M, G or T (such as 2G), got {value!r}")
    return text.upper()


def extension_switches(requested: list[str]) -> list[str]:
    """JVM switches that turn off the optional extensions not in ``requested``."""
    known = {name.lower(): name for name in OPTIONAL_EXTENSIONS}
    wanted = set()
    for name in requested:
        if name.lower() not in known:
            raise UserError(f"h2o: unknown extension {name!r} in extensions; optional extensions: "
                            f"{', '.join(OPTIONAL_EXTENSIONS)}")
        wanted.add(known[name.lower()])
    return [f"-Dsys.ai.h2o.ext.core.toggle.{name}=false" for name in OPTIONAL_EXTENSIONS if name not in wanted]


def free_port_pair() -> int:
    """An even port P with P and P+1 free on loopback, picked at random in PORT_RANGE."""
    low, high = PORT_RANGE
    candidates = list(range(low, high, 2))
    random.shuffle(candidates)
    for port in candidates[:200]:
        if port_free(port) and port_free(port + 1):
            return port
    raise EngineUnavailable(f"no free pair of ports for H2O in {low}-{high}; set h2o: port in the workflow")


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def launch_environment(folder: Path):
    """While the client launches H2O: its stdout and stderr files go under ``folder`` (the client puts them in
    a new temporary folder), and the JVM inherits ``TMPDIR`` there and ``DO_NOT_TRACK=1``."""
    saved_dir = tempfile.tempdir
    saved_env = {key: os.environ.get(key) for key in ("TMPDIR", "DO_NOT_TRACK")}
    tempfile.tempdir = str(folder)
    os.environ.update(TMPDIR=str(folder), DO_NOT_TRACK="1")
    try:
        yield
    finally:
        tempfile.tempdir = saved_dir
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def quiet_stdout():
    """Swallow the client's banner lines (such as the age notice); pass any other line on to stderr."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        import sys

        for line in buffer.getvalue().splitlines():
            if line.strip() and not any(noise in line for noise in NOISE):
                print(line, file=sys.stderr)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ----- frames -----

def frame_to_pandas(frame: Any) -> Any:
    """An H2OFrame as a pandas DataFrame, through H2O's CSV download (no polars needed, no warning), read by Arrow
    with the frame's column types: categorical and text columns stay text (``08123``, ``NA``, ``True`` as
    written), an empty text stays empty (H2O quotes it) and a missing value is missing (an empty field).

    A missing value of a one-column frame is an empty line of that CSV, which must stay a row. H2O's time
    columns come as milliseconds since the epoch, in the cluster's time zone; they become pandas timestamps."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pcsv

    kinds = {"int": pa.int64(), "real": pa.float64(), "time": pa.float64(), "enum": pa.string(),
             "string": pa.string(), "uuid": pa.string()}
    types = {name: kinds[kind] for name, kind in frame.types.items() if kind in kinds}
    table = pcsv.read_csv(
        pa.py_buffer(frame.get_frame_data().encode("utf-8")),
        parse_options=pcsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pcsv.ConvertOptions(column_types=types, null_values=[""], strings_can_be_null=True,
                                            quoted_strings_can_be_null=False))
    data = table.to_pandas()
    times = [name for name, kind in frame.types.items() if kind == "time" and name in data.columns]
    if times:
        import h2o

        zone = h2o.rapids("(getTimeZone)")["string"]  # what H2O reads and writes times in; UTC unless set
        for name in times:
            stamps = pd.to_datetime(data[name], unit="ms", utc=True)
            data[name] = stamps.dt.tz_convert(zone).dt.tz_localize(None)
    return data


def pandas_to_frame(h2o: Any, frame: Any, column_types: dict[str, str] | None = None) -> Any:
    """A pandas DataFrame as an H2OFrame: written as Parquet to a private folder and uploaded, so that missing
    values stay missing, an empty text stays empty, text keeps its line breaks (H2O's CSV parser cuts a row at a
    line break in quotes past its first block) and numbers keep their type. A frame Arrow cannot write (a column
    of text and booleans mixed) goes as CSV."""
    folder = Path(tempfile.mkdtemp(prefix=f"emberflow-frame-{os.getpid()}-"))
    try:
        types = {**pandas_column_types(frame), **(column_types or {})}
        names = [str(c) for c in frame.columns]
        if write_parquet(frame, folder / "frame.parquet"):
            return h2o.upload_file(str(folder / "frame.parquet"), col_names=names, col_types=types or None)
        path = folder / "frame.csv"
        frame.to_csv(path, index=False, na_rep="")
        return h2o.upload_file(str(path), header=1, sep=",", col_names=names, col_types=types or None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_parquet(frame: Any, path: Path) -> bool:
    """Write ``frame`` as Parquet at ``path``, times in milliseconds (what H2O takes for a time column),
    categorical columns as their values and columns of nothing as text; False (nothing written) if Arrow cannot
    convert a column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        return False
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if pa.types.is_null(column.type):  # no values at all: text, which H2O lets be categorical
            column = column.cast(pa.string())
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.timestamp("ms", column.type.tz), safe=False)
        columns.append(column)
    pq.write_table(pa.table(columns, names=[str(name) for name in table.column_names]), path)
    return True


def pandas_column_types(frame: Any) -> dict[str, str]:
    """H2O column types for a pandas frame's columns: numbers stay numbers, text and booleans become categorical
    (enum) columns, which H2O's algorithms use; other columns (dates ...) are left to H2O's guess. Text holding
    U+FFFD is an H2O text (string) column: H2O's parser turns a category holding it into ``<0xEFBFBD>``, its
    sign for bytes that are not UTF-8."""
    import pandas as pd

    types = {}
    for name in frame.columns:
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or _holds_text(frame[name]):
            types[str(name)] = "string" if _holds_replacement(frame[name]) else "enum"
        elif pd.api.types.is_integer_dtype(dtype):
            types[str(name)] = "int"
        elif pd.api.types.is_float_dtype(dtype):
            types[str(name)] = "real"
    return types


def _holds_replacement(column: Any) -> bool:
    import pandas as pd

    if pd.api.types.is_bool_dtype(column.dtype):
        return False
    return bool(column.dropna().astype(str).str.contains("\ufffd", regex=False).any())


def _holds_text(column: Any) -> bool:
    """A text column, or an object column of text and booleans only (not one of dates, which H2O reads as times)."""
    import pandas as pd

    if not pd.api.types.is_object_dtype(column.dtype):
        return pd.api.types.is_string_dtype(column.dtype)
    return bool(column.dropna().map(lambda value: isinstance(value, str | bool)).all())
