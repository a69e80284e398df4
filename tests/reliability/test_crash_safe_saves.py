"""Promise 1: a save killed at any moment leaves the previous versions intact and no visible partial version;
``models gc`` removes what it left behind, and never a live writer's temporary folder."""

from __future__ import annotations

import os
import random
import re
import signal
import time
from pathlib import Path

import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.models import load_from_store
from emberflow.engine.store import ModelStore

from .helpers import expect_line, saved_versions, start_writer, temporaries

KILLS = 20
ROWS = 100_000  # a k-nearest-neighbours model of 100,000 x 8 floats: about 15 MB as joblib
SAVES_PER_WRITER = 2


def check_store(cli, root: Path, name: str) -> list[int]:
    """Every visible version verifies, and the version numbers are 1..n with none skipped."""
    result = cli("models", "verify", "--store", root)
    assert result.code == 0, result.out + result.err
    lines = result.out.strip().splitlines()
    assert lines and all(re.search(r": ok \(\d+ files?\)$", line) for line in lines), result.out
    versions = ModelStore(root).versions(name)
    assert versions == list(range(1, len(versions) + 1)), versions
    assert len(lines) == len(versions)
    return versions


class ForkServer:
    """A writer process that forks one child per save attempt (see writers.py), so kills are cheap."""

    def __init__(self, root: Path, name: str):
        self.proc = start_writer("fork-server", root, name, "--rows", ROWS, "--times", SAVES_PER_WRITER,
                                 stdin=True)
        expect_line(self.proc, "ready")

    def _send(self, command: str) -> None:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def _read_until(self, prefix: str, lines: list[str]) -> str:
        while not (line := self.proc.stdout.readline().strip()).startswith(prefix):
            assert line, f"the fork server stopped: {self.proc.stderr.read()[-2000:]}"
            lines.append(line)
        return line

    def fork(self) -> tuple[int, list[str]]:
        lines: list[str] = []
        self._send("fork")
        return int(self._read_until("child ", lines).split()[1]), lines

    def wait_done(self, lines: list[str]) -> None:
        self._read_until("done", lines)

    def kill_and_reap(self, pid: int, lines: list[str]) -> int:
        os.kill(pid, signal.SIGKILL)
        self._send("reap")
        return int(self._read_until("reaped ", lines).split()[1])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def test_saves_killed_at_random_moments_leave_only_complete_versions(cli, tmp_path: Path):
    root, name = tmp_path / "store", "knn"
    rng = random.Random(1)
    server = ForkServer(root, name)
    try:
        # One writer finishes: the versions a crash must not harm, and how long its saves take.
        pid, lines = server.fork()
        began = time.perf_counter()
        server.wait_done(lines)
        span = time.perf_counter() - began
        assert server.kill_and_reap(pid, lines) == -signal.SIGKILL
        assert saved_versions("\n".join(lines)) == [1, 2]
        mid_save = 0
        for _ in range(KILLS):
            before = len(temporaries(root / name))
            pid, lines = server.fork()
            time.sleep(rng.uniform(0, span * 1.1))
            assert server.kill_and_reap(pid, lines) == -signal.SIGKILL
            versions = check_store(cli, root, name)
            assert set(saved_versions("\n".join(lines))) <= set(versions), "a reported version is missing"
            mid_save += len(temporaries(root / name)) > before
    finally:
        server.close()
    assert mid_save > 0, "no kill landed inside a save; the test did not test anything"

    result = cli("models", "gc", "--store", root)
    assert result.code == 0 and not result.out.startswith("removed"), "gc's grace keeps fresh temporaries"
    result = cli("models", "gc", "--store", root, "--grace", 0)
    assert result.code == 0, result.err
    assert result.out.count("removed ") == mid_save
    assert temporaries(root) == []
    versions = check_store(cli, root, name)
    model, ref, _ = load_from_store(ModelStore(root), name, Sessions())
    assert ref.version == versions[-1] and model.obj.n_samples_fit_ == ROWS


def _save(store: ModelStore, name: str, write=None) -> int:
    def default(folder: Path) -> dict:
        (folder / "model.bin").write_bytes(b"model")
        return {"format": "test"}

    return store.save(name, write or default).version


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def test_gc_removes_dead_writers_leftovers_and_keeps_a_live_writers_folder(tmp_path: Path):
    store = ModelStore(tmp_path)
    _save(store, "m")
    dead = tmp_path / "m" / ".tmp-dead"  # a writer killed mid-save: nobody holds its lock
    (dead / "stages" / "0").mkdir(parents=True)
    (dead / "stages" / "0" / "part").write_bytes(b"half")
    old_json = tmp_path / "m" / ".tmp-0123-aliases.json"
    old_json.write_text("{")
    fresh = tmp_path / "m" / ".tmp-fresh"
    fresh.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    link = tmp_path / "m" / ".tmp-link"
    link.symlink_to(outside, target_is_directory=True)
    for path in (dead, old_json, link):
        _age(path, 3600)
    seen_during_write: list[list[Path]] = []

    def write_while_collecting(folder: Path) -> dict:
        _age(folder, 3600)  # even an old-looking folder is kept while its writer holds it
        seen_during_write.append(store.gc(grace_seconds=0, dry_run=True))
        (folder / "model.bin").write_bytes(b"live")
        return {"format": "test"}

    assert _save(store, "m", write_while_collecting) == 2
    assert sorted(seen_during_write[0]) == sorted([dead, old_json, fresh, link]), \
        "everything but the live writer's folder is offered for removal"
    assert sorted(store.gc(dry_run=True)) == sorted([dead, old_json, link])
    removed = store.gc()
    assert sorted(removed) == sorted([dead, old_json, link])
    assert fresh.is_dir(), "a folder younger than the grace period is kept"
    assert (outside / "keep.txt").read_text() == "keep", "gc never follows a symbolic link"
    assert store.versions("m") == [1, 2]
    assert store.gc(grace_seconds=0) == [fresh]


@pytest.mark.parametrize("place", ["runs", "root"])
def test_gc_looks_in_the_runs_folder_and_the_root(tmp_path: Path, place: str):
    store = ModelStore(tmp_path)
    store.write_run({"run_id": "r1", "status": "ok"})
    folder = store.runs_dir if place == "runs" else tmp_path
    leftover = folder / ".tmp-abc-r2.json"
    leftover.write_text("{")
    _age(leftover, 3600)
    assert store.gc() == [leftover]
    assert store.read_run("r1")["status"] == "ok"


def test_readers_ignore_temporaries(tmp_path: Path, cli):
    store = ModelStore(tmp_path)
    _save(store, "m")
    (tmp_path / "m" / ".tmp-x").mkdir()
    (tmp_path / "m" / ".tmp-x" / "manifest.json").write_text("{}")
    (tmp_path / ".tmp-y").mkdir()
    (tmp_path / "ghost" / ".tmp-z").mkdir(parents=True)
    assert store.names() == ["m"] and store.versions("m") == [1]
    listed = cli("models", "list", "--store", tmp_path, "--json").json()
    assert [m["name"] for m in listed] == ["m"]
    assert cli("models", "verify", "--store", tmp_path).out.strip() == "m@1: ok (1 file)"
