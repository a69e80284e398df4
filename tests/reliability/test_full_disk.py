"""A full disk (or a quota, or a read-only file system) is a one-line error with exit code 2, never an
"unexpected" one; the store's atomic writes leave no temporary file and change nothing; a run whose record cannot
be written still shows the failed step's own error.

The disk fills in the process: the system calls that a full disk makes fail are replaced by ones that raise
ENOSPC, as the kernel would."""

from __future__ import annotations

import errno
import json
import os
import zipfile
from pathlib import Path

import pytest
from emberflow.engine import archive
from emberflow.engine.archive import export_zip
from emberflow.engine.errors import WriteFailed
from emberflow.engine.store import ModelStore, write_json_atomic

NO_SPACE = "no space left on device while writing"


def save_tree(store: ModelStore, name: str) -> int:
    def write(folder: Path) -> dict:
        (folder / "model" / "data").mkdir(parents=True)
        (folder / "model" / "data" / "part-00000").write_bytes(bytes(range(256)) * 8)
        (folder / "features.json").write_bytes(b'["a", "b"]')
        return {"format": "test"}

    return store.save(name, write).version


def leftovers(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob(".tmp-*"))


def disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch):
    """From now on, flushing any file to disk fails as on a full disk (what a delayed allocation reports)."""
    def fill() -> None:
        monkeypatch.setattr(os, "fsync", disk_full)

    return fill


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "unexpected" not in lines[0] and "Traceback" not in err
    return lines[0]


# ----- the store's atomic writes -----

def test_a_json_write_on_a_full_disk_names_the_file_keeps_the_old_one_and_leaves_no_temporary(tmp_path: Path,
                                                                                             full_disk):
    path = tmp_path / "aliases.json"
    write_json_atomic(path, {"before": 1})
    full_disk()
    with pytest.raises(WriteFailed, match=f"^{NO_SPACE} {path}; free space and retry$"):
        write_json_atomic(path, {"after": 2})
    assert json.loads(path.read_text()) == {"before": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aliases.json"]


def test_a_json_write_that_fails_for_another_reason_raises_it_and_leaves_no_temporary(tmp_path: Path):
    looped: dict = {}
    looped["self"] = looped  # json.dump refuses a circular reference halfway through writing
    with pytest.raises(ValueError, match="Circular reference"):
        write_json_atomic(tmp_path / "x.json", looped)
    assert list(tmp_path.iterdir()) == []


# ----- the commands that write to the store -----

def test_alias_on_a_full_disk_is_one_line_and_keeps_the_aliases(cli, tmp_path: Path, full_disk):
    store = ModelStore(tmp_path / "store")
    save_tree(store, "m")
    save_tree(store, "m")
    store.set_alias("m", 1, "prod")
    full_disk()
    result = cli("models", "alias", "m", "2", "prod", "--store", store.root)
    assert result.code == 2
    assert one_error_line(result.err) == (f"error: {NO_SPACE} {store.root / 'm' / 'aliases.json'}; "
                                          "free space and retry")
    assert store.aliases("m") == {"prod": 1} and leftovers(store.root) == []


def test_delete_on_a_full_disk_is_one_line_and_keeps_the_version(cli, tmp_path: Path, full_disk):
    store = ModelStore(tmp_path / "store")
    save_tree(store, "m")
    save_tree(store, "m")
    full_disk()
    result = cli("models", "delete", "m@1", "--store", store.root)
    assert result.code == 2
    assert one_error_line(result.err) == f"error: {NO_SPACE} {store.root / 'm' / '.last-version'}; free space and retry"
    assert store.versions("m") == [1, 2] and store.problems(store.resolve("m@1")) == []
    assert leftovers(store.root) == []


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    store = ModelStore(tmp_path / "source")
    save_tree(store, "m")
    return export_zip(store, store.resolve("m"), tmp_path / "m.zip")


class FullFile:
    """A file opened for writing on a disk that is full: every write fails."""

    def __init__(self, path, mode):
        self.handle = open(path, mode)  # noqa: SIM115 - closed by __exit__

    def write(self, data):
        disk_full()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def test_import_on_a_full_disk_is_one_line_and_leaves_nothing(cli, tmp_path: Path, exported: Path, monkeypatch):
    target = ModelStore(tmp_path / "target")
    monkeypatch.setattr(archive, "open", FullFile, raising=False)  # the files copied out of the zip
    result = cli("models", "import", exported, "--store", target.root)
    assert result.code == 2
    line = one_error_line(result.err)
    assert line.startswith(f"error: {NO_SPACE} {target.root / 'm' / '.tmp-'}") and line.endswith("free space and retry")
    assert target.names() == [] and leftovers(target.root) == []


def test_import_whose_flush_to_disk_fails_is_one_line_and_leaves_nothing(cli, tmp_path: Path, exported: Path,
                                                                          full_disk):
    target = ModelStore(tmp_path / "target")
    full_disk()
    result = cli("models", "import", exported, "--store", target.root)
    assert result.code == 2
    assert one_error_line(result.err) == f"error: {NO_SPACE} {target.root}; free space and retry"
    assert target.names() == [] and leftovers(target.root) == []


def test_download_on_a_full_disk_is_one_line_and_leaves_no_zip(cli, tmp_path: Path, monkeypatch):
    store = ModelStore(tmp_path / "store")
    save_tree(store, "m")
    monkeypatch.setattr(zipfile.ZipFile, "write", disk_full)  # the manifest, the first member written
    result = cli("models", "download", "m", "-o", tmp_path / "out" / "m.zip", "--store", store.root)
    assert result.code == 2
    assert one_error_line(result.err) == f"error: {NO_SPACE} {tmp_path / 'out' / 'm.zip'}; free space and retry"
    assert list((tmp_path / "out").iterdir()) == []


def test_any_other_store_write_on_a_read_only_disk_is_still_one_line(cli, tmp_path: Path, monkeypatch):
    store = ModelStore(tmp_path / "store")
    for _ in range(3):
        save_tree(store, "m")

    def read_only(source, *_args, **_kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(source))

    monkeypatch.setattr(os, "rename", read_only)  # prune renames each doomed version away first
    result = cli("models", "prune", "m", "--keep", "1", "--store", store.root)
    assert result.code == 2
    line = one_error_line(result.err)
    assert line == (f"error: read-only file system while writing {store.root / 'm' / '1'}; write to a writable "
                    "folder instead")
    assert store.versions("m") == [1, 2, 3]


# ----- the run record -----

READ_ONLY_RUN = """
name: t
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - {id: split, node: SplitData, inputs: {data: read}, params: {test_size: 0.5}}
"""
FAILING_RUN = """
name: t
steps:
  - {id: read, node: ReadCSV, params: {path: workflows/data/diabetes.csv}}
  - {id: train, node: TrainLR, inputs: {data: read}, params: {label: class, class_weight: {0: "heavy"}}}
"""


@pytest.mark.parametrize("kind", ["user error", "failed step"])
def test_a_failed_run_whose_record_cannot_be_written_shows_both_errors(cli, project: Path, full_disk, kind: str):
    if kind == "user error":
        args, step, code = ("workflows/train.yaml", "--var", "data=nowhere.csv"), "read", 2
    else:
        (project / "wf.yaml").write_text(FAILING_RUN)
        args, step, code = ("wf.yaml",), "train", 1
    full_disk()
    result = cli("run", *args, "--quiet")
    assert result.code == code
    first, second = result.err.strip().splitlines()
    assert first.startswith(f"error: step '{step}'")
    assert "could not be written" not in first and "unexpected" not in result.err
    assert second.startswith(f"error: the run record could not be written either: {NO_SPACE} "
                             f"{Path('models') / 'runs'}")
    assert second.endswith(".json; free space and retry")
    assert leftovers(project / "models") == []


def test_a_run_whose_record_cannot_be_written_exits_2_after_its_summary(cli, project: Path, full_disk):
    (project / "wf.yaml").write_text(READ_ONLY_RUN)
    full_disk()
    result = cli("run", "wf.yaml")
    assert result.code == 2
    assert result.out.startswith("run ") and " finished in " in result.out
    line = one_error_line(result.err.split("done in")[-1].split("\n", 1)[-1])
    assert line.startswith(f"error: the run finished, but its record could not be written: {NO_SPACE} ")
    assert leftovers(project / "models") == []


def test_delete_force_that_cannot_remember_the_number_keeps_the_version_and_its_aliases(cli, tmp_path: Path,
                                                                                          monkeypatch):
    """The deleted number is remembered before the aliases change: when that write fails (the disk filled up
    between two writes), the version keeps its aliases instead of losing them while it stays."""
    store = ModelStore(tmp_path / "store")
    save_tree(store, "m")
    save_tree(store, "m")
    store.set_alias("m", 1, "prod")
    real_fsync = os.fsync

    def full_for_the_number(fd: int) -> None:
        if "last-version" in os.readlink(f"/proc/self/fd/{fd}"):
            disk_full()
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_for_the_number)
    result = cli("models", "delete", "m@1", "--force", "--store", store.root)
    assert result.code == 2
    one_error_line(result.err)
    assert store.versions("m") == [1, 2] and store.aliases("m") == {"prod": 1}
    assert leftovers(store.root) == []
