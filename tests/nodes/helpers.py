"""Run one node, or a small workflow text, the way the runner does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emberflow.engine.runner import Reporter, run_workflow
from emberflow.engine.store import ModelStore
from emberflow.engine.workflow import parse_workflow


def run_text(text: str, store: Path, **overrides: Any):
    """Validate and run a workflow given as YAML text; return the RunResult."""
    workflow = parse_workflow(text, "test.yaml", overrides)
    return run_workflow(workflow, ModelStore(store), reporter=Reporter(None))
