"""`emberflow --help` and `emberflow validate` must stay instant: no pandas, scikit-learn, pyspark or h2o."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "sklearn", "pyspark", "h2o", "numpy", "pyarrow", "fastapi")

PROBE = """
import contextlib, io, json, sys
from emberflow.engine.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)}))
""".replace("HEAVY", repr(HEAVY))


def probe(*args: str, cwd: Path = ROOT) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("args", [
    ("--help",),
    ("validate", "workflows/train.yaml"),
    ("validate", "workflows/score.yaml"),
    ("nodes", "list"),
    ("schema",),
])
def test_command_imports_nothing_heavy(args):
    result = probe(*args)
    assert result["code"] == 0
    assert result["modules"] == []


def test_the_probe_would_notice_a_heavy_import(tmp_path: Path):
    """The probe itself works: running a workflow does import pandas and scikit-learn, but not Spark or H2O."""
    data = ROOT / "workflows" / "data" / "diabetes.csv"
    result = probe("run", str(ROOT / "workflows" / "train.yaml"), "--var", f"data={data}", cwd=tmp_path)
    assert result["code"] == 0
    assert {"pandas", "sklearn"} <= set(result["modules"])
    assert not {"pyspark", "h2o"} & set(result["modules"])
