"""Cancelling editor runs and their queue: SIGTERM makes the child stop and record ``cancelled``; at most
``max_running`` runs at a time and ``max_queued`` waiting, 429 beyond."""

from __future__ import annotations

import contextlib
import json
import sys
import textwrap
import time
from pathlib import Path

import pytest
from emberflow.engine.node import Node

ORIGIN = {"Origin": "http://testserver"}
SLOW_NODE = '''
import time
from pathlib import Path
from emberflow.engine.api import FRAME, Node, Param


class Wait(Node):
    """Write a marker file, then wait (long enough to be cancelled)."""

    outputs = {"data": FRAME}
    params = (Param("marker", "string"), Param("seconds", "number", 60))

    def run(self, ctx, inputs, params):
        Path(params["marker"]).write_text("started")
        time.sleep(params["seconds"])
        import pandas
        return pandas.DataFrame({"a": [1]})
'''
LAUNCHER = '''
import sys
sys.path.insert(0, {folder!r})
from slow_node import Wait
from emberflow.engine.registry import default_registry
from emberflow.engine.cli import main
default_registry().register(Wait)
sys.exit(main(sys.argv[1:]))
'''


@pytest.fixture()
def slow(tmp_path: Path, monkeypatch):
    """A Wait node, registered here and in the runs' processes (through a launcher script)."""
    from emberflow.engine.registry import default_registry
    from emberflow.engine.ui import runs

    code = tmp_path / "code"
    code.mkdir()
    (code / "slow_node.py").write_text(SLOW_NODE)
    (code / "launcher.py").write_text(LAUNCHER.format(folder=str(code)))
    namespace: dict = {}
    exec(compile(SLOW_NODE, "slow_node", "exec"), namespace)
    monkeypatch.setitem(default_registry()._loaded, "Wait", namespace["Wait"])
    real = runs.RunQueue.command
    monkeypatch.setattr(runs.RunQueue, "command",
                        lambda self, run: [sys.executable, str(code / "launcher.py"), *real(self, run)[3:]])
    flows = tmp_path / "flows"
    flows.mkdir()
    for name in ("a", "b", "c"):
        (flows / f"{name}.yaml").write_text(textwrap.dedent(f"""\
            name: wait-{name}
            steps:
              - {{id: wait, node: Wait, params: {{marker: "{tmp_path / name}.started"}}}}
              - {{id: after, node: Limit, inputs: {{data: wait}}, params: {{rows: 1}}}}
            """))
    (flows / "short.yaml").write_text(textwrap.dedent(f"""\
        name: wait-short
        steps:
          - {{id: wait, node: Wait, params: {{marker: "{tmp_path / 'short'}.started", seconds: 1.5}}}}
        """))
    return tmp_path


def app_client(root: Path, **options):
    from emberflow.engine.ui.app import create_app
    from fastapi.testclient import TestClient

    return TestClient(create_app(root / "models", [root / "flows"], editor=True, **options))


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_cancel_stops_the_run_and_its_record_says_cancelled(slow: Path):
    with app_client(slow) as client:
        run_id = client.post("/api/editor/runs", json={"path": "flows/a.yaml"}, headers=ORIGIN).json()["run_id"]
        wait_for(slow / "a.started")
        assert client.post(f"/api/editor/runs/{run_id}/cancel", headers=ORIGIN).status_code == 202
        with client.stream("GET", f"/api/editor/runs/{run_id}/events") as stream:
            events = [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]
        assert events[-1]["type"] == "run" and events[-1]["status"] == "cancelled"
        assert {e["step"]: e["status"] for e in events if e["type"] == "step"}["after"] == "skipped"
        record = client.get(f"/api/runs/{run_id}").json()
        assert record["status"] == "cancelled"
        assert [s["status"] for s in record["steps"]] == ["cancelled", "skipped"]


def test_runs_beyond_the_queue_are_refused_and_a_queued_run_can_be_cancelled(slow: Path):
    with app_client(slow, max_running=1, max_queued=1) as client:
        first = client.post("/api/editor/runs", json={"path": "flows/a.yaml"}, headers=ORIGIN).json()["run_id"]
        second = client.post("/api/editor/runs", json={"path": "flows/b.yaml"}, headers=ORIGIN).json()["run_id"]
        third = client.post("/api/editor/runs", json={"path": "flows/c.yaml"}, headers=ORIGIN)
        assert third.status_code == 429 and "waiting" in third.json()["error"]
        assert client.post(f"/api/editor/runs/{second}/cancel", headers=ORIGIN).json()["status"] == "cancelled"
        assert not (slow / "b.started").exists()
        wait_for(slow / "a.started")
        client.post(f"/api/editor/runs/{first}/cancel", headers=ORIGIN)
        with client.stream("GET", f"/api/editor/runs/{first}/events") as stream:
            assert '"cancelled"' in [line for line in stream.iter_lines() if line.startswith("data:")][-1]


def test_closing_the_server_cancels_its_runs_and_removes_their_events(slow: Path):
    with app_client(slow) as client:
        run_id = client.post("/api/editor/runs", json={"path": "flows/a.yaml"}, headers=ORIGIN).json()["run_id"]
        wait_for(slow / "a.started")
        folder = client.app.state.runs.base
        assert (folder / run_id / "events.jsonl").is_file()
    assert not folder.exists()
    from emberflow.engine.store import ModelStore

    assert ModelStore(slow / "models").read_run(run_id)["status"] == "cancelled"


def test_a_run_cancelled_in_process_writes_its_record_with_status_cancelled(tmp_path: Path):
    from emberflow.engine.errors import RunCancelled
    from emberflow.engine.registry import Registry
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    class Cancelled(Node):
        outputs = {"data": "frame"}

        def run(self, ctx, inputs, params):
            raise RunCancelled("the run was cancelled")

    registry = Registry()
    registry.register(Cancelled)
    workflow = parse_workflow("steps:\n  - {id: a, node: Cancelled}\n", registry=registry)
    result = run_workflow(workflow, ModelStore(tmp_path), reporter=Reporter(None))
    assert result.record["status"] == "cancelled" and isinstance(result.error, RunCancelled)
    assert ModelStore(tmp_path).read_run(result.record["run_id"])["steps"][0]["status"] == "cancelled"


@pytest.mark.parametrize("swallowed", [Exception, BaseException])
def test_sigterm_cancels_a_step_that_swallows_errors_and_no_later_step_runs(tmp_path: Path, swallowed):
    """A library's ``except Exception`` around a blocking call (py4j's) does not keep the run going; a step that
    swallows even BaseException finishes, and the run stops before the next step."""
    import os
    import signal
    import threading

    from emberflow.engine.registry import Registry
    from emberflow.engine.runner import Reporter, cancel_on_sigterm, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    ran = []

    class Stubborn(Node):
        outputs = {"data": "frame"}

        def run(self, ctx, inputs, params):
            ran.append(ctx.step_id)
            if ctx.step_id == "first":
                threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
                with contextlib.suppress(swallowed):
                    time.sleep(30)
            return None

    registry = Registry()
    registry.register(Stubborn)
    workflow = parse_workflow("steps:\n  - {id: first, node: Stubborn}\n  - {id: second, node: Stubborn}\n",
                              registry=registry)
    before = signal.getsignal(signal.SIGTERM)
    with cancel_on_sigterm():
        result = run_workflow(workflow, ModelStore(tmp_path), reporter=Reporter(None))
    assert signal.getsignal(signal.SIGTERM) is before
    assert ran == ["first"]
    assert result.record["status"] == "cancelled"
    first = "cancelled" if swallowed is Exception else "ok"
    assert [s["status"] for s in result.record["steps"]] == [first, "skipped"]


def test_a_quiet_stream_gets_keep_alive_comments_and_ends_with_the_run(slow: Path, monkeypatch):
    from emberflow.engine.ui import runs

    monkeypatch.setattr(runs, "HEARTBEAT", 0.3)
    with app_client(slow) as client:
        run_id = client.post("/api/editor/runs", json={"path": "flows/short.yaml"}, headers=ORIGIN).json()["run_id"]
        with client.stream("GET", f"/api/editor/runs/{run_id}/events") as stream:
            lines = [line for line in stream.iter_lines() if line]
    assert ": keep-alive" in lines
    assert json.loads(lines[-1][5:])["status"] == "succeeded"
