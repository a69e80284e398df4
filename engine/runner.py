"""Runs a validated Workflow: steps in dependency order, sessions started lazily and always stopped, a run
record written to the store whatever the outcome."""

from __future__ import annotations

import platform
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from .batches import FrameBatches
from .column_needs import column_needs
from .context import RunState, Sessions, StepContext
from .errors import EmberflowError, RunCancelled, StepFailed, UserError, WriteFailed, write_failure
from .frames import row_count, to_engine
from .render import printable
from .store import ModelStore
from .workflow import Step, Workflow


@dataclass
class RunResult:
    record: dict[str, Any]
    error: EmberflowError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def exit_code(self) -> int:
        return 0 if self.error is None else self.error.exit_code


_SAME = object()  # Reporter's warnings go where its progress goes


class Reporter:
    """Progress on a stream, one line per step; silent when ``stream`` is None.

    ``warnings`` is where warnings go, by default ``stream``: ``run --json`` shows no progress (stdout holds only
    the record) but still shows warnings on stderr.
    """

    # True for a reporter that shows the steps' frames (``--events`` previews): then every step reads every
    # column, so that a read step's preview shows the whole file, not just the columns later steps use.
    shows_frames = False

    def __init__(self, stream: TextIO | None = sys.stderr, warnings: TextIO | None | object = _SAME):
        self.stream = stream
        self.warnings = stream if warnings is _SAME else warnings

    def _print(self, text: str, end: str = "\n", stream: TextIO | None | object = _SAME) -> None:
        stream = self.stream if stream is _SAME else stream
        if stream is not None:  # a warning may quote a data file's text: no terminal escapes from it
            print(printable(text), end=end, file=stream, flush=True)

    def step_started(self, number: int, total: int, step: Step) -> None:
        self._print(f"[{number}/{total}] {step.id} ({step.node}, {step.engine}) ...", end=" ")

    def step_finished(self, info: dict[str, Any]) -> None:
        rows = f", {info['rows']:,} rows" if info.get("rows") is not None else ""
        notes = "".join(f" ({note})" for note in info.get("notes", ()))
        self._print(f"done in {info['seconds']:.2f}s{rows}{notes}")

    def step_failed(self, info: dict[str, Any]) -> None:
        self._print(f"FAILED after {info['seconds']:.2f}s")

    def warning(self, message: str) -> None:
        self._print(f"warning: {message}", stream=self.warnings)

    def step_outputs(self, step: Step, produced: dict[str, Any], state: RunState) -> None:
        """What a finished step produced, before ``step_finished``: a hook for ``--events`` (frame previews)."""

    def run_finished(self, record: dict[str, Any]) -> None:
        """The run's record once written (or not: its ``status`` is final either way)."""


def new_run_id() -> str:
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:8]}"


def run_workflow(
    workflow: Workflow,
    store: ModelStore,
    *,
    settings: dict[str, dict[str, Any]] | None = None,
    reporter: Reporter | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Run every step of ``workflow``; return the run record and the error that ended it, if any.

    ``settings`` holds each engine's session settings (the workflow's ``spark:``/``h2o:`` sections merged
    with the command line's). The record is written under the store's ``runs/`` in every case.
    """
    reporter = reporter or Reporter()
    merged = {"spark": dict(workflow.spark), "h2o": dict(workflow.h2o)}
    for engine, values in (settings or {}).items():
        merged.setdefault(engine, {}).update({k: v for k, v in values.items() if v is not None})
    sessions = Sessions(merged, warn=reporter.warning)
    state = RunState(run_id=run_id or new_run_id(), workflow=workflow, store=store, sessions=sessions,
                     column_needs={} if reporter.shows_frames else column_needs(workflow))
    started = datetime.now(UTC)
    clock = time.perf_counter()
    steps: list[dict[str, Any]] = []
    error: EmberflowError | None = None
    try:
        error = _run_steps(workflow, state, reporter, steps)
    finally:
        engines_started = sessions.started()
        for problem in sessions.stop_all():
            state.warnings.append(problem)
            reporter.warning(problem)
    record = _record(workflow, state, steps, error, started, time.perf_counter() - clock)
    record["engines"] = engines_started
    result = RunResult(record, _write_record(store, record, error))
    reporter.run_finished(record)
    return result


def _write_record(store: ModelStore, record: dict[str, Any], error: EmberflowError | None) -> EmberflowError | None:
    """Write the run record; return the error the run ends with. When the record cannot be written (a full
    disk), a failed step's error stays the run's, with a note saying so; after a successful run the failed
    write is the error."""
    try:
        store.write_run(record)
        return error
    except (OSError, EmberflowError) as exc:
        problem = exc if isinstance(exc, EmberflowError) else (
            write_failure(exc, store.runs_dir / f"{record['run_id']}.json") or EmberflowError(str(exc)))
        if error is not None:
            error.add_note(f"the run record could not be written either: {problem}")
            return error
        failure = (WriteFailed if problem.exit_code == 2 else EmberflowError)(
            f"the run finished, but its record could not be written: {problem}")
        failure.__cause__ = exc
        return failure


class CancelRequested(BaseException):
    """Raised in the main thread by ``cancel_on_sigterm``'s handler. A BaseException, like KeyboardInterrupt, so
    that a library's ``except Exception`` around a blocking call (py4j's, say) does not swallow it."""


_cancel_requested = threading.Event()


def cancel_on_sigterm():
    """A context in which SIGTERM cancels the run: the running step is interrupted, the sessions (and their
    JVMs) are stopped and the record says ``cancelled``. Should the interruption be swallowed all the same, the
    run stops before its next step. A second SIGTERM is ignored while that happens; the previous handler comes
    back afterwards. Only the main thread can set handlers: elsewhere this does nothing."""
    import contextlib
    import signal

    if threading.current_thread() is not threading.main_thread():
        return contextlib.nullcontext()

    def cancel(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _cancel_requested.set()
        raise CancelRequested

    @contextlib.contextmanager
    def handled():
        _cancel_requested.clear()
        previous = signal.signal(signal.SIGTERM, cancel)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)
            _cancel_requested.clear()

    return handled()


def _run_steps(workflow: Workflow, state: RunState, reporter: Reporter, steps: list[dict[str, Any]]):
    ordered = workflow.ordered_steps()
    try:
        return _run_each(ordered, state, reporter, steps)
    except CancelRequested:
        running = [info for info in steps if info["status"] == "running"]
        for info in running:
            info.update(status="cancelled", error="RunCancelled: the run was cancelled")
            reporter.step_failed({"seconds": 0.0, **info})
        done = {info["id"] for info in steps}
        steps += [_step_info(s, "skipped") for s in ordered if s.id not in done]
        cancelled = RunCancelled("the run was cancelled")
        cancelled.step_id = running[0]["id"] if running else None
        return cancelled


def _step_info(step: Step, status: str) -> dict[str, Any]:
    """A step's entry in the run record (``steps``), as it starts or is skipped."""
    return {"id": step.id, "node": step.node, "engine": step.engine, "status": status}


def _run_each(ordered: list[Step], state: RunState, reporter: Reporter, steps: list[dict[str, Any]]):
    outputs: dict[str, dict[str, Any]] = {}
    for number, step in enumerate(ordered, 1):
        if _cancel_requested.is_set():
            raise CancelRequested
        reporter.step_started(number, len(ordered), step)
        info = _step_info(step, "running")
        steps.append(info)
        clock = time.perf_counter()
        try:
            outputs[step.id] = _run_step(step, state, outputs)
            state.sessions.produced(outputs[step.id].values())
        except Exception as exc:  # any failure ends the run; it is recorded, not re-raised
            cancelled = isinstance(exc, RunCancelled) or _cancel_requested.is_set()
            info.update(status="cancelled" if cancelled else "failed", seconds=round(time.perf_counter() - clock, 4),
                        error=f"{type(exc).__name__}: {exc}")
            reporter.step_failed(info)
            for later in ordered[number:]:
                steps.append(_step_info(later, "skipped"))
            if cancelled and not isinstance(exc, RunCancelled):  # the interruption turned into another error
                exc = RunCancelled("the run was cancelled")
            if isinstance(exc, (UserError, RunCancelled)):
                exc.step_id = step.id
                return exc
            failure = StepFailed(step.id, exc)
            failure.__cause__ = exc
            return failure
        info.update(status="ok", seconds=round(time.perf_counter() - clock, 4),
                    rows=_rows(outputs[step.id], step))
        reporter.step_outputs(step, outputs[step.id], state)
        if step.id in state.metrics:
            info["metrics"] = state.metrics[step.id]
        if step.id in state.notes:
            info["notes"] = state.notes[step.id]
        reporter.step_finished(info)
    return None


def _run_step(step: Step, state: RunState, outputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    inputs = {}
    for port, ref in step.inputs.items():
        produced = outputs[ref.step]
        value = produced[ref.port] if ref.port else next(iter(produced.values()))
        if isinstance(value, FrameBatches):
            _check_takes_batches(step, ref.step)
        inputs[port] = to_engine(value, step.engine, state.sessions, arrow=step.node_class.takes_arrow)
    node = step.node_class()
    ctx = StepContext(step_id=step.id, engine=step.engine, run=state)
    result = node.run(ctx, inputs, dict(step.params))
    outputs = step.node_class.outputs
    if isinstance(result, dict) and result and set(result) <= set(outputs):
        return result
    return {step.node_class.default_output(): result} if outputs else {}


def _check_takes_batches(step: Step, producer: str) -> None:
    """Batches (ReadCSV's batch_rows) go only to nodes that work batch by batch, on the sklearn engine."""
    if step.engine == "sklearn" and step.node_class.takes_batches:
        return
    where = f"on engine {step.engine}" if step.node_class.takes_batches else "at once"
    raise UserError(f"{step.node} needs all its rows {where}, but step '{producer}' passes them in batches "
                    f"(ReadCSV batch_rows); remove batch_rows, or use batches only for Score and WriteCSV on "
                    f"the sklearn engine")


def _rows(result: dict[str, Any], step: Step) -> int | None:
    port = step.node_class.default_output()
    return row_count(result.get(port)) if port in result else None


def _record(workflow: Workflow, state: RunState, steps: list[dict[str, Any]], error: EmberflowError | None,
            started: datetime, seconds: float) -> dict[str, Any]:
    record: dict[str, Any] = {
        "run_id": state.run_id,
        "status": "ok" if error is None else "cancelled" if isinstance(error, RunCancelled) else "failed",
        "workflow": {"name": workflow.name, "path": workflow.path, "sha256": workflow.sha256},
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(seconds, 4),
        "python": platform.python_version(),
        "vars": workflow.vars,
        "steps": steps,
        "metrics": state.metrics,
        "models": state.models,
        "warnings": state.warnings,
        "edges": [{"from": ref.step, "to": s.id, "port": port} for s in workflow.steps
                  for port, ref in s.inputs.items()],
    }
    if error is not None:
        record["error"] = {"step": getattr(error, "step_id", None), "type": type(error).__name__,
                           "message": str(error)}
    record["text"] = workflow.text
    return record
