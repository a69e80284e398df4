"""Promise 2: writers saving the same model at once each get their own complete version, and a lock left by a
killed process does not block anyone."""

from __future__ import annotations

import fcntl
import os
import signal
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.integrity import find_problems
from emberflow.engine.models import load_from_store
from emberflow.engine.store import ModelStore

from .helpers import expect_line, saved_versions, start_writer, temporaries

WRITERS = 8


def run_together(commands: list[list[str]], go: Path) -> list[list[int]]:
    """Start one process per command, let them all start saving at the same moment; their saved versions."""
    procs = [start_writer(*command, "--go", go) for command in commands]
    try:
        for proc in procs:
            expect_line(proc, "ready")
        go.touch()
        outputs = [proc.communicate(timeout=300) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    return [saved_versions(out) for out, _err in outputs]


def check_distinct_complete(root: Path, name: str, reported: list[list[int]], files: int | None = None) -> None:
    store = ModelStore(root)
    flat = sorted(v for versions in reported for v in versions)
    assert flat == list(range(1, WRITERS + 1)), reported
    assert store.versions(name) == flat
    for version in flat:
        ref = store.resolve(f"{name}@{version}")
        manifest = store.manifest(ref)
        assert manifest["version"] == version and find_problems(ref.path, manifest) == []
        if files is not None:
            assert len(manifest["files"]) == files
    assert temporaries(root) == []


def test_eight_joblib_writers_get_distinct_complete_versions(tmp_path: Path):
    root = tmp_path / "store"
    commands = [["save-knn", str(root), "knn", "--rows", "20000", "--seed", str(i)] for i in range(WRITERS)]
    reported = run_together(commands, tmp_path / "go")
    check_distinct_complete(root, "knn", reported, files=1)
    store = ModelStore(root)
    seeds = set()
    for version in store.versions("knn"):  # each version holds its own writer's model, whole
        model, _ref, _ = load_from_store(store, f"knn@{version}", Sessions())
        seeds.add(float(model.obj._fit_X[0, 0]))
    assert len(seeds) == WRITERS


def test_a_lock_held_by_a_killed_process_does_not_block(tmp_path: Path):
    root = tmp_path / "store"
    holder = start_writer("hold-lock", root, "m")
    expect_line(holder, "locked")
    lock_file = root / "m" / ".lock"
    with open(lock_file, "a+") as handle:
        with pytest.raises(BlockingIOError):  # the holder really holds it
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released by the kernel with the process
        fcntl.flock(handle, fcntl.LOCK_UN)
    assert lock_file.exists(), "the lock file stays; only the lock on it went"

    def write(folder: Path) -> dict:
        (folder / "model.bin").write_bytes(b"after")
        return {"format": "test"}

    assert ModelStore(root).save("m", write).version == 1
