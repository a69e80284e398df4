"""The store's promises for H2O versions (a binary and a MOJO, or a MOJO alone): tampering with each file is
refused by name before H2O sees it, and a binary written by another H2O version is never opened: its MOJO is
used instead, saying so."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import IntegrityError, VersionMismatch
from emberflow.engine.models import load_from_store
from emberflow.engine.signing import KEY_ENV
from emberflow.engine.store import ModelStore
from reliability.helpers import train_and_save

pytestmark = pytest.mark.h2o
OLDER = "3.44.0.3"


@pytest.fixture(scope="module")
def pristine(h2o_engine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with ``m`` saved as format h2o (binary and MOJO) and ``mojo`` as a MOJO alone."""
    root = tmp_path_factory.mktemp("h2o-store")
    train_and_save("h2o", root, "m", "h2o")
    train_and_save("h2o", root, "mojo", "mojo")
    return root


@pytest.fixture
def store(pristine: Path, tmp_path: Path) -> ModelStore:
    shutil.copytree(pristine, tmp_path / "store")
    return ModelStore(tmp_path / "store")


@pytest.fixture
def uploads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What was put into the H2O cluster: ``binary`` (h2o.upload_model) or ``mojo`` (h2o.upload_mojo)."""
    import h2o

    seen: list[str] = []
    for function, kind in (("upload_model", "binary"), ("upload_mojo", "mojo")):
        original = getattr(h2o, function)

        def spy(*args, _original=original, _kind=kind, **kwargs):
            seen.append(_kind)
            return _original(*args, **kwargs)

        monkeypatch.setattr(h2o, function, spy)
    return seen


def edit(store: ModelStore, name: str, change) -> None:
    path = store.resolve(name).path / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("name, files", [("m", {"model.h2o", "model.zip"}), ("mojo", {"model.zip"})])
def test_each_changed_missing_or_added_file_is_refused_before_h2o_sees_it(store: ModelStore, loads: list[str],
                                                                          uploads: list[str], name: str,
                                                                          files: set[str]):
    folder = store.resolve(name).path
    assert set(store.manifest(store.resolve(name))["files"]) == files

    def refused(match: str) -> None:
        with pytest.raises(IntegrityError, match=match):
            load_from_store(store, name, Sessions())
        assert loads == [] and uploads == []

    for rel in sorted(files):
        original = (folder / rel).read_bytes()
        changed = bytearray(original)
        changed[len(changed) // 3] ^= 0x04
        (folder / rel).write_bytes(bytes(changed))
        refused(rf"{rel}: SHA-256 differs from the manifest")
        (folder / rel).unlink()
        refused(rf"{rel}: missing")
        (folder / rel).write_bytes(original)
    (folder / "model.h2o.bak").write_bytes(b"\0")
    refused(r"model.h2o.bak: not listed in the manifest")
    (folder / "model.h2o.bak").unlink()
    edit(store, name, lambda m: m["files"]["model.zip"].update(size=1))
    refused(r"model.zip: size \d+ differs from the manifest's 1")


def test_a_signed_h2o_version_refuses_an_edited_preference(h2o_engine, tmp_path: Path, loads: list[str],
                                                           monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(KEY_ENV, "team key")
    store = ModelStore(tmp_path / "signed")
    train_and_save("h2o", store.root, "m", "h2o")
    edit(store, "m", lambda m: m["h2o"].update(prefer="mojo"))
    with pytest.raises(IntegrityError, match="signature does not match"):
        load_from_store(store, "m", Sessions())
    assert loads == []


def recorded_as(version: str, where: str):
    """A manifest edit recording ``version`` as the H2O that wrote the files: in ``libraries``, where emberflow
    records it, or in the h2o section alone, where manifests written before kept it."""
    def change(manifest: dict) -> None:
        if where == "libraries":
            manifest["libraries"]["h2o"] = version
        else:
            del manifest["libraries"]["h2o"]
            manifest["h2o"]["version"] = version
    return change


def test_the_h2o_version_is_recorded_in_libraries(store: ModelStore):
    import h2o

    for name in ("m", "mojo"):
        manifest = store.manifest(store.resolve(name))
        assert manifest["libraries"] == {"h2o": h2o.__version__} and "version" not in manifest["h2o"]


@pytest.mark.parametrize("where", ["libraries", "h2o section"])
def test_a_binary_of_the_running_h2o_is_opened_wherever_its_version_is_recorded(store: ModelStore,
                                                                                uploads: list[str],
                                                                                sessions: Sessions, where: str):
    import h2o

    edit(store, "m", recorded_as(h2o.__version__, where))
    warnings: list[str] = []
    model, _ref, _ = load_from_store(store, "m", sessions, warn=warnings.append)
    assert (model.obj.use, model.obj.written_by, warnings) == ("binary", h2o.__version__, [])


@pytest.mark.parametrize("where", ["libraries", "h2o section"])
def test_a_binary_from_an_older_h2o_is_never_opened_its_mojo_is(store: ModelStore, uploads: list[str],
                                                                sessions: Sessions, where: str):
    import h2o

    edit(store, "m", recorded_as(OLDER, where))
    warnings: list[str] = []
    model, _ref, _ = load_from_store(store, "m", sessions, warn=warnings.append)
    assert model.obj.use == "mojo"
    assert len(warnings) == 1 and f"written by H2O {OLDER}" in warnings[0]
    assert f"running {h2o.__version__}" in warnings[0] and "using its MOJO instead" in warnings[0]
    assert model.obj.estimator().algo == "generic"
    assert uploads == ["mojo"], "the binary was put into H2O"


def test_an_older_binary_alone_is_refused_before_h2o_opens_it(h2o_engine, tmp_path: Path, uploads: list[str],
                                                              sessions: Sessions):
    store = ModelStore(tmp_path / "store")
    train_and_save("h2o", store.root, "bin", "h2o-binary")
    edit(store, "bin", recorded_as(OLDER, "libraries"))
    with pytest.raises(VersionMismatch, match=rf"written by H2O {OLDER}.*no MOJO beside it"):
        load_from_store(store, "bin", sessions).obj.estimator()
    assert uploads == []


@pytest.mark.parametrize("name", ["m", "mojo"])
@pytest.mark.parametrize("where", ["libraries", "h2o section"])
def test_strict_versions_refuses_another_minor_h2o_whichever_file_would_load(store: ModelStore, loads: list[str],
                                                                             uploads: list[str], name: str,
                                                                             where: str):
    """Binary and MOJO, or a MOJO alone: without strict_versions the MOJO loads; with it, another minor version
    of H2O is refused before anything is read, as any library's is, and the advice (strict_versions: false)
    works."""
    import h2o

    edit(store, name, recorded_as(OLDER, where))
    with pytest.raises(VersionMismatch) as refused:
        load_from_store(store, name, Sessions(), strict_versions=True)
    assert str(refused.value) == (f"model saved with h2o {OLDER}, running h2o {h2o.__version__}; strict_versions "
                                  f"is on, so it is not loaded (install h2o=={OLDER} or set strict_versions: false)")
    assert loads == [] and uploads == []
    model, _ref, _ = load_from_store(store, name, Sessions(), strict_versions=False, warn=lambda message: None)
    assert model.obj.use == "mojo"


def with_header_version(binary: bytes, version: str) -> bytes:
    """An H2O binary whose header names ``version``: 1C ED, the length plus one, the version's bytes."""
    assert binary[:2] == b"\x1c\xed"
    rest = binary[3 + binary[2] - 1:]
    return b"\x1c\xed" + bytes([len(version) + 1]) + version.encode() + rest


def with_mojo_version(mojo: Path, target: Path, version: str) -> Path:
    """A copy of the MOJO zip whose model.ini names ``version`` as its h2o_version."""
    import re
    import zipfile

    with zipfile.ZipFile(mojo) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "model.ini":
                data = re.sub(rb"h2o_version = \S+", b"h2o_version = " + version.encode(), data)
            copy.writestr(item, data)
    return target


def test_a_plain_h2o_binary_is_gated_by_the_version_in_its_header(store: ModelStore, tmp_path: Path,
                                                                   uploads: list[str], sessions: Sessions):
    """No manifest beside it: H2O's header names the version, read without H2O; one of another version is refused
    before H2O opens it (it would not load), as the store refuses a binary alone."""
    import h2o
    from emberflow.engine.formats.h2o import binary_version
    from emberflow.engine.models import load_from_path

    written = store.resolve("m").path / "model.h2o"
    plain = tmp_path / "plain.h2o"
    shutil.copy(written, plain)
    assert binary_version(plain) == h2o.__version__
    warnings: list[str] = []
    model = load_from_path(plain, sessions, strict_versions=True, warn=warnings.append)
    assert (model.obj.use, model.obj.written_by, warnings) == ("binary", h2o.__version__, [])
    older = tmp_path / "older.h2o"
    older.write_bytes(with_header_version(written.read_bytes(), OLDER))
    assert binary_version(older) == OLDER
    with pytest.raises(VersionMismatch, match=rf"is an H2O binary written by H2O {OLDER}.*no MOJO beside it"):
        load_from_path(older, sessions)
    assert uploads == []


def test_a_plain_mojo_is_gated_by_the_version_its_model_ini_names(store: ModelStore, tmp_path: Path,
                                                                  uploads: list[str], loads: list[str],
                                                                  sessions: Sessions):
    import h2o
    from emberflow.engine.formats.h2o import mojo_version
    from emberflow.engine.models import load_from_path

    written = store.resolve("mojo").path / "model.zip"
    assert mojo_version(written) == h2o.__version__
    older = with_mojo_version(written, tmp_path / "older.zip", OLDER)
    with pytest.raises(VersionMismatch, match=rf"model saved with h2o {OLDER}.*strict_versions is on"):
        load_from_path(older, sessions, strict_versions=True)
    assert loads == [] and uploads == []
    model = load_from_path(older, sessions, warn=lambda message: None)
    assert (model.obj.use, model.obj.written_by) == ("mojo", OLDER)
