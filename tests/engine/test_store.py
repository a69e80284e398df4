"""The model store: numbered immutable versions, aliases, references, run records."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from emberflow.engine.errors import ModelNotFound, UserError
from emberflow.engine.store import ModelStore


def save(store: ModelStore, name: str, payload: bytes = b"x") -> int:
    def write(folder: Path) -> dict:
        (folder / "model.bin").write_bytes(payload)
        return {"format": "test"}

    return store.save(name, write).version


def test_versions_increase_and_manifests_hold_checksums(tmp_path: Path):
    store = ModelStore(tmp_path)
    assert [save(store, "m", b"a"), save(store, "m", b"bb"), save(store, "m")] == [1, 2, 3]
    assert store.versions("m") == [1, 2, 3]
    manifest = store.manifest(store.resolve("m@2"))
    assert manifest["version"] == 2 and manifest["name"] == "m"
    assert manifest["files"]["model.bin"]["size"] == 2
    assert manifest["files"]["model.bin"]["sha256"] == hashlib.sha256(b"bb").hexdigest()


def test_references_latest_version_and_alias(tmp_path: Path):
    store = ModelStore(tmp_path)
    for _ in range(3):
        save(store, "m")
    store.set_alias("m", 2, "prod")
    assert store.resolve("m").version == 3
    assert store.resolve("m@latest").version == 3
    assert store.resolve("m@1").version == 1
    assert store.resolve("m@prod").version == 2
    assert store.aliases("m") == {"prod": 2}


@pytest.mark.parametrize("ref, message", [
    ("nope", "no model 'nope' in the store"),
    ("m@9", "model 'm' has no version 9; versions: 1"),
    ("m@staging", "model 'm' has no alias 'staging'"),
])
def test_unknown_references_say_what_exists(tmp_path: Path, ref: str, message: str):
    store = ModelStore(tmp_path)
    save(store, "m")
    with pytest.raises(ModelNotFound, match=message):
        store.resolve(ref)


@pytest.mark.parametrize("name", ["../x", "/abs", ".hidden", "a/b", "", "x" * 200, "runs", "m\n"])
def test_bad_names_are_refused(tmp_path: Path, name: str):
    with pytest.raises(UserError):
        save(ModelStore(tmp_path), name)
    assert list(tmp_path.iterdir()) == [], "nothing is written for a refused name"


def test_a_failed_write_leaves_no_version(tmp_path: Path):
    store = ModelStore(tmp_path)
    save(store, "m")

    def broken(folder: Path) -> dict:
        (folder / "half").write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.save("m", broken)
    assert store.versions("m") == [1]
    assert [p.name for p in (tmp_path / "m").iterdir() if p.name.startswith(".tmp")] == []
    assert save(store, "m") == 2


def test_alias_names_that_read_as_versions_are_refused(tmp_path: Path):
    store = ModelStore(tmp_path)
    save(store, "m")
    for alias in ("latest", "3"):
        with pytest.raises(UserError):
            store.set_alias("m", 1, alias)
    with pytest.raises(ModelNotFound):
        store.set_alias("m", 5, "prod")


def test_runs_are_recorded_and_not_listed_as_models(tmp_path: Path):
    store = ModelStore(tmp_path)
    save(store, "m")
    path = store.write_run({"run_id": "r1", "status": "ok"})
    assert json.loads(path.read_text())["status"] == "ok"
    assert store.names() == ["m"]


def test_the_store_writes_the_name_and_version_whatever_the_writer_says(tmp_path: Path):
    store = ModelStore(tmp_path)
    ref = store.save("m", lambda folder: (folder / "model.bin").write_bytes(b"x") and {"name": "other", "version": 9})
    manifest = store.manifest(ref)
    assert (manifest["name"], manifest["version"]) == ("m", 1) and store.problems(ref) == []


@pytest.mark.parametrize("uri", ["hdfs://namenode/models", "s3a://bucket/models", "file:///srv/models"])
def test_a_store_given_as_a_uri_is_refused_naming_the_staging_location(cli, uri: str):
    result = cli("models", "list", "--store", uri)
    assert result.code == 2
    assert f"the model store must be a folder on this machine, not {uri}" in result.err
    assert "--spark-staging" in result.err and "Traceback" not in result.err
