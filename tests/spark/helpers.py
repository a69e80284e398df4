"""Running workflows and single nodes on Spark the way the runner does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emberflow.engine.context import RunState, Sessions, StepContext
from emberflow.engine.params import resolve_params
from emberflow.engine.runner import Reporter, run_workflow
from emberflow.engine.store import ModelStore
from emberflow.engine.workflow import parse_workflow


def run_text(text: str, store: Path, settings: dict | None = None, **overrides: Any):
    """Validate and run a workflow given as YAML text, in this process; return the RunResult."""
    workflow = parse_workflow(text, "test.yaml", overrides)
    return run_workflow(workflow, ModelStore(store), settings=settings, reporter=Reporter(None))


class NodeRunner:
    """Runs one node on Spark with a real step context (joining the test session)."""

    def __init__(self, store: Path):
        self.state = RunState(run_id="test", workflow=None, store=ModelStore(store), sessions=Sessions())
        self.ctx = StepContext(step_id="step", engine="spark", run=self.state)

    def __call__(self, node_class, inputs: dict[str, Any] | None = None, **given: Any):
        params = resolve_params(node_class.params, given, "spark", node_class.node_name())
        node_class.check_params(params, "spark")
        return node_class().run(self.ctx, inputs or {}, params)

    @property
    def metrics(self) -> dict[str, Any]:
        return self.state.metrics.get("step", {})

    @property
    def warnings(self) -> list[str]:
        return self.state.warnings

    def close(self) -> None:
        self.state.sessions.stop_all()


def write_three_classes(path: Path, rows: int = 150, seed: int = 0) -> Path:
    """A small CSV of three numeric features and a text label of three classes that they separate roughly."""
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = rng.choice(["setosa", "versicolor", "virginica"], size=rows)
    centre = {"setosa": 0.0, "versicolor": 1.5, "virginica": 3.0}
    lines = ["x1,x2,x3,species"]
    for label in labels:
        x = rng.normal(centre[label], 1.0, size=3)
        lines.append(f"{x[0]:.4f},{x[1]:.4f},{x[2]:.4f},{label}")
    path.write_text("\n".join(lines) + "\n")
    return path
