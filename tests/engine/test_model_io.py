"""Saving writes each model file once (checksummed as it is written); loading reads it once (checked, then
deserialized from the same bytes); large scikit-learn models are saved as pickle-buffers (pickle protocol 5
with the arrays' bytes out of band, in pieces checked in parallel and unpickled in place)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest
from emberflow.engine import integrity
from emberflow.engine.context import Sessions
from emberflow.engine.errors import IntegrityError
from emberflow.engine.formats import choose_format
from emberflow.engine.formats.sklearn import LARGE_ARRAYS, OUT_OF_BAND_BYTES, PIECE_BYTES
from emberflow.engine.integrity import HashingWriter, file_digests, read_verified, read_verified_files
from emberflow.engine.model import Model
from emberflow.engine.models import load_from_store, save_to_store
from emberflow.engine.store import ModelStore
from sklearn.neighbors import KNeighborsClassifier


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_hashing_writer_digest_is_the_file_digest_and_is_not_read_back(tmp_path, monkeypatch):
    payload = os.urandom(3 * integrity.OVERLAP_CHUNK + 12345)  # several pieces hashed beside the writing
    with HashingWriter(tmp_path / "big.bin") as handle:
        handle.write(b"head")
        handle.write(memoryview(payload))
        handle.write(np.arange(10, dtype="float64"))  # a buffer of 8-byte items
    (tmp_path / "other.bin").write_bytes(b"not written through a HashingWriter")
    expected = b"head" + payload + np.arange(10, dtype="float64").tobytes()
    read_back: list[str] = []
    original = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda path: read_back.append(Path(path).name) or original(path))
    digests = file_digests(tmp_path)
    assert digests["big.bin"] == {"sha256": sha256(expected), "size": len(expected)}
    assert read_back == ["other.bin"]


def test_a_file_changed_after_writing_is_read_again(tmp_path, monkeypatch):
    with HashingWriter(tmp_path / "m.bin") as handle:
        handle.write(b"original")
    with open(tmp_path / "m.bin", "ab") as handle:
        handle.write(b"+appended")
    assert file_digests(tmp_path)["m.bin"]["sha256"] == sha256(b"original+appended")


def test_a_failed_write_leaves_no_digest_behind(tmp_path):
    with pytest.raises(RuntimeError), HashingWriter(tmp_path / "m.bin") as handle:
        handle.write(b"half")
        raise RuntimeError("serializer failed")
    (tmp_path / "m.bin").write_bytes(b"half")  # same size and bytes, rewritten: must still be hashed
    assert file_digests(tmp_path)["m.bin"]["sha256"] == sha256(b"half")


def test_read_verified_returns_the_checked_bytes_or_refuses(tmp_path):
    data = os.urandom(8 * 2**20 + 999)
    path = tmp_path / "m.bin"
    path.write_bytes(data)
    meta = {"sha256": sha256(data), "size": len(data)}
    assert bytes(read_verified(path, meta, "m")) == data
    with pytest.raises(IntegrityError, match="m: size 8389607 differs from the manifest's 5"):
        read_verified(path, {"sha256": meta["sha256"], "size": 5}, "m")
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(IntegrityError, match="m: SHA-256 differs from the manifest"):
        read_verified(path, meta, "m")


def knn_model(rows: int) -> Model:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, 8))
    knn = KNeighborsClassifier(n_neighbors=3).fit(X, (X[:, 0] > 0).astype(int))
    return Model(obj=knn, engine="sklearn", features=[f"x{i}" for i in range(8)], label="y", classes=[0, 1])


@pytest.fixture(scope="module")
def large() -> Model:
    model = knn_model(LARGE_ARRAYS // 64 + 1000)  # 8 float64 columns: just over LARGE_ARRAYS of fitted data
    assert model.obj._fit_X.nbytes >= LARGE_ARRAYS
    return model


def test_auto_saves_a_large_model_as_pickle_buffers_and_a_small_one_with_joblib(large: Model):
    assert choose_format(large).name == "pickle-buffers"
    assert choose_format(knn_model(500)).name == "joblib"


def test_the_arrays_of_a_pipeline_and_of_forests_count_toward_large(large: Model):
    """A trainer's model is a pipeline (preparation, then the estimator): its estimator's arrays count, and so do
    the node arrays of a forest's trees, which are no attributes of theirs."""
    from emberflow.engine.formats.sklearn import array_bytes
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    wrapped = Model(obj=make_pipeline(StandardScaler(), large.obj), engine="sklearn", features=large.features)
    assert choose_format(wrapped).name == "pickle-buffers"
    X = np.random.default_rng(1).normal(size=(2000, 4))
    forest = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)).fit(
        X, X[:, 0] > 0)
    nodes = sum(tree.tree_.node_count for tree in forest[-1].estimators_)
    assert array_bytes(forest) >= nodes * 64


def test_a_large_model_round_trips_through_the_store_with_its_arrays_in_pieces(tmp_path, large: Model):
    store = ModelStore(tmp_path)
    ref, manifest = save_to_store(store, large, "big", "auto", {})
    layout = manifest["out_of_band"]
    assert manifest["format"] == "pickle-buffers"
    assert sorted(manifest["files"]) == sorted(["model.pkl", *layout["files"]])
    assert len(layout["files"]) == -(-sum(n + (-n) % 64 for n in layout["lengths"]) // PIECE_BYTES) >= 3
    assert all(n >= OUT_OF_BAND_BYTES for n in layout["lengths"]) and large.obj._fit_X.nbytes in layout["lengths"]
    for rel, meta in manifest["files"].items():
        assert meta["sha256"] == integrity.sha256_file(ref.path / rel)
    assert (ref.path / "model.pkl").stat().st_size < large.obj._fit_X.nbytes // 10  # nor the large arrays
    loaded, _ref, _manifest = load_from_store(store, "big", Sessions())
    probe = np.random.default_rng(1).normal(size=(50, 8))
    np.testing.assert_array_equal(loaded.obj.predict_proba(probe), large.obj.predict_proba(probe))
    np.testing.assert_array_equal(loaded.obj._fit_X, large.obj._fit_X)
    assert loaded.obj._fit_X.flags.writeable and loaded.obj._fit_X.flags.aligned


def test_a_changed_piece_of_a_pickle_buffers_model_is_refused_before_unpickling(tmp_path, large: Model,
                                                                               loads: list[str]):
    store = ModelStore(tmp_path)
    ref, manifest = save_to_store(store, large, "big", "pickle-buffers", {})
    for rel in manifest["out_of_band"]["files"]:
        path = ref.path / rel
        original = path.read_bytes()
        changed = bytearray(original)
        changed[len(changed) // 3] ^= 0x01
        path.write_bytes(bytes(changed))
        with pytest.raises(IntegrityError, match=rf"model big@1 does not match .*: {rel}: SHA-256 differs"):
            load_from_store(store, "big", Sessions())
        path.write_bytes(original)
    assert loads == []


def _lengths_off_by_64(folder: Path, manifest: dict) -> None:
    manifest["out_of_band"]["lengths"][0] += 64


def _stream_gone(folder: Path, manifest: dict) -> None:
    manifest["files"].pop("model.pkl")
    (folder / "model.pkl").unlink()


@pytest.mark.parametrize("edit, message", [
    (_lengths_off_by_64, r"out-of-band lengths add up to \d+ bytes, its pieces hold \d+"),
    (_stream_gone, r"the manifest lists no model.pkl, the pickle stream"),
])
def test_a_pickle_buffers_manifest_that_disagrees_with_its_files_is_refused(tmp_path, large: Model, edit, message):
    import json

    store = ModelStore(tmp_path)
    ref, manifest = save_to_store(store, large, "big", "pickle-buffers", {})
    edit(ref.path, manifest)
    (ref.path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match=message):
        load_from_store(store, "big", Sessions())


def test_pickle_format_keeps_a_large_model_in_one_plain_pickle_file(tmp_path, large: Model):
    import pickle

    store = ModelStore(tmp_path)
    ref, manifest = save_to_store(store, large, "big", "pickle", {})
    assert list(manifest["files"]) == ["model.pkl"]
    with open(ref.path / "model.pkl", "rb") as handle:
        np.testing.assert_array_equal(pickle.load(handle)._fit_X, large.obj._fit_X)


def test_read_verified_files_lays_several_checked_files_end_to_end(tmp_path):
    parts = [os.urandom(n) for n in (5 * 2**20 + 3, 0, 17, 2**20)]
    files = []
    for index, data in enumerate(parts):
        (tmp_path / f"p{index}").write_bytes(data)
        files.append((tmp_path / f"p{index}", {"sha256": sha256(data), "size": len(data)}, f"p{index}"))
    assert bytes(read_verified_files(files)) == b"".join(parts)
    (tmp_path / "p3").write_bytes(parts[3][:-1] + b"x")
    with pytest.raises(IntegrityError, match="p3: SHA-256 differs from the manifest"):
        read_verified_files(files)
    files[1] = (tmp_path / "p1", {"sha256": sha256(b""), "size": None}, "p1")
    with pytest.raises(IntegrityError, match="p1: the manifest gives no size for it"):
        read_verified_files(files)


def test_mmap_loads_a_checked_joblib_model_with_mapped_arrays(tmp_path):
    store = ModelStore(tmp_path)
    model = knn_model(2000)
    ref, _manifest = save_to_store(store, model, "m", "joblib", {})
    loaded, _ref, _manifest = load_from_store(store, "m", Sessions(), options={"mmap": True})
    assert isinstance(loaded.obj._fit_X, np.memmap)
    np.testing.assert_array_equal(loaded.obj._fit_X, model.obj._fit_X)
    artifact = ref.path / "model.joblib"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="model.joblib: SHA-256 differs from the manifest"):
        load_from_store(store, "m", Sessions(), options={"mmap": True})


def test_mmap_on_a_pickle_model_warns_and_loads_it(tmp_path):
    store = ModelStore(tmp_path)
    save_to_store(store, knn_model(500), "m", "pickle", {})
    warnings: list[str] = []
    loaded, _ref, _manifest = load_from_store(store, "m", Sessions(), options={"mmap": True}, warn=warnings.append)
    assert loaded.obj.n_samples_fit_ == 500
    assert warnings == ["mmap applies to joblib models; this pickle model is read into memory"]


def test_mojo_input_is_written_by_arrow_and_reads_as_pandas_would_write_it(tmp_path):
    import pandas as pd
    from emberflow.engine.formats.h2o import mojo_csv

    numbers = pd.DataFrame({"a": [1.0, np.nan, 0.1, 2.5e-7], "b": pd.array([1, None, 3, 4], dtype="Int64")})
    text = pd.DataFrame({"a": [1.0, 2.0], "colour": ["red", "a, b"]})
    for name, frame in (("numbers.csv", numbers), ("text.csv", text)):
        (tmp_path / name).write_bytes(mojo_csv(frame))
        frame.to_csv(tmp_path / f"pandas-{name}", index=False, na_rep="")
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(tmp_path / f"pandas-{name}"))
    assert (tmp_path / "numbers.csv").read_text().splitlines()[:2] == ["a,b", "1,1"]
    assert (tmp_path / "text.csv").read_bytes() == (tmp_path / "pandas-text.csv").read_bytes()
