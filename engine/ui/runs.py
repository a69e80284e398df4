"""Runs started from the editor: each one is ``emberflow run FILE --events ...`` in a process of its own (the UI
server never starts Spark or H2O itself), at most ``max_running`` at a time and ``max_queued`` waiting; beyond
that a new run is refused (HTTP 429). The child writes its events as JSON lines (engine/events.py) which the
server streams to the page; Cancel sends the child SIGTERM (it stops its sessions and records ``cancelled``),
then kills its process group if it has not ended within ``grace`` seconds. The records land in the store like
any CLI run's."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict, deque
from pathlib import Path
from typing import Any

from ..runner import new_run_id

KEPT_RUNS = 100
HEARTBEAT = 15.0  # seconds
FINAL = ("succeeded", "failed", "cancelled")


class QueueFull(Exception):
    pass


class EditorRun:
    def __init__(self, run_id: str, path: Path, steps: list[str], folder: Path):
        self.run_id, self.path, self.steps, self.folder = run_id, path, steps, folder
        self.status = "queued"
        self.process: subprocess.Popen | None = None
        self.final: dict[str, Any] | None = None  # the closing run event once the process has ended
        self.cancelled = False

    @property
    def events_file(self) -> Path:
        return self.folder / "events.jsonl"


class RunQueue:
    def __init__(self, store_root: Path, max_running: int = 2, max_queued: int = 8, grace: float = 20.0,
                 cwd: Path | None = None):
        self.store_root = Path(store_root).resolve()
        self.cwd = cwd or Path.cwd()  # where the runs run: relative paths in workflows start there
        self.max_running, self.max_queued, self.grace = max_running, max_queued, grace
        self._base: Path | None = None  # made at the first run, removed by shutdown
        self.runs: OrderedDict[str, EditorRun] = OrderedDict()
        self.waiting: deque[EditorRun] = deque()
        self.lock = threading.Lock()

    def submit(self, path: Path, steps: list[str]) -> EditorRun:
        with self.lock:
            if len(self.waiting) >= self.max_queued and self._running() >= self.max_running:
                raise QueueFull(f"{self.max_running} runs are running and {self.max_queued} waiting; try later")
            run_id = new_run_id()
            if self._base is None:
                self._base = Path(tempfile.mkdtemp(prefix="emberflow-editor-runs-"))
            run = EditorRun(run_id, path, steps, self._base / run_id)
            run.folder.mkdir()
            self.runs[run_id] = run
            while len(self.runs) > KEPT_RUNS:
                self.runs.popitem(last=False)
            self.waiting.append(run)
            self._dispatch()
        return run

    @property
    def base(self) -> Path | None:
        """The folder of the runs' events and previews (None before the first run)."""
        return self._base

    def get(self, run_id: str) -> EditorRun | None:
        return self.runs.get(run_id)

    def _running(self) -> int:
        return sum(1 for r in self.runs.values() if r.status == "running")

    def _dispatch(self) -> None:  # under self.lock
        while self.waiting and self._running() < self.max_running:
            self._start(self.waiting.popleft())

    def command(self, run: EditorRun) -> list[str]:
        return [sys.executable, "-m", "emberflow.engine.cli", "run", str(run.path), "--store", str(self.store_root),
                "--events", str(run.events_file), "--run-id", run.run_id, "--quiet"]

    def _start(self, run: EditorRun) -> None:
        log = open(run.folder / "stderr.txt", "wb")  # noqa: SIM115 - handed to the child
        try:  # in a process group of its own, which Cancel kills with whatever the run left (a JVM)
            run.process = subprocess.Popen(self.command(run), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                           cwd=self.cwd, start_new_session=True)
        except OSError as exc:
            run.status, run.final = "failed", {"type": "run", "status": "failed", "error": f"cannot start: {exc}"}
            return
        finally:
            log.close()
        run.status = "running"
        threading.Thread(target=self._wait, args=(run,), daemon=True).start()

    def _wait(self, run: EditorRun) -> None:
        code = run.process.wait()
        _kill_group(run.process.pid, signal.SIGKILL)  # whatever the run left behind (a JVM)
        with self.lock:
            run.final = self._final_event(run, code)
            run.status = run.final["status"]
            self._dispatch()

    def _final_event(self, run: EditorRun, code: int) -> dict[str, Any]:
        written = [e for e in read_events(run.events_file, 0)[0] if e.get("type") == "run"]
        if written:
            return written[-1]
        if run.cancelled:
            return {"type": "run", "status": "cancelled", "error": "cancelled (the process was killed)"}
        tail = (run.folder / "stderr.txt").read_text(errors="replace").strip().splitlines()
        return {"type": "run", "status": "failed", "error": tail[-1] if tail else f"exit code {code}"}

    def cancel(self, run_id: str) -> EditorRun | None:
        with self.lock:
            run = self.runs.get(run_id)
            if run is None or run.status in FINAL:
                return run
            run.cancelled = True
            if run in self.waiting:
                self.waiting.remove(run)
                run.status, run.final = "cancelled", {"type": "run", "status": "cancelled", "error": None}
                return run
        if run.process is not None and run.process.poll() is None:
            run.process.send_signal(signal.SIGTERM)
            timer = threading.Timer(self.grace, _kill_group, (run.process.pid, signal.SIGKILL))
            timer.daemon = True  # the server's exit does not wait for it
            timer.start()
        return run

    def shutdown(self) -> None:
        """Cancel what is queued or running, give the runs ``grace`` seconds to record it, kill what is left and
        remove the events and previews (the records stay in the store)."""
        live = [run for run in list(self.runs.values()) if run.status in ("queued", "running")]
        for run in live:
            self.cancel(run.run_id)
        deadline = time.monotonic() + self.grace
        for run in live:
            if run.process is not None:
                try:
                    run.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    _kill_group(run.process.pid, signal.SIGKILL)
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def read_events(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The whole JSON lines of ``path`` from byte ``offset``, and the offset after them."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
    except FileNotFoundError:
        return [], offset
    complete = chunk[: chunk.rfind(b"\n") + 1]
    events = []
    for line in complete.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events, offset + len(complete)


async def follow(run: EditorRun, poll: float = 0.2):
    """The run's events for the page: queued steps first, then the child's events as they come (preview paths
    made URLs), ending with the run's final event; None every ``HEARTBEAT`` seconds without one."""
    import asyncio

    yield {"type": "run", "run_id": run.run_id, "status": "queued" if run.status == "queued" else "running",
           "error": None}
    for step in run.steps:
        yield {"type": "step", "step": step, "status": "queued"}
    offset, finished, announced, idle = 0, False, run.status != "queued", 0
    while True:
        done = run.final is not None
        if not announced and run.status != "queued":
            announced = True
            yield {"type": "run", "run_id": run.run_id, "status": "running", "error": None}
        events, offset = read_events(run.events_file, offset)
        for event in events:
            finished = finished or event.get("type") == "run"
            yield _with_urls(run.run_id, event)
        if finished:
            return
        if done:
            yield run.final
            return
        idle = 0 if events else idle + 1
        if idle * poll >= HEARTBEAT:  # a comment line now and then keeps proxies from closing a quiet stream
            idle = 0
            yield None
        await asyncio.sleep(poll)


def _with_urls(run_id: str, event: dict[str, Any]) -> dict[str, Any]:
    for port, output in (event.get("outputs") or {}).items():
        if output.get("kind") == "frame":
            output["preview"] = f"/api/editor/runs/{run_id}/preview/{event['step']}/{port}"
        elif output.get("kind") == "model":
            output["url"] = f"/models/{output['name']}/versions/{output['version']}"
    return event
