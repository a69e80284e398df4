"""Promise 4: the manifest's Python and library versions are compared with the running ones before anything
is deserialized: a minor difference warns naming both, ``strict_versions: true`` refuses it, a Spark major
difference refuses unless ``strict_versions: false`` (the Spark half runs in test_spark_reliability.py)."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import VersionMismatch
from emberflow.engine.models import check_versions, load_from_store, save_to_store
from emberflow.engine.store import ModelStore

from .helpers import lr_model

SKLEARN = metadata.version("scikit-learn")


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    store = ModelStore(tmp_path)
    save_to_store(store, lr_model(), "m", "joblib", {})
    return store


def edit_versions(store: ModelStore, python: str | None = None, **libraries: str) -> None:
    path = store.resolve("m").path / "manifest.json"
    manifest = json.loads(path.read_text())
    if python:
        manifest["python"] = python
    manifest["libraries"].update({k.replace("_", "-"): v for k, v in libraries.items()})
    path.write_text(json.dumps(manifest))


def load(store: ModelStore, strict: bool | None) -> list[str]:
    warnings: list[str] = []
    load_from_store(store, "m", Sessions(), strict_versions=strict, warn=warnings.append)
    return warnings


@pytest.mark.parametrize("older", ["1.0.2", "0.24.2"])
@pytest.mark.parametrize("strict", [None, False])
def test_an_older_scikit_learn_warns_naming_both_versions(store: ModelStore, loads: list[str], older: str,
                                                           strict: bool | None):
    edit_versions(store, scikit_learn=older)
    warnings = load(store, strict)
    assert loads == ["joblib"]
    assert [w for w in warnings if "scikit-learn" in w] == [
        f"model saved with scikit-learn {older}, running scikit-learn {SKLEARN}; it may not load or may behave "
        "differently"]


def test_strict_versions_refuses_before_deserializing(store: ModelStore, loads: list[str]):
    edit_versions(store, scikit_learn="1.0.2")
    with pytest.raises(VersionMismatch, match=rf"scikit-learn 1.0.2, running scikit-learn {SKLEARN}; "
                                              "strict_versions is on"):
        load(store, True)
    assert loads == []


def test_an_older_python_warns_and_strict_refuses(store: ModelStore, loads: list[str]):
    edit_versions(store, python="3.8.10")
    assert any(f"python 3.8.10, running python {platform.python_version()}" in w for w in load(store, None))
    loads.clear()
    with pytest.raises(VersionMismatch, match="python 3.8.10"):
        load(store, True)
    assert loads == []


def test_the_same_minor_version_is_silent(store: ModelStore):
    major, minor, *_ = SKLEARN.split(".")
    edit_versions(store, scikit_learn=f"{major}.{minor}.999")
    assert load(store, True) == []


def test_a_library_that_is_not_installed_refuses(store: ModelStore, loads: list[str]):
    path = store.resolve("m").path / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format"] = "skops"
    manifest["libraries"]["skops"] = "0.9.0"
    path.write_text(json.dumps(manifest))

    class Missing:
        name = "skops"

        def libraries(self):
            return {"skops": "not installed"}

    with pytest.raises(VersionMismatch, match="needs skops 0.9.0, which is not installed"):
        check_versions(manifest, Missing(), None, print)


@pytest.mark.parametrize("strict, outcome", [(None, "refused"), (True, "refused"), (False, "warned")])
def test_a_spark_major_difference_refuses_unless_strict_is_false(strict: bool | None, outcome: str):
    """The rule alone (no Spark needed): pyspark 3.x in the manifest, pyspark 4.x running."""
    running = metadata.version("pyspark")

    class SparkML:
        def libraries(self):
            return {"pyspark": running}

    manifest = {"python": platform.python_version(), "libraries": {"pyspark": "3.5.1"}}
    warnings: list[str] = []
    if outcome == "refused":
        with pytest.raises(VersionMismatch, match=rf"pyspark 3.5.1, running pyspark {running}"):
            check_versions(manifest, SparkML(), strict, warnings.append)
    else:
        check_versions(manifest, SparkML(), strict, warnings.append)
        assert warnings == [f"model saved with pyspark 3.5.1, running pyspark {running}; it may not load or may "
                            "behave differently"]
    manifest["libraries"]["pyspark"] = running.rsplit(".", 1)[0] + ".99"  # same major and minor
    check_versions(manifest, SparkML(), None, warnings.append)


def test_load_model_takes_three_states_of_strict_versions(cli, project: Path):
    for value in ("true", "false", "null"):
        text = (f"name: x\nsteps:\n  - id: load\n    node: LoadModel\n    params: {{name: m, strict_versions: "
                f"{value}}}\n")
        (project / "wf.yaml").write_text(text)
        result = cli("validate", "wf.yaml")
        assert result.code == 0, result.err


def pickled_by(version: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Until undone, a LogisticRegression's state says it was pickled by scikit-learn ``version``: loading such a
    file makes scikit-learn itself warn (InconsistentVersionWarning), as a file from another version does."""
    from sklearn.base import BaseEstimator
    from sklearn.linear_model import LogisticRegression

    monkeypatch.setattr(LogisticRegression, "__getstate__",
                        lambda self: {**BaseEstimator.__getstate__(self), "_sklearn_version": version})


@pytest.mark.parametrize("format_name", ["joblib", "pickle", "pickle-buffers", "skops"])
@pytest.mark.parametrize("recorded", ["1.0.2", "running"])
def test_scikit_learns_own_version_warning_is_folded_into_the_gates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     recwarn: pytest.WarningsRecorder,
                                                                     format_name: str, recorded: str):
    """A file pickled by scikit-learn 1.0.2: the library's InconsistentVersionWarning never escapes; emberflow says
    once which versions differ, whether the manifest records 1.0.2 too (the gate warned before deserializing) or
    the running version (a manifest that does not tell what the file holds)."""
    from sklearn.exceptions import InconsistentVersionWarning

    store = ModelStore(tmp_path)
    with monkeypatch.context() as patch:
        pickled_by("1.0.2", patch)
        save_to_store(store, lr_model(), "m", format_name, {})
    if recorded != "running":
        edit_versions(store, scikit_learn=recorded)
    warnings = load(store, None)
    assert not [w for w in recwarn if issubclass(w.category, InconsistentVersionWarning)]
    said = [w for w in warnings if "scikit-learn" in w]
    if recorded == "running":
        assert said == [f"model saved with scikit-learn 1.0.2 (its LogisticRegression), running scikit-learn "
                        f"{SKLEARN}; it may not load or may behave differently; its manifest records scikit-learn "
                        f"{SKLEARN}"]
    else:
        assert said == [f"model saved with scikit-learn 1.0.2, running scikit-learn {SKLEARN}; it may not load or "
                        "may behave differently"]


def test_a_plain_file_pickled_by_another_scikit_learn_warns_in_emberflows_words(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch,
                                                                               recwarn: pytest.WarningsRecorder,
                                                                               loads: list[str]):
    """A joblib file with no manifest beside it: the gate reads the version from the pickle's bytes and warns
    before deserializing, once; scikit-learn's own warning about the same version is dropped."""
    import joblib
    from emberflow.engine.models import load_from_path
    from sklearn.exceptions import InconsistentVersionWarning

    with monkeypatch.context() as patch:
        pickled_by("1.0.2", patch)
        joblib.dump(lr_model().obj, tmp_path / "old.joblib")
    warnings: list[str] = []
    load_from_path(tmp_path / "old.joblib", Sessions(), trust=True,
                   warn=lambda message: warnings.append((message, list(loads))))
    assert not [w for w in recwarn if issubclass(w.category, InconsistentVersionWarning)]
    assert warnings == [(f"model saved with scikit-learn 1.0.2, running scikit-learn {SKLEARN}; it may not load "
                         "or may behave differently", [])]
    assert loads == ["joblib"]


def test_a_patch_difference_that_scikit_learn_warns_about_stays_silent_as_in_the_gate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: pytest.WarningsRecorder):
    from sklearn.exceptions import InconsistentVersionWarning

    major, minor, *_ = SKLEARN.split(".")
    store = ModelStore(tmp_path)
    with monkeypatch.context() as patch:
        pickled_by(f"{major}.{minor}.999", patch)
        save_to_store(store, lr_model(), "m", "joblib", {})
    assert load(store, True) == []
    assert not [w for w in recwarn if issubclass(w.category, InconsistentVersionWarning)]


def test_other_warnings_while_loading_are_still_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Only scikit-learn's version warning is caught: any other warning raised while deserializing is shown."""
    from emberflow.engine.formats.sklearn import folded_version_warnings

    heard: list[str] = []
    with pytest.warns(UserWarning, match="something else"), folded_version_warnings({}, heard.append):
        import warnings

        warnings.warn("something else", UserWarning, stacklevel=1)
    assert heard == []


def test_a_run_prints_the_gates_warning_alone_not_scikit_learns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 emberflow_subprocess):
    """The run's stderr (its progress lines) holds emberflow's warning naming both versions, and not
    scikit-learn's InconsistentVersionWarning with its file path and source line."""
    store = ModelStore(tmp_path / "models")
    with monkeypatch.context() as patch:
        pickled_by("1.0.2", patch)
        save_to_store(store, lr_model(), "m", "joblib", {})
    edit_versions(store, scikit_learn="1.0.2")
    (tmp_path / "rows.csv").write_text("a,b\n0.5,-1\n-2,0.25\n")
    (tmp_path / "score.yaml").write_text(
        "name: score\nsteps:\n  - {id: load, node: LoadModel, params: {name: m}}\n"
        "  - {id: read, node: ReadCSV, params: {path: rows.csv}}\n"
        "  - {id: score, node: Score, inputs: {model: load, data: read}}\n")
    result = emberflow_subprocess("run", "score.yaml", "--store", "models", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "InconsistentVersionWarning" not in result.err and ".py:" not in result.err
    assert [line for line in result.err.splitlines() if "warning" in line.lower()] == [
        f"[1/3] load (LoadModel, sklearn) ... warning: load: model saved with scikit-learn 1.0.2, running "
        f"scikit-learn {SKLEARN}; it may not load or may behave differently"]


@pytest.mark.parametrize("format_name", ["h2o", "h2o-binary", "mojo"])
def test_h2o_versions_are_left_to_h2os_own_gate_but_strict_refuses(format_name: str):
    """An H2O binary loads only on the exact version that wrote it, a MOJO on any: that gate (``open_stored``)
    chooses, so the general one does not warn. strict_versions: true refuses another minor version of H2O, MOJO
    or not (advice: strict_versions: false, with which the MOJO loads); a binary alone is left to open_stored,
    which refuses any other version whatever strict_versions says, with advice that fits."""
    from emberflow.engine.formats import get_format

    running = metadata.version("h2o")
    manifest = {"python": platform.python_version(), "libraries": {"h2o": "3.44.0.3"}}
    warnings: list[str] = []
    check_versions(manifest, get_format(format_name), None, warnings.append)
    check_versions(manifest, get_format(format_name), False, warnings.append)
    assert warnings == []
    if format_name == "h2o-binary":
        check_versions(manifest, get_format(format_name), True, warnings.append)
        assert warnings == []
        return
    for recorded in (manifest, {"python": platform.python_version(), "libraries": {},  # an older manifest
                                "h2o": {"version": "3.44.0.3"}}):
        with pytest.raises(VersionMismatch, match=rf"model saved with h2o 3.44.0.3, running h2o {running}; "
                                                  r"strict_versions is on, so it is not loaded \(install "
                                                  r"h2o==3.44.0.3 or set strict_versions: false\)"):
            check_versions(recorded, get_format(format_name), True, warnings.append)
    same_minor = {"python": platform.python_version(), "libraries": {"h2o": running.rsplit(".", 1)[0] + ".999"}}
    check_versions(same_minor, get_format(format_name), True, warnings.append)
    assert warnings == []


@pytest.mark.parametrize("where", ["libraries", "h2o section"])
def test_the_h2o_gate_reads_the_version_from_libraries_or_an_older_manifests_h2o_section(tmp_path: Path,
                                                                                        where: str):
    """No H2O is started: choosing between the binary and the MOJO reads only the manifest."""
    from emberflow.engine.formats.h2o import open_stored

    running = metadata.version("h2o")
    binary, mojo = tmp_path / "model.h2o", tmp_path / "model.zip"
    for version, expected in ((running, "binary"), ("3.44.0.3", "mojo")):
        manifest = {"libraries": {"h2o": version}, "h2o": {"model_id": "glm"}} if where == "libraries" else \
            {"libraries": {}, "h2o": {"model_id": "glm", "version": version}}
        warnings: list[str] = []
        stored = open_stored(binary, mojo, manifest, Sessions(), warnings.append, tmp_path)
        assert (stored.use, stored.written_by) == (expected, version)
        assert len(warnings) == (expected == "mojo")
