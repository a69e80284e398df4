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
    assert "diabetes-lr@2: ok (1 files)" in verified.out

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
                       "engine": "spark", "created": None, "size": sum(map(len, SPARK_LIKE.values()))}]
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
