"""H2O models served through their MOJO, with no H2O cluster: one JVM per served model, started when the model
is loaded and kept for the server's life, scoring each request's rows over its stdin and stdout.

Score's ``mode: mojo`` starts h2o-genmodel's PredictCsv, a JVM, for each call (0.3-0.5 s): fine for a batch,
useless for a request. Here the JVM runs the project's own ``MojoRows`` (``resources/MojoRows.java``, compiled
once with ``javac`` against the h2o package's jar into the user's cache folder, or run by Java's source launcher
when there is no ``javac``), which loads the MOJO once and reads and scores rows exactly as PredictCsv does. The
rows are prepared and written by the code Score's mojo mode uses (``h2o_rows.predict_mojo``,
``formats.h2o.mojo_csv``) and its answer read by the same ``mojo_result``, so the predictions are Score's.

One request at a time talks to the JVM (a lock; the server's Batcher already joins concurrent requests into one).
A JVM that died is started again at the next request; the JVM and its folder go when the model is dropped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import DataError, EmberflowError, EngineUnavailable

if TYPE_CHECKING:
    from ..model import Model
    from ..predictor import Prediction

SOURCE = Path(__file__).resolve().parent.parent / "resources" / "MojoRows.java"
MAIN = "MojoRows"
ANSWER_SECONDS = 120.0  # a JVM that has not answered a request by then is ended (and started again next time)


class MojoScorer:
    """A model's MOJO in a JVM of its own; ``predict(frame)`` gives the model's Prediction for raw rows."""

    def __init__(self, model: Model, mojo: Path, heap: str):
        self.model, self.mojo, self.heap = model, Path(mojo), heap
        self.answer_seconds = ANSWER_SECONDS
        self.lock = threading.Lock()
        self.folder = Path(tempfile.mkdtemp(prefix=f"emberflow-serve-mojo-{os.getpid()}-"))
        self.jvm = Jvm()  # held apart from the scorer, so that the finalizer does not keep the scorer alive
        self._stop = weakref.finalize(self, stop_jvm, self.jvm, self.folder)
        with self.lock:
            self._start()

    def predict(self, frame) -> Prediction:
        from ..h2o_rows import predict_mojo

        return predict_mojo(self.model, frame, self.probabilities)

    def probabilities(self, rows) -> Any:
        """The MOJO's answer for prepared rows, read as Score's mode: mojo reads PredictCsv's."""
        import io

        import pandas as pd

        from ..formats.h2o import mojo_csv, mojo_result

        request = f"{len(rows)}\n".encode() + mojo_csv(rows)
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self._start()
            status, body = self._exchange(request)
        if status != "OK":
            raise DataError(f"h2o-genmodel could not score the rows with the MOJO: {body}")
        return mojo_result(self.model, pd.read_csv(io.StringIO(body)), len(rows))

    def close(self) -> None:
        self._stop()

    @property
    def process(self) -> subprocess.Popen | None:
        return self.jvm.process

    def _start(self) -> None:
        command = [*java_launch(self.heap, self.folder), str(self.mojo.resolve())]
        env = {**os.environ, "DO_NOT_TRACK": "1", "TMPDIR": str(self.folder)}
        with open(self.folder / "jvm.log", "wb") as log:
            self.jvm.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                            cwd=self.folder, env=env)
        first = self.process.stdout.readline().decode("utf-8", "replace").split(" ", 1)
        if first[0] != "READY":
            status, body = self._answer(first)
            self.process.wait(timeout=10)
            raise EmberflowError(f"h2o-genmodel could not load the MOJO {self.mojo.name}: "
                                 f"{body or self._log_tail()}")

    def _exchange(self, request: bytes) -> tuple[str, str]:
        """Send a request and read its answer; a JVM that hangs is killed after ``answer_seconds``, so that
        this request fails with a clear error and the next one starts a new JVM instead of waiting forever."""
        process = self.process
        watchdog = threading.Timer(self.answer_seconds, process.kill)
        watchdog.start()
        try:
            try:
                process.stdin.write(request)
                process.stdin.flush()
            except (BrokenPipeError, OSError):
                pass  # told below, by the answer that does not come
            return self._answer(process.stdout.readline().decode("utf-8", "replace").split(" ", 1))
        except EmberflowError:
            if not watchdog.is_alive():
                raise EmberflowError(f"the JVM scoring the MOJO {self.mojo.name} did not answer within "
                                     f"{self.answer_seconds:g} s and was ended; the next request starts a new "
                                     "one") from None
            raise
        finally:
            watchdog.cancel()

    def _answer(self, first: list[str]) -> tuple[str, str]:
        if len(first) != 2 or first[0] not in ("OK", "ERROR"):
            code = self.process.poll()
            raise EmberflowError(f"the JVM scoring the MOJO {self.mojo.name} stopped (exit code {code}): "
                                 f"{self._log_tail()}")
        body = self.process.stdout.read(int(first[1]))
        return first[0], body.decode("utf-8", "replace")

    def _log_tail(self) -> str:
        try:
            lines = [line for line in (self.folder / "jvm.log").read_text(errors="replace").splitlines()
                     if line.strip()]
        except OSError:
            return "no output"
        return next((line for line in lines if "Exception" in line or "Error" in line), lines[-1] if lines else
                    "no output").strip()


class Jvm:
    process: subprocess.Popen | None = None


def stop_jvm(jvm: Jvm, folder: Path) -> None:
    """End the scorer's JVM (closing its stdin ends it; killed if it lingers) and remove its folder."""
    process = jvm.process
    if process is not None and process.poll() is None:
        try:
            process.stdin.close()
            process.wait(timeout=5)
        except Exception:
            process.kill()
            process.wait(timeout=5)
    shutil.rmtree(folder, ignore_errors=True)


def java_launch(heap: str, folder: Path) -> list[str]:
    """The command that runs ``MojoRows``: its compiled class when ``javac`` is there, else the source."""
    from ..formats.h2o import genmodel_jar, java_command

    java, jar = java_command(), str(genmodel_jar())
    options = [java, f"-Xmx{heap}", "-XX:ReservedCodeCacheSize=64m", f"-Djava.io.tmpdir={folder}"]
    classes = compiled_classes(java, jar)
    if classes is None:
        return [*options, "-cp", jar, str(SOURCE)]
    return [*options, "-cp", f"{classes}{os.pathsep}{jar}", MAIN]


def compiled_classes(java: str, jar: str) -> Path | None:
    """The folder of ``MojoRows.class``, compiled once per source and jar into the user's cache folder; None when
    there is no ``javac`` beside ``java`` or on PATH, or the cache folder cannot be written."""
    javac = Path(java).with_name("javac")
    javac_path = str(javac) if javac.is_file() else shutil.which("javac")
    if javac_path is None:
        return None
    stat = Path(jar).stat()
    key = hashlib.sha256(SOURCE.read_bytes() + f"{jar}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "emberflow" / "mojo-rows" / key[:16]
    if (cache / f"{MAIN}.class").is_file():
        return cache
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".compiling-", dir=cache.parent))
    except OSError:
        return None
    done = subprocess.run([javac_path, "-cp", jar, "-d", str(staging), str(SOURCE)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise EngineUnavailable(f"javac could not compile the MOJO scorer {SOURCE.name}: "
                                f"{(done.stderr or done.stdout).strip().splitlines()[:1]}")
    try:
        staging.rename(cache)
    except OSError:  # another server compiled it meanwhile
        shutil.rmtree(staging, ignore_errors=True)
    return cache
