"""Run one node on H2O the way the runner does, with the test session's H2O running."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from emberflow.engine.context import RunState, Sessions, StepContext
from emberflow.engine.params import resolve_params


@contextlib.contextmanager
def node_runner() -> Iterator[Any]:
    """``run(ReadCSV, path=...)`` runs a node's ``run_h2o`` with its parameters resolved and checked; the sessions
    it opens (joining the test's H2O) are closed at the end."""
    sessions = Sessions()
    state = RunState(run_id="test", workflow=None, store=None, sessions=sessions)

    def run(node_class, inputs: dict[str, Any] | None = None, **params: Any) -> Any:
        resolved = resolve_params(node_class.params, params, "h2o", node_class.node_name())
        node_class.check_params(resolved, "h2o")
        return node_class().run_h2o(StepContext(step_id="step", engine="h2o", run=state), inputs or {}, resolved)

    try:
        yield run
    finally:
        assert sessions.stop_all() == []
