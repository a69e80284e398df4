"""The store's promises (tests/reliability) for Spark ML directories, many files per version: tampering with
each file refused by name, the Spark major-version gate, signing, and eight processes saving directory-shaped
versions at once. Here, beside the Spark tests, to share their one SparkSession."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import IntegrityError, VersionMismatch
from emberflow.engine.models import load_from_store
from emberflow.engine.signing import KEY_ENV
from emberflow.engine.store import ModelStore
from reliability.helpers import train_and_save
from reliability.test_concurrent_writers import WRITERS, check_distinct_complete, run_together

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def pristine(spark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding one Spark ML version, saved once for the module; tests work on copies of it."""
    root = tmp_path_factory.mktemp("spark-store")
    train_and_save("spark", root)
    return root


@pytest.fixture
def store(pristine: Path, tmp_path: Path) -> ModelStore:
    shutil.copytree(pristine, tmp_path / "store")
    return ModelStore(tmp_path / "store")


def version(store: ModelStore) -> tuple[Path, dict]:
    ref = store.resolve("m")
    return ref.path, store.manifest(ref)


def refused(store: ModelStore, loads: list[str], match: str) -> None:
    with pytest.raises(IntegrityError, match=match):
        load_from_store(store, "m", Sessions())
    assert loads == [], "Spark read the model before the refusal"


def test_a_spark_version_holds_many_files_and_loads(store: ModelStore, loads: list[str], sessions):
    folder, manifest = version(store)
    assert manifest["format"] == "spark-ml" and len(manifest["files"]) >= 10
    assert any(rel.endswith(".parquet") for rel in manifest["files"])
    model, _ref, _ = load_from_store(store, "m", sessions)
    assert loads == ["spark-ml"] and type(model.obj).__name__ == "PipelineModel"


def test_each_changed_missing_or_added_file_is_refused_by_name(store: ModelStore, loads: list[str],
                                                              tmp_path: Path):
    folder, manifest = version(store)
    for rel in manifest["files"]:
        path = folder / rel
        original = path.read_bytes()
        if original:
            data = bytearray(original)
            data[len(data) // 2] ^= 0x01
            path.write_bytes(bytes(data))
            refused(store, loads, rf"{rel}: SHA-256 differs from the manifest")
        path.unlink()
        refused(store, loads, rf"{rel}: missing")
        path.write_bytes(original)
    (folder / "model" / "stages" / "extra.json").write_text("{}")
    refused(store, loads, r"model/stages/extra.json: not listed in the manifest")


def test_manifest_edits_are_refused(store: ModelStore, loads: list[str], monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path):
    folder, manifest = version(store)
    metadata_file = next(rel for rel in manifest["files"] if rel.startswith("model/metadata/part-"))
    edited = json.loads(json.dumps(manifest))
    edited["files"][metadata_file]["sha256"] = "f" * 64
    (folder / "manifest.json").write_text(json.dumps(edited))
    refused(store, loads, rf"{metadata_file}: SHA-256 differs from the manifest")


def test_a_signed_spark_version_refuses_a_manifest_edit(spark, tmp_path: Path, loads: list[str],
                                                        monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, "team key")
    store = ModelStore(tmp_path / "signed")
    train_and_save("spark", store.root)
    folder, manifest = version(store)
    manifest["spark"]["class"] = "org.apache.spark.ml.classification.LogisticRegressionModel"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    loads.clear()
    refused(store, loads, r"signature does not match")


def other_major() -> str:
    """A pyspark version of another major version than the running one (3.5 under 4, 4.0 under 3.5)."""
    return "4.0.1" if metadata.version("pyspark").startswith("3.") else "3.5.1"


def edit_pyspark(store: ModelStore, version_text: str) -> None:
    folder, manifest = version(store)
    manifest["libraries"]["pyspark"] = version_text
    manifest["spark"]["version"] = version_text
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_spark_model_of_another_major_version_is_refused_unless_strict_is_false(store: ModelStore,
                                                                                   loads: list[str], sessions):
    running, other = metadata.version("pyspark"), other_major()
    edit_pyspark(store, other)
    with pytest.raises(VersionMismatch, match=rf"model saved with pyspark {other}, running pyspark {running}: "
                                              "Spark ML models do not cross major versions"):
        load_from_store(store, "m", sessions)
    with pytest.raises(VersionMismatch, match="strict_versions is on"):
        load_from_store(store, "m", sessions, strict_versions=True)
    assert loads == []
    warnings: list[str] = []
    model, _ref, _ = load_from_store(store, "m", sessions, strict_versions=False, warn=warnings.append)
    assert loads == ["spark-ml"] and type(model.obj).__name__ == "PipelineModel"
    assert warnings == [f"model saved with pyspark {other}, running pyspark {running}; it may not load or may "
                        "behave differently"]


def test_a_minor_spark_difference_warns(store: ModelStore, loads: list[str], sessions):
    running = metadata.version("pyspark")
    older = f"{running.split('.')[0]}.0.0"
    edit_pyspark(store, older)
    warnings: list[str] = []
    load_from_store(store, "m", sessions, warn=warnings.append)
    assert loads == ["spark-ml"]
    assert warnings == [f"model saved with pyspark {older}, running pyspark {running}; it may not load or may "
                        "behave differently"]


def test_eight_processes_save_spark_ml_directories_at_once(store: ModelStore, tmp_path: Path, sessions):
    folder, manifest = version(store)
    root = tmp_path / "concurrent"
    commands = [["save-tree", str(root), "spark-m", str(folder / "model")] for _ in range(WRITERS)]
    reported = run_together(commands, tmp_path / "go")
    check_distinct_complete(root, "spark-m", reported, files=len(manifest["files"]))
    concurrent = ModelStore(root)
    for number in concurrent.versions("spark-m"):
        copy = concurrent.manifest(concurrent.resolve(f"spark-m@{number}"))
        assert copy["files"] == manifest["files"] and copy["format"] == "spark-ml"
    model, ref, _ = load_from_store(concurrent, "spark-m@5", sessions)
    assert ref.version == 5 and type(model.obj).__name__ == "PipelineModel"


def plain_copy(store: ModelStore, target: Path, spark_version: str | None = None) -> Path:
    """The version's Spark ML directory copied to ``target``, with no manifest beside it; with ``spark_version``,
    its metadata says that version wrote it (and Spark's checksum of the metadata file goes, as a hand edit's)."""
    folder, _manifest = version(store)
    shutil.copytree(folder / "model", target)
    if spark_version:
        part = next((target / "metadata").glob("part-*"))
        written = json.loads(part.read_text())
        part.write_text(json.dumps({**written, "sparkVersion": spark_version}) + "\n")
        for crc in (target / "metadata").glob(f".{part.name}.crc"):
            crc.unlink()
    return target


def test_a_plain_spark_directory_is_gated_by_the_version_its_metadata_names(store: ModelStore, loads: list[str],
                                                                             sessions, tmp_path: Path):
    from emberflow.engine.models import load_from_path

    running, other = metadata.version("pyspark"), other_major()
    warnings: list[str] = []
    same = load_from_path(plain_copy(store, tmp_path / "same"), sessions, strict_versions=True,
                          warn=warnings.append)
    assert type(same.obj).__name__ == "PipelineModel" and warnings == [] and loads == ["spark-ml"]
    loads.clear()
    older = plain_copy(store, tmp_path / "older", other)
    with pytest.raises(VersionMismatch, match=rf"model saved with pyspark {other}, running pyspark {running}: "
                                              "Spark ML models do not cross major versions"):
        load_from_path(older, sessions)
    with pytest.raises(VersionMismatch, match="strict_versions is on"):
        load_from_path(older, sessions, strict_versions=True)
    assert loads == []
    model = load_from_path(older, sessions, strict_versions=False, warn=warnings.append)
    assert loads == ["spark-ml"] and type(model.obj).__name__ == "PipelineModel"
    assert warnings == [f"model saved with pyspark {other}, running pyspark {running}; it may not load or may "
                        "behave differently"]
