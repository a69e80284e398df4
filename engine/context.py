"""What a running step sees: its engine, the lazily started sessions, the store, and the run's record."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from .engines import EngineSession, engine_class

if TYPE_CHECKING:  # annotations only: a node module importing StepContext does not load the store
    from .store import ModelStore, VersionRef
    from .workflow import Workflow


class Sessions:
    """Engine sessions of one run: each started on first use, all stopped by ``stop_all``."""

    def __init__(self, settings: dict[str, dict[str, Any]] | None = None, warn=None):
        self.settings = settings or {}
        self._open: dict[str, tuple[EngineSession, Any]] = {}
        self._on_stop: list[Callable[[], Any]] = []
        self.warn = warn or (lambda message: print(f"warning: {message}", file=sys.stderr))

    def get(self, engine: str) -> Any:
        """The handle of ``engine`` (a SparkSession, the h2o module ...), starting it if needed."""
        if engine == "sklearn":
            return None
        if engine not in self._open:
            session = engine_class(engine)(self.settings.get(engine, {}))
            session.warn = self.warn
            self._open[engine] = (session, session.start())
        return self._open[engine][1]

    def started(self) -> list[str]:
        return list(self._open)

    def produced(self, values: Iterable[Any]) -> None:
        """Tell every started engine what a step returned (see ``EngineSession.produced``)."""
        values = list(values)
        for session, _handle in self._open.values():
            for value in values:
                session.produced(value)

    def on_stop(self, release: Callable[[], Any]) -> None:
        """Call ``release`` when the run ends, before its sessions stop: for what a step keeps for the steps
        after it, such as a cached Spark frame."""
        self._on_stop.append(release)

    def stop_all(self) -> list[str]:
        """Stop every started session; return the problems met (stopping goes on past one that fails)."""
        problems = []
        for release in reversed(self._on_stop):
            try:
                release()
            except Exception as exc:  # releasing a cache must not hide the run's outcome either
                problems.append(f"releasing {getattr(release, '__qualname__', release)} failed: {exc}")
        self._on_stop.clear()
        for name, (session, _handle) in reversed(list(self._open.items())):
            try:
                session.stop()
            except Exception as exc:  # the run's own outcome matters more than a failed shutdown
                problems.append(f"stopping {name} failed: {exc}")
        self._open.clear()
        return problems


@dataclass
class RunState:
    run_id: str
    workflow: Workflow
    store: ModelStore
    sessions: Sessions
    out: TextIO = sys.stderr
    warnings: list[str] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    # step id: {frame output port: the columns later steps read of it}; empty: every column everywhere
    column_needs: dict[str, dict[str, frozenset[str] | None]] = field(default_factory=dict)


@dataclass
class StepContext:
    """Handed to ``Node.run``: the step's id and engine, and the run it belongs to."""

    step_id: str
    engine: str
    run: RunState

    @property
    def run_id(self) -> str:
        return self.run.run_id

    @property
    def store(self) -> ModelStore:
        return self.run.store

    @property
    def workflow(self) -> Workflow:
        return self.run.workflow

    @property
    def sessions(self) -> Sessions:
        return self.run.sessions

    def session(self, engine: str | None = None) -> Any:
        return self.run.sessions.get(engine or self.engine)

    def columns_needed(self, port: str | None = None) -> frozenset[str] | None:
        """The columns later steps read of this step's output ``port`` (default: its first): a reader may leave
        the others out. None: every column."""
        needs = self.run.column_needs.get(self.step_id, {})
        return needs.get(port) if port else next(iter(needs.values()), None)

    def warn(self, message: str) -> None:
        self.run.warnings.append(f"{self.step_id}: {message}")
        self.run.sessions.warn(f"{self.step_id}: {message}")

    def note(self, message: str) -> None:
        """Say how the step ran where it matters to the user but is no problem (H2O's SQL ran through pandas):
        shown at the end of the step's progress line and kept in the run record."""
        self.run.notes.setdefault(self.step_id, []).append(message)

    def record_metrics(self, metrics: dict[str, Any]) -> None:
        self.run.metrics.setdefault(self.step_id, {}).update(metrics)

    def record_model(self, ref: VersionRef, manifest: dict[str, Any]) -> None:
        self.run.models.append({
            "step": self.step_id, "name": ref.name, "version": ref.version, "path": str(ref.path),
            "format": manifest.get("format"),
        })
