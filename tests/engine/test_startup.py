"""`emberflow validate` loads only what validation needs: the engine API hands out its heavier helpers on first
use, the command line builds only the parser of the command being run, and none of dataclasses, hashlib, shutil
or json is imported (each costs start-up time comparable to the whole validation)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_FOR_VALIDATION = (
    "dataclasses", "hashlib", "shutil", "json", "uuid", "tempfile", "platform", "inspect",
    "emberflow.engine.store", "emberflow.engine.models", "emberflow.engine.formats", "emberflow.engine.context",
    "emberflow.engine.frames", "emberflow.engine.model", "emberflow.engine.runner", "emberflow.engine.integrity",
)

PROBE = """
import contextlib, io, sys
from emberflow.engine.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    code = main(sys.argv[1:])
found = sorted(m for m in NOT_FOR_VALIDATION if m in sys.modules)
nodes = sorted(m for m in sys.modules if m.startswith("emberflow.nodes."))
import json  # only now, after the modules were listed
print(json.dumps({"code": code, "found": found, "nodes": nodes}))
""".replace("NOT_FOR_VALIDATION", repr(NOT_FOR_VALIDATION))


def probe(*args: str, cwd: Path = ROOT) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_validate_imports_the_nodes_but_not_the_store_formats_or_dataclasses():
    result = probe("validate", "workflows/train.yaml")
    assert result["code"] == 0
    assert "emberflow.nodes.save_model" in result["nodes"] and "emberflow.nodes.train" in result["nodes"]
    assert result["found"] == []


def test_the_probe_sees_what_a_store_command_imports(tmp_path: Path):
    """The probe itself works: listing the store's models does load the store, hashlib and json."""
    result = probe("models", "list", "--json", "--store", str(tmp_path / "store"))
    assert result["code"] == 0
    assert {"emberflow.engine.store", "hashlib", "json"} <= set(result["found"])


def test_every_name_of_the_engine_api_resolves_to_the_engine_object():
    from emberflow.engine import api

    namespace: dict = {}
    exec("from emberflow.engine.api import *", namespace)  # noqa: S102 - the star import is what is tested
    for name in api.__all__:
        assert namespace[name] is getattr(api, name)
    assert set(api.__all__) <= set(dir(api))
    with pytest.raises(AttributeError, match="no attribute 'save_to_stor'"):
        api.save_to_stor  # noqa: B018 - the lookup is the test


def test_a_lazy_api_name_is_the_one_its_module_defines():
    from emberflow.engine import api
    from emberflow.engine.context import StepContext
    from emberflow.engine.formats.h2o import estimator_of
    from emberflow.engine.frames import to_pandas
    from emberflow.engine.models import save_to_store
    from emberflow.engine.store import check_name

    assert api.save_to_store is save_to_store and api.h2o_estimator is estimator_of
    assert api.StepContext is StepContext and api.to_pandas is to_pandas and api.check_name is check_name


def test_a_command_group_without_a_subcommand_prints_every_command(cli):
    result = cli("models")
    assert result.code == 0
    for command in ("run", "validate", "schema", "nodes", "models", "runs", "ui"):
        assert f"\n    {command} " in result.out


def test_an_unknown_command_is_refused_with_every_command_named(cli, capsys):
    with pytest.raises(SystemExit) as exited:
        cli("valdate", "workflows/train.yaml")
    assert exited.value.code == 2
    assert "invalid choice: 'valdate' (choose from 'run', 'validate', 'schema'" in capsys.readouterr().err


@pytest.mark.parametrize("columns", [None, "", "abc", "0", "-5", "57", "200"])
def test_the_help_width_is_what_shutil_would_give(columns, monkeypatch):
    from emberflow.engine.cli import _terminal_columns

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert _terminal_columns() == shutil.get_terminal_size().columns


def test_help_is_wrapped_to_the_terminal_width(tmp_path: Path):
    def help_lines(columns: int) -> list[str]:
        shown = subprocess.run([sys.executable, "-m", "emberflow.engine.cli", "run", "--help"], capture_output=True,
                               text=True, env={"COLUMNS": str(columns), "PATH": ""}, cwd=tmp_path, timeout=120)
        assert shown.returncode == 0 and "--spark-master URL" in shown.stdout
        return shown.stdout.splitlines()

    narrow, wide = help_lines(50), help_lines(200)
    assert len(narrow) > len(wide)
    assert max(map(len, narrow)) <= 50 < max(map(len, wide)) <= 200
