"""`emberflow run` ends its process without the interpreter's shutdown collecting every live object again: at
exit it collects the garbage once (finalizers run) and freezes the rest. Seen from a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import atexit, gc, sys

atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0, flush=True))  # runs after the run's

class Cycle:
    def __del__(self):
        print("garbage finalized", flush=True)

from emberflow.engine.cli import main

code = main(sys.argv[1:])
gc.disable()  # only the exit's collection can find it now
garbage = Cycle()
garbage.me = garbage
del garbage
sys.exit(code)
"""


def test_a_run_collects_its_garbage_then_freezes_the_rest_at_exit(tmp_path: Path):
    workflow = tmp_path / "wf.yaml"
    workflow.write_text("name: missing-file\nsteps:\n  - {id: read, node: ReadCSV, params: {path: absent.csv}}\n")
    done = subprocess.run([sys.executable, "-c", PROBE, "run", str(workflow), "--store", str(tmp_path / "store"),
                           "--quiet"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "no such file absent.csv" in done.stderr
    assert done.stdout.splitlines() == ["garbage finalized", "frozen at exit: True"]


def test_other_commands_end_as_python_ends():
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", PROBE, "validate", str(root / "workflows" / "train.yaml")],
                          capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-2:] == ["frozen at exit: False", "garbage finalized"]  # by Python's shutdown
