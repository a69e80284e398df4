"""Run a workflow in this fresh process, then report as JSON what a failure left: the run record, and the
Java processes this process still has as children once the run has returned (waiting up to a minute for them
to exit): ``python run_and_report.py WORKFLOW STORE``."""

from __future__ import annotations

import json
import sys
import time

import psutil
from emberflow.engine.runner import Reporter, run_workflow
from emberflow.engine.store import ModelStore
from emberflow.engine.workflow import load_workflow


def java_children() -> list[int]:
    children = psutil.Process().children(recursive=True)
    return [c.pid for c in children if c.is_running() and "java" in c.name().lower()]


def main(workflow_path: str, store_root: str) -> None:
    result = run_workflow(load_workflow(workflow_path), ModelStore(store_root), reporter=Reporter(None))
    deadline = time.monotonic() + 60
    while java_children() and time.monotonic() < deadline:
        time.sleep(0.2)
    print(json.dumps({"record": {k: v for k, v in result.record.items() if k != "text"},
                      "java_children": java_children()}, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
