"""The version gate with two real Spark versions, no manifest edited: a model saved by Spark 3.5 is loaded by
Spark 4, and the reverse, each refused or warned as README's model store promises (a major difference refuses
unless strict_versions: false; strict_versions: true refuses; false warns, naming both versions, and tries).

These run in make test's pyspark 3.5 invocation (this process), against the main environment's emberflow with
pyspark 4, run as a subprocess from the folder that EMBERFLOW_MAIN_VENV names (make test sets it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = [pytest.mark.spark, pytest.mark.spark35]

MAIN_VENV = "EMBERFLOW_MAIN_VENV"
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"

SCORE = """\
name: score-across-versions
engine: spark
steps:
  - {{id: load, node: LoadModel, params: {{name: diabetes-spark-lr{strict}}}}}
  - {{id: read, node: ReadCSV, params: {{path: data/diabetes_new.csv}}}}
  - {{id: score, node: Score, inputs: {{model: load, data: read}}}}
  - {{id: write, node: WriteCSV, inputs: {{data: score}}, params: {{path: scored.csv}}}}
"""


@pytest.fixture(scope="module")
def other_emberflow() -> Path:
    """The main environment's emberflow command (pyspark 4); missing, the tests fail saying how to run them."""
    folder = os.environ.get(MAIN_VENV)
    assert folder, (f"{MAIN_VENV} is not set: these tests run in make test's pyspark 3.5 invocation, which sets it "
                    "to the main environment's folder (.venv), whose pyspark 4 loads and saves the other side")
    command = Path(folder) / "bin" / "emberflow"
    assert command.is_file(), f"{MAIN_VENV}={folder} holds no bin/emberflow; run make test to install it"
    return command


@pytest.fixture(scope="module")
def versions(other_emberflow: Path) -> tuple[str, str]:
    """(this process's pyspark, the other environment's): they must differ in their major version."""
    here = metadata.version("pyspark")
    python = other_emberflow.parent / "python"
    there = subprocess.run([str(python), "-c", "from importlib.metadata import version; print(version('pyspark'))"],
                           capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert here.split(".")[0] != there.split(".")[0], f"both environments run pyspark {here} and {there}"
    return here, there


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with the example data and the three score workflows (strict_versions unset, true, false)."""
    shutil.copytree(WORKFLOWS / "data", tmp_path / "data")
    strictness = {"default": "", "strict": ", strict_versions: true", "lenient": ", strict_versions: false"}
    for name, strict in strictness.items():
        (tmp_path / f"score_{name}.yaml").write_text(SCORE.format(strict=strict))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMBERFLOW_STORE", raising=False)
    return tmp_path


def run_other(command: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(command), "run", *args, "--quiet"], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def saved_pyspark(folder: Path) -> str:
    """The pyspark version that the store's one version of the model records, as the saving Spark wrote it."""
    manifest = json.loads(next((folder / "models" / "diabetes-spark-lr").glob("*/manifest.json")).read_text())
    return manifest["libraries"]["pyspark"]


def refusal(saved: str, running: str) -> str:
    return (f"model saved with pyspark {saved}, running pyspark {running}: Spark ML models do not cross major "
            f"versions, so it is not loaded (install pyspark=={saved}, or set strict_versions: false to try anyway)")


def strict_refusal(saved: str, running: str) -> str:
    return (f"model saved with pyspark {saved}, running pyspark {running}; strict_versions is on, so it is not "
            f"loaded (install pyspark=={saved} or set strict_versions: false)")


def warning(saved: str, running: str) -> str:
    return f"model saved with pyspark {saved}, running pyspark {running}; it may not load or may behave differently"


def scored_rows(folder: Path) -> int:
    return len((folder / "scored.csv").read_text().splitlines()) - 1


def given_rows(folder: Path) -> int:
    return len((folder / "data" / "diabetes_new.csv").read_text().splitlines()) - 1


def one_line_error(stderr: str, message: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], stderr[-3000:]
    assert "Traceback" not in stderr and "\tat " not in stderr, stderr[-3000:]


def test_a_model_saved_by_spark_35_is_refused_by_spark_4_unless_strict_versions_is_false(
        spark, cli, folder: Path, other_emberflow: Path, versions: tuple[str, str]):
    here, there = versions
    trained = cli("run", WORKFLOWS / "train_spark.yaml", "--var", "data=data/diabetes.csv", "--quiet")
    assert trained.code == 0, trained.err
    assert saved_pyspark(folder) == here
    for workflow, message in (("score_default.yaml", refusal(here, there)),
                              ("score_strict.yaml", strict_refusal(here, there))):
        result = run_other(other_emberflow, workflow, cwd=folder)
        assert result.returncode == 2, result.stderr[-3000:]
        one_line_error(result.stderr, message)
        assert not (folder / "scored.csv").exists()
    lenient = run_other(other_emberflow, "score_lenient.yaml", cwd=folder)
    assert f"warning: load: {warning(here, there)}" in lenient.stderr.splitlines(), lenient.stderr[-3000:]
    assert lenient.returncode == 0, lenient.stderr[-3000:]
    assert scored_rows(folder) == given_rows(folder)


def test_a_model_saved_by_spark_4_is_refused_by_spark_35_unless_strict_versions_is_false(
        spark, cli, folder: Path, other_emberflow: Path, versions: tuple[str, str]):
    here, there = versions
    trained = run_other(other_emberflow, str(WORKFLOWS / "train_spark.yaml"), "--var", "data=data/diabetes.csv",
                        cwd=folder)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert saved_pyspark(folder) == there
    for workflow, message in (("score_default.yaml", refusal(there, here)),
                              ("score_strict.yaml", strict_refusal(there, here))):
        result = cli("run", workflow, "--quiet")
        assert result.code == 2, result.err
        one_line_error(result.err, message)
        assert not (folder / "scored.csv").exists()
    lenient = cli("run", "score_lenient.yaml", "--quiet")
    assert f"warning: load: {warning(there, here)}" in lenient.err.splitlines(), lenient.err
    assert lenient.code == 0, lenient.err
    assert scored_rows(folder) == given_rows(folder)
