"""What the H2O tests look at from outside: H2O JVMs, temporary folders, and CLI runs in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TEMP_PREFIXES = ("emberflow-h2o-", "emberflow-mojo-", "emberflow-frame-")

# Runs the CLI in a fresh process and reports, besides the exit code and stdout, every command the process
# launched, the child processes and temporary files still there when the command returned, and whether the h2o
# client ever connected to a cluster.
PROBE = """
import contextlib, io, json, os, subprocess, sys, tempfile
import psutil
launched = []
original = subprocess.Popen.__init__
def recording(self, args, *rest, **options):
    launched.append([str(a) for a in args] if isinstance(args, (list, tuple)) else [str(args)])
    original(self, args, *rest, **options)
subprocess.Popen.__init__ = recording
from emberflow.engine.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
children = [child.pid for child in psutil.Process().children(recursive=True)]
temp_left = sorted(os.listdir(tempfile.gettempdir()))
connection = None
if "h2o" in sys.modules:
    import h2o
    connection = h2o.connection() and h2o.connection().base_url
print(json.dumps({"code": code, "out": out.getvalue(), "commands": launched, "children": children,
                  "temp_left": temp_left, "h2o_connection": connection}))
"""


def h2o_processes(markers: list[str]) -> list[tuple[int, str]]:
    """Running H2O JVMs (servers or genmodel scorers) whose command line mentions one of ``markers``."""
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        command = " ".join(process.info.get("cmdline") or [])
        if "java" in command and "h2o" in command and any(marker in command for marker in markers):
            found.append((process.info["pid"], command[:300]))
    return found


def leftover_temp(root: Path, pid: int) -> list[str]:
    """Temporary folders of emberflow's H2O code made by process ``pid`` that still exist under ``root``."""
    return sorted(p.name for p in root.iterdir() if any(p.name.startswith(f"{prefix}{pid}-")
                                                         for prefix in TEMP_PREFIXES))


def probe_run(*args: str, cwd: Path, tmpdir: Path, timeout: float = 300) -> dict:
    """Run ``emberflow ARGS`` in a fresh process whose TMPDIR is ``tmpdir``; its report as a dict."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    env.pop("EMBERFLOW_SIGNING_KEY", None)
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report["err"] = proc.stderr
    return report


def h2o_servers(commands: list[list[str]]) -> list[list[str]]:
    """The launched commands that start an H2O server (the h2o.jar's main class, not a genmodel tool)."""
    return [c for c in commands if ("-jar" in c and any(a.endswith("h2o.jar") for a in c)) or "water.H2OApp" in c]


def genmodel_runs(commands: list[list[str]]) -> list[list[str]]:
    return [c for c in commands if "hex.genmodel.tools.PredictCsv" in c]
