"""Store commands beyond saving: versions as zips and back (checked, zip-slip proof), delete, prune with
retention, verify, and the run listing, mostly through the CLI as a user runs them."""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path

import pytest
from emberflow.engine.archive import export_zip, import_zip
from emberflow.engine.errors import IntegrityError, UserError
from emberflow.engine.store import ModelStore

# A version shaped like a Spark ML model: a directory tree, several files per folder.
SPARK_LIKE = {
    "model/metadata/part-00000": b'{"class":"org.apache.spark.ml.PipelineModel"}\n',
    "model/metadata/_SUCCESS": b"",
    "model/stages/0_vec/metadata/part-00000": b'{"class":"VectorAssembler"}\n',
    "model/stages/1_lr/data/part-00000.parquet": bytes(range(256)) * 8,
    "features.json": b'["a", "b"]',
}


def save_tree(store: ModelStore, name: str, files: dict[str, bytes] = SPARK_LIKE, **extra) -> int:
    def write(folder: Path) -> dict:
        for rel, data in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        return {"format": "spark-ml", "engine": "spark", "metrics": {"auc": 0.9}, **extra}

    return store.save(name, write).version


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(root: Path) -> list[str]:
    """Hidden temporary files or folders anywhere in the store: a refused import must leave none."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(".tmp-*"))


# ----- download / import -----

def test_download_then_import_gives_a_version_that_verifies_and_scores(cli, project: Path):
    assert cli("run", "workflows/train.yaml", "--quiet").code == 0
    made = cli("models", "download", "diabetes-lr@1", "-o", "exports/diabetes.zip")
    assert made.code == 0, made.err
    assert "diabetes-lr@1 -> exports/diabetes.zip" in made.out

    second = project / "second"
    save_tree(ModelStore(second), "diabetes-lr")  # the other store already has a version 1 of that name
    imported = cli("models", "import", "exports/diabetes.zip", "--store", second)
    assert imported.code == 0, imported.err
    assert "as diabetes-lr@2 (exported as diabetes-lr@1" in imported.out

    original = ModelStore(project / "models").manifest(ModelStore(project / "models").resolve("diabetes-lr@1"))
    copy = ModelStore(second).manifest(ModelStore(second).resolve("diabetes-lr@2"))
    assert copy["files"] == original["files"]
    assert copy["imported_from"] == {"name": "diabetes-lr", "version": 1}
    assert copy["metrics"] == original["metrics"] and copy["format"] == original["format"]

    shown = cli("models", "show", "diabetes-lr@2", "--store", second)
    assert "imported from: diabetes-lr@1 of another store" in shown.out

    verified = cli("models", "verify", "--store", second)
    assert verified.code == 0, verified.out
    assert "diabetes-lr@2: ok (1 file)" in verified.out

    scored = cli("run", "workflows/score.yaml", "--store", second, "--var", "model=diabetes-lr@2",
                 "--var", "out=scored-from-second", "--json")
    assert scored.code == 0, scored.err
    rows = (project / "scored-from-second" / "scored_new.csv").read_text().splitlines()
    assert "prediction" in rows[0] and len(rows) > 1
    assert scored.json()["steps"][0]["status"] == "ok"


def test_the_zip_holds_the_manifest_and_every_file_of_a_directory_model(tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    save_tree(store, "spark-lr")
    ref = store.resolve("spark-lr@1")
    target = export_zip(store, ref, tmp_path / "out" / "m.zip")
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        archive.extractall(tmp_path / "unzipped")
    manifest = store.manifest(ref)
    assert names == sorted(["spark-lr-1/manifest.json"] + [f"spark-lr-1/{rel}" for rel in manifest["files"]])
    folder = tmp_path / "unzipped" / "spark-lr-1"
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    for rel, meta in manifest["files"].items():
        assert sha256(folder / rel) == meta["sha256"] and (folder / rel).stat().st_size == meta["size"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["m.zip"], "no temporary file is left beside it"


def test_a_directory_model_round_trips_into_another_store(tmp_path: Path):
    first, second = ModelStore(tmp_path / "a"), ModelStore(tmp_path / "b")
    save_tree(first, "spark-lr")
    export_zip(first, first.resolve("spark-lr"), tmp_path / "m.zip")
    ref = import_zip(second, tmp_path / "m.zip", name="renamed")
    assert (ref.name, ref.version) == ("renamed", 1)
    for rel, data in SPARK_LIKE.items():
        assert (ref.path / rel).read_bytes() == data


def test_export_refuses_a_damaged_version(tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    save_tree(store, "m")
    (store.resolve("m").path / "features.json").write_bytes(b'["a", "c"]')
    with pytest.raises(IntegrityError, match="features.json does not match its SHA-256"):
        export_zip(store, store.resolve("m"), tmp_path / "m.zip")
    assert not (tmp_path / "m.zip").exists()


def rewrite_zip(source: Path, target: Path, change=None, add: list[tuple[zipfile.ZipInfo | str, bytes]] = ()):
    """A copy of a downloaded zip with one member's bytes changed and/or members added."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, change(info.filename, data) if change else data)
        for info, data in add:
            dst.writestr(info, data)
    return target


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    store = ModelStore(tmp_path / "source")
    save_tree(store, "m")
    return export_zip(store, store.resolve("m"), tmp_path / "m.zip")


def symlink_member(name: str, points_to: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, points_to.encode()


@pytest.mark.parametrize("member", ["../evil", "m-1/../../evil", "m-1/model/../../../evil", "ABSOLUTE",
                                    "SYMLINK"])
def test_import_refuses_members_that_would_land_outside(tmp_path: Path, exported: Path, cli, member: str):
    outside = tmp_path / "outside"
    outside.mkdir()
    if member == "ABSOLUTE":
        added = [(str(outside / "evil"), b"owned")]
    elif member == "SYMLINK":
        added = [symlink_member("m-1/link", str(outside))]
    else:
        added = [(member, b"owned")]
    bad = rewrite_zip(exported, tmp_path / "bad.zip", add=added)
    with zipfile.ZipFile(bad) as archive:  # the hostile name really is in the zip
        assert any(i.filename.endswith(("evil", "link")) for i in archive.infolist())
    target = tmp_path / "target"
    result = cli("models", "import", bad, "--store", target)
    assert result.code == 2
    assert "refusing the whole zip, nothing written" in result.err
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "evil").exists() and not (tmp_path.parent / "evil").exists()
    assert not target.exists() or (ModelStore(target).names() == [] and leftovers(target) == [])


def test_import_refuses_a_file_that_does_not_match_the_manifest(tmp_path: Path, exported: Path):
    def tamper(name: str, data: bytes) -> bytes:
        return b'["a", "z"]' if name.endswith("features.json") else data

    bad = rewrite_zip(exported, tmp_path / "bad.zip", change=tamper)
    store = ModelStore(tmp_path / "target")
    with pytest.raises(IntegrityError, match="features.json: SHA-256 differs from the manifest"):
        import_zip(store, bad)
    assert store.versions("m") == [] and leftovers(store.root) == []


def test_import_refuses_a_file_the_manifest_does_not_list(tmp_path: Path, exported: Path):
    bad = rewrite_zip(exported, tmp_path / "bad.zip", add=[("m-1/extra.py", b"import os")])
    with pytest.raises(IntegrityError, match="not listed: extra.py"):
        import_zip(ModelStore(tmp_path / "target"), bad)


def test_import_refuses_a_zip_without_a_manifest_and_a_file_that_is_no_zip(tmp_path: Path):
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("x/model.bin", b"data")
    with pytest.raises(UserError, match="expected one folder holding manifest.json"):
        import_zip(ModelStore(tmp_path / "t"), plain)
    (tmp_path / "text.zip").write_text("not a zip")
    with pytest.raises(UserError, match="is not a zip file"):
        import_zip(ModelStore(tmp_path / "t"), tmp_path / "text.zip")


# ----- delete and prune -----

def test_prune_keeps_the_two_newest_and_every_aliased_version(cli, tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    for _ in range(6):
        save_tree(store, "m")
    assert cli("models", "alias", "m", "2", "prod", "--store", store.root).code == 0
    dry = cli("models", "prune", "m", "--keep", "2", "--dry-run", "--store", store.root)
    assert dry.code == 0 and "would delete version 1, 3, 4" in dry.out
    assert store.versions("m") == [1, 2, 3, 4, 5, 6]
    pruned = cli("models", "prune", "m", "--keep", "2", "--store", store.root)
    assert pruned.code == 0, pruned.err
    assert store.versions("m") == [2, 5, 6]
    assert store.aliases("m") == {"prod": 2}
    assert leftovers(store.root) == []
    assert save_tree(store, "m") == 7, "a new save never takes a number that was used before"
    assert cli("models", "verify", "--store", store.root).code == 0


def test_delete_keeps_aliased_versions_unless_forced_and_never_reuses_a_number(cli, tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    for _ in range(3):
        save_tree(store, "m")
    store.set_alias("m", 3, "prod")
    refused = cli("models", "delete", "m@3", "--store", store.root)
    assert refused.code == 2 and "alias prod points to" in refused.err
    assert store.versions("m") == [1, 2, 3]
    forced = cli("models", "delete", "m@prod", "--force", "--store", store.root)
    assert forced.code == 0 and "deleted m@3 and the aliases pointing at it: prod" in forced.out
    assert store.versions("m") == [1, 2] and store.aliases("m") == {}
    assert save_tree(store, "m") == 4
    assert cli("models", "delete", "m", "--store", store.root).code == 2, "a bare name is not a version"
    assert cli("models", "delete", "m@9", "--store", store.root).code == 2


# ----- verify, list, files, runs -----

def test_verify_names_every_damaged_file_and_exits_1(cli, tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    save_tree(store, "m")
    save_tree(store, "m")
    folder = store.resolve("m@1").path
    (folder / "model/stages/1_lr/data/part-00000.parquet").write_bytes(b"changed")
    (folder / "model/metadata/part-00000").unlink()
    result = cli("models", "verify", "--store", store.root)
    assert result.code == 1
    assert "m@1: FAILED" in result.out
    assert "model/stages/1_lr/data/part-00000.parquet: size 7 differs" in result.out
    assert "model/metadata/part-00000: missing" in result.out
    assert "m@2: ok (5 files)" in result.out
    assert cli("models", "verify", "m@2", "--store", store.root).code == 0


def test_models_list_files_and_show(cli, tmp_path: Path):
    store = ModelStore(tmp_path / "store")
    save_tree(store, "m")
    save_tree(store, "m")
    store.set_alias("m", 1, "prod")
    listed = cli("models", "list", "--json", "--store", store.root).json()
    assert listed == [{"name": "m", "versions": [1, 2], "latest": 2, "aliases": {"prod": 1}, "format": "spark-ml",
                       "engine": "spark", "created": None, "size": sum(map(len, SPARK_LIKE.values())),
                       "problems": []}]
    table = cli("models", "list", "--store", store.root).out.splitlines()
    assert table[0].split() == ["name", "versions", "latest", "aliases", "format", "engine", "created", "size"]
    files = cli("models", "files", "m@prod", "--store", store.root)
    assert files.code == 0
    manifest = store.manifest(store.resolve("m@1"))
    for rel, meta in manifest["files"].items():
        assert any(line.split() == [rel, f"{meta['size']:,}", meta["sha256"]] for line in files.out.splitlines())
    shown = cli("models", "show", "m@1", "--store", store.root).out
    assert "versions of m: 1, 2; aliases of this version: prod" in shown
    assert "├── features.json  (10 bytes)" in shown and "└── model/" in shown
    assert "└── part-00000.parquet  (2,048 bytes)" in shown


def test_runs_list_and_show(cli, project: Path):
    assert cli("run", "workflows/train.yaml", "--quiet").code == 0
    runs = cli("runs", "list", "--json").json()
    assert len(runs) == 1 and runs[0]["status"] == "ok" and runs[0]["models"] == ["diabetes-lr@1"]
    assert runs[0]["workflow"] == "train-diabetes" and runs[0]["steps"] == 6
    shown = cli("runs", "show", runs[0]["run_id"][:20])
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0].startswith(f"run {runs[0]['run_id']}: ok")
    assert lines[1].split() == ["step", "node", "engine", "status", "seconds", "rows", "metrics"]
    assert any(line.split()[:4] == ["train", "TrainLR", "sklearn", "ok"] for line in lines)
    assert "split -> train (data)" in shown.out
    record = cli("runs", "show", runs[0]["run_id"], "--json").json()
    assert [s["id"] for s in record["steps"]] == ["read", "split", "train", "save", "score", "write"]
    missing = cli("runs", "show", "20000101")
    assert missing.code == 2 and "no single run" in missing.err


# ----- damaged and hostile zips: one line, exit 2, nothing written -----

def rewrite_manifest(source: Path, target: Path, edit) -> Path:
    """A copy of a downloaded zip whose manifest.json holds ``edit(manifest)`` (bytes, or JSON to dump)."""
    def change(name: str, data: bytes) -> bytes:
        if not name.endswith("/manifest.json"):
            return data
        edited = edit(json.loads(data))
        return edited if isinstance(edited, bytes) else json.dumps(edited).encode()

    return rewrite_zip(source, target, change=change)


def corrupt_member(source: Path, target: Path, member: str) -> Path:
    """A copy with eight bytes in the middle of one member's compressed data overwritten."""
    raw = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    raw[start:start + 8] = b"\xff" * 8
    target.write_bytes(bytes(raw))
    return target


def encrypted_member(source: Path, target: Path, member: str) -> Path:
    """A copy whose central directory marks one member as encrypted (flag bit 0x1), as an encrypting tool does."""
    rewrite_zip(source, target)
    with zipfile.ZipFile(target, "a") as archive:
        archive.getinfo(member).flag_bits |= 0x1
        archive._didModify = True  # the central directory is written again on close
    return target


def file_and_folder(source: Path, target: Path) -> Path:
    """``features.json`` both a file and the folder of ``features.json/x``, both listed in the manifest."""
    middle = rewrite_zip(source, target.with_name("middle.zip"), add=[("m-1/features.json/x", b"x")])

    def edit(manifest: dict) -> dict:
        manifest["files"]["features.json/x"] = {"sha256": hashlib.sha256(b"x").hexdigest(), "size": 1}
        return manifest

    return rewrite_manifest(middle, target, edit)


def nested(depth: int) -> bytes:
    return b'{"files": {"features.json": ' + b"[" * depth + b"]" * depth + b"}}"


DAMAGED = {
    "corrupt member": (lambda src, dst: corrupt_member(src, dst, "m-1/model/stages/1_lr/data/part-00000.parquet"),
                       "member 'm-1/model/stages/1_lr/data/part-00000.parquet' cannot be read ("),
    "encrypted member": (lambda src, dst: encrypted_member(src, dst, "m-1/features.json"),
                         "member 'm-1/features.json' is encrypted; refusing the whole zip"),
    "encrypted manifest": (lambda src, dst: encrypted_member(src, dst, "m-1/manifest.json"),
                           "member 'm-1/manifest.json' is encrypted; refusing the whole zip"),
    "file and folder": (file_and_folder, "'features.json' is both a file and the folder of 'features.json/x'"),
    "files entry not a mapping": (
        lambda src, dst: rewrite_manifest(src, dst, lambda m: {**m, "files": {**m["files"], "features.json": "x"}}),
        "manifest.json lists 'features.json' as \"x\"; expected {\"sha256\""),
    "files entry without a size": (
        lambda src, dst: rewrite_manifest(
            src, dst, lambda m: {**m, "files": {**m["files"], "features.json": {"sha256": "0" * 64}}}),
        "manifest.json lists 'features.json' as {\"sha256\""),
    "deeply nested manifest": (lambda src, dst: rewrite_manifest(src, dst, lambda m: nested(100_000)),
                               "manifest.json is nested more than 64 levels deep"),
    "nested past the limit": (lambda src, dst: rewrite_manifest(src, dst, lambda m: nested(200)),
                              "manifest.json is nested more than 64 levels deep"),
    "header size differs from the manifest": (
        lambda src, dst: rewrite_manifest(
            src, dst, lambda m: {**m, "files": {**m["files"], "features.json": {**m["files"]["features.json"],
                                                                                 "size": 5}}}),
        "features.json is 10 bytes by the zip's header but 5 by its manifest"),
}


@pytest.mark.parametrize("case", DAMAGED, ids=list(DAMAGED))
def test_import_refuses_a_damaged_or_hostile_zip_in_one_line(case: str, cli, tmp_path: Path, exported: Path):
    make, message = DAMAGED[case]
    bad = make(exported, tmp_path / "bad.zip")
    target = tmp_path / "target"
    result = cli("models", "import", bad, "--store", target)
    assert result.code == 2, result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "unexpected" not in lines[0], result.err
    assert lines[0].startswith(f"error: {bad}: ") and message in lines[0]
    assert not target.exists() or (ModelStore(target).names() == [] and leftovers(target) == [])


def test_a_member_holding_more_than_its_header_says_is_refused_as_damaged(tmp_path: Path, exported: Path):
    """The zip's central directory and the manifest both say 10 bytes for a member that holds 2,048: reading
    stops after 10 and their CRC does not match, so the member is refused, not copied in full."""
    rel = "model/stages/1_lr/data/part-00000.parquet"

    def edit(manifest: dict) -> dict:
        manifest["files"][rel]["size"] = 10
        return manifest

    raw = bytearray(rewrite_manifest(exported, tmp_path / "edited.zip", edit).read_bytes())
    name = f"m-1/{rel}".encode()
    entry = raw.index(b"PK\x01\x02")  # the central directory's entries, each followed by its name at +46
    while raw[entry + 46:entry + 46 + len(name)] != name:
        entry = raw.index(b"PK\x01\x02", entry + 4)
    raw[entry + 24:entry + 28] = (10).to_bytes(4, "little")  # its uncompressed size
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    store = ModelStore(tmp_path / "target")
    with pytest.raises(IntegrityError, match=f"member 'm-1/{rel}' cannot be read \\(Bad CRC-32"):
        import_zip(store, bad)
    assert store.names() == [] and leftovers(store.root) == []


def bomb(target: Path, size: int, claimed: int | None = None) -> Path:
    """A zip of one model file of ``size`` zero bytes (a few KB compressed) whose manifest states its true size
    and SHA-256; with ``claimed``, the zip's header and the manifest both say that size instead."""
    data = bytes(size)
    manifest = {"name": "bomb", "version": 1, "format": "test",
                "files": {"model.bin": {"sha256": hashlib.sha256(data).hexdigest(), "size": claimed or size}}}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb-1/manifest.json", json.dumps(manifest))
        archive.writestr("bomb-1/model.bin", data)
        if claimed:
            archive.getinfo("bomb-1/model.bin").file_size = claimed
    return target


def test_import_refuses_a_zip_that_expands_past_the_limit_before_writing_a_byte(cli, tmp_path: Path):
    zipped = bomb(tmp_path / "bomb.zip", 8 * 1024 * 1024)
    assert zipped.stat().st_size < 64 * 1024, "a zip bomb: a few KB that expand to 8 MiB"
    target = tmp_path / "target"
    refused = cli("models", "import", zipped, "--store", target, "--max-size", "4M")
    assert refused.code == 2
    assert refused.err == (f"error: {zipped}: the files expand to 8,388,608 bytes, over the import limit of "
                           "4,194,304 bytes; if the zip is trusted, pass --max-size 8388608\n")
    assert not target.exists()
    allowed = cli("models", "import", zipped, "--store", target, "--max-size", "8388608")
    assert allowed.code == 0, allowed.err
    assert ModelStore(target).versions("bomb") == [1]


def test_the_default_limit_is_10_gib(cli, tmp_path: Path):
    """Headers and manifest agree on 11 GiB (the bytes are not there: nothing is read before the refusal)."""
    zipped = bomb(tmp_path / "bomb.zip", 1024, claimed=11 * 1024**3)
    result = cli("models", "import", zipped, "--store", tmp_path / "target")
    assert result.code == 2
    assert "over the import limit of 10,737,418,240 bytes; if the zip is trusted, pass --max-size 11811160064" \
        in result.err
    assert not (tmp_path / "target").exists()


def test_import_refuses_a_zip_larger_than_the_free_space(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    asked: list[Path] = []

    def small_disk(path):
        asked.append(Path(path))
        return usage(10**6, 10**6 - 4096, 4096)

    monkeypatch.setattr(shutil, "disk_usage", small_disk)
    zipped = bomb(tmp_path / "bomb.zip", 8192)
    result = cli("models", "import", zipped, "--store", tmp_path / "new" / "store")
    assert result.code == 2
    assert result.err == (f"error: {zipped}: the files expand to 8,192 bytes but only 4,096 bytes are free at "
                          f"{tmp_path}; free space and retry\n")
    assert asked == [tmp_path], "the free space is asked of the folder the store will be made in"
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(("given", "expected"), [("1048576", 1048576), ("500M", 500 * 1024**2), ("20G", 20 * 1024**3),
                                                  ("1.5TiB", int(1.5 * 1024**4)), ("64kb", 64 * 1024)])
def test_max_size_takes_bytes_or_a_unit(given: str, expected: int):
    from emberflow.engine.cli import _byte_size

    assert _byte_size(given) == expected


def test_a_max_size_that_is_no_size_is_refused(cli, tmp_path: Path, exported: Path):
    with pytest.raises(SystemExit) as exited:
        cli("models", "import", exported, "--max-size", "lots")
    assert exited.value.code == 2
