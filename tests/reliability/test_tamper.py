"""Promise 3: every stored format refuses a changed, missing or added file and an edited manifest, naming
what changed, before its deserializer runs; with a signing key, any manifest edit is refused; skops files
are held to emberflow's own list of trusted types."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import IntegrityError, UserError
from emberflow.engine.formats import get_format
from emberflow.engine.model import Model
from emberflow.engine.models import load_from_path, load_from_store, save_to_path, save_to_store
from emberflow.engine.signing import KEY_ENV
from emberflow.engine.store import ModelStore

from .helpers import lr_model

SKLEARN_FORMATS = ["joblib", "pickle", "pickle-buffers", "params", "skops"]


class Payload:
    """Unpickling this creates ``marker``: proof of whether a file was deserialized."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def saved(tmp_path: Path, format_name: str) -> tuple[ModelStore, Path, dict]:
    store = ModelStore(tmp_path / "store")
    ref, manifest = save_to_store(store, lr_model(), "m", format_name, {})
    return store, ref.path, manifest


def refused(store: ModelStore, loads: list[str], match: str) -> None:
    with pytest.raises(IntegrityError, match=match):
        load_from_store(store, "m", Sessions())
    assert loads == [], "a deserializer ran before the refusal"


def edit_manifest(folder: Path, change) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2))


@pytest.mark.parametrize("format_name", SKLEARN_FORMATS)
def test_an_untouched_version_loads(tmp_path: Path, loads: list[str], format_name: str):
    store, _folder, _manifest = saved(tmp_path, format_name)
    model, _ref, _ = load_from_store(store, "m", Sessions())
    assert loads == [format_name] and model.classes == ["no", "yes"]


@pytest.mark.parametrize("format_name", SKLEARN_FORMATS)
def test_a_flipped_byte_in_each_file_is_refused(tmp_path: Path, loads: list[str], format_name: str):
    store, folder, manifest = saved(tmp_path, format_name)
    for rel in manifest["files"]:
        path = folder / rel
        original = path.read_bytes()
        for offset in (0, len(original) // 2, len(original) - 1):
            data = bytearray(original)
            data[offset] ^= 0x20
            path.write_bytes(bytes(data))
            refused(store, loads, rf"{rel}: SHA-256 differs from the manifest")
        path.write_bytes(original)


@pytest.mark.parametrize("format_name", SKLEARN_FORMATS)
def test_a_deleted_or_added_file_is_refused(tmp_path: Path, loads: list[str], format_name: str):
    store, folder, manifest = saved(tmp_path, format_name)
    (folder / "sneaked-in.py").write_text("print('hello')")
    refused(store, loads, r"sneaked-in.py: not listed in the manifest")
    (folder / "sneaked-in.py").unlink()
    for rel in manifest["files"]:
        (folder / rel).rename(tmp_path / "aside")
        refused(store, loads, rf"{rel}: missing")
        (tmp_path / "aside").rename(folder / rel)


@pytest.mark.parametrize("format_name", SKLEARN_FORMATS)
def test_manifest_edits_that_break_the_hashes_are_refused_without_a_key(tmp_path: Path, loads: list[str],
                                                                        format_name: str):
    store, folder, manifest = saved(tmp_path, format_name)
    rel = next(iter(manifest["files"]))
    edit_manifest(folder, lambda m: m["files"][rel].update(sha256="0" * 64))
    refused(store, loads, rf"{rel}: SHA-256 differs from the manifest")
    edit_manifest(folder, lambda m: m["files"].pop(rel))
    refused(store, loads, rf"{rel}: not listed in the manifest")
    (folder / "manifest.json").write_text("{not json")
    refused(store, loads, r"manifest.json is not readable JSON")


@pytest.mark.parametrize("format_name", SKLEARN_FORMATS)
def test_with_a_key_any_manifest_edit_is_refused(tmp_path: Path, loads: list[str], format_name: str,
                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, "a secret only the team knows")
    store, folder, manifest = saved(tmp_path, format_name)
    assert manifest["signature"].startswith("hmac-sha256:")
    edit_manifest(folder, lambda m: m.update(classes=["yes", "no"]))  # the files still match
    refused(store, loads, r"manifest.json's signature does not match")
    edit_manifest(folder, lambda m: m.pop("signature"))
    refused(store, loads, r"manifest.json is not signed, but EMBERFLOW_SIGNING_KEY is set")
    monkeypatch.setenv(KEY_ENV, "another key")
    edit_manifest(folder, lambda m: m.update(classes=["no", "yes"], signature=manifest["signature"]))
    refused(store, loads, r"signed with another key")
    monkeypatch.setenv(KEY_ENV, "a secret only the team knows")
    model, _ref, _ = load_from_store(store, "m", Sessions())
    assert loads == [format_name] and model.classes == ["no", "yes"]


def test_models_verify_checks_the_signature(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, "k1")
    store, folder, _manifest = saved(tmp_path, "joblib")
    assert cli("models", "verify", "--store", store.root).code == 0
    edit_manifest(folder, lambda m: m.update(label="other"))
    result = cli("models", "verify", "--store", store.root)
    assert result.code == 1 and "m@1: FAILED: manifest.json's signature does not match" in result.out


@pytest.mark.parametrize("format_name", ["joblib", "pickle"])
def test_a_malicious_pickle_with_a_matching_manifest_never_runs_under_a_key(
        tmp_path: Path, format_name: str, monkeypatch: pytest.MonkeyPatch):
    """Someone who can write to the store replaces the model and rewrites its hash: only a signature stops it."""
    monkeypatch.setenv(KEY_ENV, "a secret only the team knows")
    store, folder, manifest = saved(tmp_path, format_name)
    marker = tmp_path / "pwned"
    rel = manifest["artifact"]
    (folder / rel).write_bytes(pickle.dumps(Payload(marker)))
    from emberflow.engine.integrity import file_digests

    edit_manifest(folder, lambda m: m.update(files=file_digests(folder)))
    with pytest.raises(IntegrityError, match="signature does not match"):
        load_from_store(store, "m", Sessions())
    assert not marker.exists()
    monkeypatch.delenv(KEY_ENV)  # without a key the rewritten manifest is consistent: the payload would run
    model, _ref, _ = load_from_store(store, "m", Sessions())
    assert model.obj == 0, "os.system's return value came back as the 'model'"
    assert marker.exists(), "the test's payload is real"


def test_a_signed_plain_path_sidecar_refuses_edits(tmp_path: Path, loads: list[str],
                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, "k")
    path = tmp_path / "model.skops"
    save_to_path(lr_model(), path, "skops", {})
    sidecar = tmp_path / "model.skops.manifest.json"
    assert json.loads(sidecar.read_text())["signature"].startswith("hmac-sha256:")
    assert load_from_path(path, Sessions()).classes == ["no", "yes"]
    manifest = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**manifest, "label": "x"}))
    loads.clear()
    with pytest.raises(IntegrityError, match="signature does not match"):
        load_from_path(path, Sessions())
    assert loads == []


def test_skops_refuses_types_outside_emberflows_list_naming_them(tmp_path: Path, loads: list[str]):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    base = lr_model()
    evil = make_pipeline(FunctionTransformer(os.system), LogisticRegression())  # would call os.system
    store = ModelStore(tmp_path / "store")
    save_to_store(store, Model(obj=evil, engine="sklearn", features=["a"]), "evil", "skops", {})
    with pytest.raises(UserError, match=r"holds types that emberflow does not trust, so it is not loaded: "
                                        r"posix.system"):
        load_from_store(store, "evil", Sessions())
    path = tmp_path / "plain.skops"  # from a plain path: no trust: true needed, the same refusal
    save_to_path(Model(obj=evil, engine="sklearn", features=["a"]), path, "skops", {})
    with pytest.raises(UserError, match="posix.system"):
        load_from_path(path, Sessions())
    save_to_path(base, tmp_path / "ok.skops", "skops", {})
    assert load_from_path(tmp_path / "ok.skops", Sessions()).obj.classes_.tolist() == ["no", "yes"]


def test_a_nearest_neighbours_model_round_trips_through_skops(tmp_path: Path):
    import numpy as np
    from sklearn.neighbors import KNeighborsClassifier

    X = np.random.default_rng(0).normal(size=(200, 3))
    knn = KNeighborsClassifier().fit(X, X[:, 0] > 0)
    store = ModelStore(tmp_path)
    save_to_store(store, Model(obj=knn, engine="sklearn", features=["a", "b", "c"]), "knn", "skops", {})
    model, _ref, manifest = load_from_store(store, "knn", Sessions())
    assert manifest["libraries"]["skops"] != "not installed"
    assert (model.obj.predict(X) == knn.predict(X)).all()


def test_trust_is_never_read_from_the_artifact(tmp_path: Path):
    """A sidecar manifest claiming a safe format for a pickle does not get it loaded without trust: true."""
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Payload(marker)))
    from emberflow.engine.integrity import file_digests

    for claimed in ("pickle", "params", "skops"):
        manifest = {"format": claimed, "trust": True, "trusted": True, "files": file_digests(tmp_path)}
        (tmp_path / "model.pkl.manifest.json").write_text(json.dumps(manifest))
        with pytest.raises((UserError, IntegrityError)):
            load_from_path(path, Sessions())
        assert not marker.exists(), claimed
        (tmp_path / "model.pkl.manifest.json").unlink()
    assert get_format("pickle").runs_code_on_load


def test_with_a_key_an_alias_pointed_elsewhere_by_hand_is_refused(tmp_path: Path, cli,
                                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, "k1")
    store = ModelStore(tmp_path / "store")
    for _ in range(2):
        save_to_store(store, lr_model(), "m", "joblib", {})
    store.set_alias("m", 2, "production")
    assert store.resolve("m@production").version == 2 and store.alias_problems("m") == []
    path = store.root / "m" / "aliases.json"
    held = json.loads(path.read_text())
    held["aliases"]["production"] = 1  # a rollback to an older, properly signed version
    path.write_text(json.dumps(held))
    with pytest.raises(IntegrityError, match=r"model 'm': aliases.json's signature does not match: .*; refusing "
                                             r"to resolve alias 'production' \(set it again with the key"):
        store.resolve("m@production")
    assert store.resolve("m@2").version == 2  # versions by number are unaffected
    result = cli("models", "verify", "--store", store.root)
    assert result.code == 1 and "m aliases: FAILED: aliases.json's signature does not match" in result.out
    store.set_alias("m", 1, "production")  # set again by someone holding the key
    assert store.resolve("m@production").version == 1
    assert cli("models", "verify", "--store", store.root).code == 0


def test_with_a_key_unsigned_or_borrowed_aliases_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = ModelStore(tmp_path / "store")
    for name in ("m", "other"):
        save_to_store(store, lr_model(), name, "joblib", {})
    (store.root / "m" / "aliases.json").write_text(json.dumps({"production": 1}))  # an older store's plain map
    assert store.resolve("m@production").version == 1  # read as before without a key
    monkeypatch.setenv(KEY_ENV, "k1")
    with pytest.raises(IntegrityError, match=r"aliases.json is not signed, but EMBERFLOW_SIGNING_KEY is set"):
        store.resolve("m@production")
    store.set_alias("other", 1, "production")
    (store.root / "m" / "aliases.json").write_bytes((store.root / "other" / "aliases.json").read_bytes())
    with pytest.raises(IntegrityError, match=r"aliases.json belongs to model 'other', not 'm'"):
        store.resolve("m@production")


@pytest.mark.parametrize("key", [None, "k1"])
@pytest.mark.parametrize("copied_from", ["other/1", "m/1"])
def test_a_version_folder_copied_by_hand_into_the_next_number_is_refused(
        tmp_path: Path, cli, loads: list[str], monkeypatch: pytest.MonkeyPatch, key: str | None, copied_from: str):
    """A whole, signed version of another model (or an old version of this one) copied in as version 3 would be
    the latest: its manifest's name and version, which the signature covers, must be those of its place."""
    if key:
        monkeypatch.setenv(KEY_ENV, key)
    store = ModelStore(tmp_path / "store")
    for name in ("m", "m", "other"):
        save_to_store(store, lr_model(), name, "joblib", {})
    shutil.copytree(store.root / copied_from, store.root / "m" / "3")
    said = copied_from.replace("/", "' version ")
    refused(store, loads, rf"m@3: manifest.json is of model '{said}, not of m@3 where it sits \(a version folder "
                          r"copied or renamed by hand\); refusing to use it \(to copy a version between models or "
                          r"stores: emberflow models download, then emberflow models import\)")
    result = cli("models", "verify", "--store", store.root)
    assert result.code == 1 and f"m@3: FAILED: manifest.json is of model '{said}, not of m@3" in result.out
    assert "m@1: ok" in result.out and "m@2: ok" in result.out and "other@1: ok" in result.out
    edit_manifest(store.root / "m" / "3", lambda m: m.update(name="m", version=3))
    if key:  # the name and the version are signed: making them match breaks the signature
        refused(store, loads, r"model m@3 does not match its manifest, .*: manifest.json's signature does not match")
    else:  # without a key a manifest can be rewritten at will (README: what signing adds)
        assert load_from_store(store, "m", Sessions())[1].version == 3
    assert load_from_store(store, "m@2", Sessions())[1].version == 2, "the other versions still load"
