"""LoadModel checks every file's SHA-256 and the library versions before it deserializes anything."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import IntegrityError, UserError, VersionMismatch
from emberflow.engine.models import load_from_path, load_from_store
from emberflow.engine.store import ModelStore


class Payload:
    """Unpickling this runs ``os.system``: proof of whether a file was deserialized."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def trained(cli, project: Path) -> ModelStore:
    assert cli("run", "workflows/train.yaml", "--quiet").code == 0
    return ModelStore(project / "models")


def test_one_changed_byte_is_refused_naming_the_file(trained: ModelStore):
    path = trained.resolve("diabetes-lr").path / "model.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"model.joblib: SHA-256 differs from the manifest"):
        load_from_store(trained, "diabetes-lr", Sessions())


def test_a_malicious_replacement_never_runs(trained: ModelStore, tmp_path: Path):
    marker = tmp_path / "pwned"
    path = trained.resolve("diabetes-lr").path / "model.joblib"
    path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(IntegrityError):
        load_from_store(trained, "diabetes-lr", Sessions())
    assert not marker.exists()
    pickle.loads(path.read_bytes())  # the payload is real: loading it unchecked would have run it
    assert marker.exists()


@pytest.mark.parametrize("change, message", [
    ("delete", "model.joblib: missing"),
    ("add", "extra.bin: not listed in the manifest"),
])
def test_missing_and_added_files_are_refused(trained: ModelStore, change: str, message: str):
    folder = trained.resolve("diabetes-lr").path
    if change == "delete":
        (folder / "model.joblib").unlink()
    else:
        (folder / "extra.bin").write_bytes(b"\0")
    with pytest.raises(IntegrityError, match=message):
        load_from_store(trained, "diabetes-lr", Sessions())


def _edit_manifest(store: ModelStore, **changes) -> None:
    path = store.resolve("diabetes-lr").path / "manifest.json"
    manifest = json.loads(path.read_text())
    for key, value in changes.items():
        if key == "scikit_learn":
            manifest["libraries"]["scikit-learn"] = value
        else:
            manifest[key] = value
    path.write_text(json.dumps(manifest))


def test_an_older_library_version_warns_naming_both(trained: ModelStore):
    _edit_manifest(trained, scikit_learn="0.24.2")
    warnings: list[str] = []
    model, _ref, _manifest = load_from_store(trained, "diabetes-lr", Sessions(), warn=warnings.append)
    assert model.obj is not None
    assert any("scikit-learn 0.24.2" in w and "running scikit-learn" in w for w in warnings)


def test_strict_versions_refuses_before_loading(trained: ModelStore, tmp_path: Path):
    _edit_manifest(trained, python="2.7.18")
    with pytest.raises(VersionMismatch, match="python 2.7.18"):
        load_from_store(trained, "diabetes-lr", Sessions(), strict_versions=True)


def test_a_pickle_from_a_plain_path_needs_trust(tmp_path: Path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(UserError, match="trust: true"):
        load_from_path(path, Sessions())
    assert not marker.exists()
