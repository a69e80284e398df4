"""SHA-256 digests of a model's files, and the check that runs before anything is deserialized."""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

from .errors import IntegrityError

CHUNK = 4 * 1024 * 1024
MANIFEST = "manifest.json"
OVERLAP_CHUNK = 8 * 1024 * 1024  # pieces hashed in a second thread while the next one is read or written

# Digests of files this process wrote through a HashingWriter, by absolute path, with the file's identity and
# times when it was closed: file_digests takes the digest instead of reading the file back if nothing changed.
_written: dict[str, tuple[tuple[int, ...], str]] = {}
_written_lock = threading.Lock()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).as_posix() != MANIFEST
    )


def file_digests(folder: Path) -> dict[str, dict[str, Any]]:
    """Every file under ``folder`` (the manifest aside) by POSIX relative path: its SHA-256 and size.

    A file written by a ``HashingWriter`` and unchanged since (same inode, size, modification and change
    times) is not read again: its digest was computed from the bytes as they were written.
    """
    return {
        p.relative_to(folder).as_posix(): {"sha256": _written_digest(p) or sha256_file(p), "size": p.stat().st_size}
        for p in _files(folder)
    }


def _identity(path: str | Path) -> tuple[int, ...]:
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _written_digest(path: Path) -> str | None:
    with _written_lock:
        known = _written.pop(os.path.abspath(path), None)
    return known[1] if known and known[0] == _identity(path) else None


class HashingWriter:
    """A file opened for writing that computes its SHA-256 from the bytes written, so that saving a model
    writes it once and never reads it back to checksum it.

    A large write is hashed in a second thread while it is written (both release the GIL), and on Linux the
    kernel is asked to start writing it to disk at once, so that the store's fsync that follows has little left
    to wait for. Use it as a context manager; on success the digest is remembered for ``file_digests``.
    """

    def __init__(self, path: str | Path):
        self.path = os.path.abspath(path)
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close() / __exit__
        self._digest = hashlib.sha256()
        self._pool = None
        self._written_back = 0  # bytes whose write to disk has been started

    def write(self, data) -> int:
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        if len(view) < OVERLAP_CHUNK:
            self._digest.update(view)
            self._file.write(view)
            return len(view)
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, thread_name_prefix="emberflow-hash")
        for start in range(0, len(view), OVERLAP_CHUNK):
            piece = view[start:start + OVERLAP_CHUNK]
            hashed = self._pool.submit(self._digest.update, piece)
            self._file.write(piece)
            self._start_write_back()
            hashed.result()
        return len(view)

    def _start_write_back(self) -> None:
        sync_range = _sync_file_range()
        if sync_range is None:
            return
        self._file.flush()
        end = self._file.tell()
        sync_range(self._file.fileno(), self._written_back, end - self._written_back, SYNC_FILE_RANGE_WRITE)
        self._written_back = end

    def flush(self) -> None:
        self._file.flush()

    def tell(self) -> int:
        return self._file.tell()

    def close(self, keep_digest: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._file.closed:
            return
        self._file.close()
        if keep_digest:
            with _written_lock:
                _written[self.path] = (_identity(self.path), self._digest.hexdigest())

    def __enter__(self) -> HashingWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.close(keep_digest=kind is None)


SYNC_FILE_RANGE_WRITE = 2  # Linux: start writing the range's dirty pages, without waiting


@cache
def _sync_file_range():
    """Linux's sync_file_range through libc, or None where there is none."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return function


def anonymous_memory(size: int) -> mmap.mmap | bytes:
    """``size`` zeroed bytes of private memory to read a file into: an anonymous private mapping, with
    transparent huge pages asked for where the kernel offers them. Faulting in 4 KiB pages (or the pages of a
    shared mapping) costs several times more than copying the file from the page cache."""
    if size == 0:
        return b""
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    memory = mmap.mmap(-1, size, flags=flags) if flags else mmap.mmap(-1, size)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        with contextlib.suppress(OSError):
            memory.madvise(mmap.MADV_HUGEPAGE)
    return memory


def read_verified(path: Path, meta: dict[str, Any], what: str) -> mmap.mmap | bytes:
    """The bytes of ``path``, read once and checked against ``meta``'s size and SHA-256 before they are
    returned (see ``read_verified_files``); ``what`` starts the error message."""
    return read_verified_files([(path, meta, what)])


def read_verified_files(files: list[tuple[Path, dict[str, Any], str]]) -> mmap.mmap | bytes:
    """The bytes of ``files`` (path, manifest entry, what to call it in an error) laid end to end in one buffer,
    each file read once and checked against its entry's size and SHA-256 before the buffer is returned.

    A loader deserializes these very bytes, so no file is read twice and none can change between the check and
    the load. The bytes are held in anonymous memory (not a mapping of the files, which could change under it),
    usable as a buffer or, from its start, as a file. Several files are read and hashed in parallel threads, up
    to one per CPU (SHA-256 runs at about 1.7 GB/s on one core, and both reading and hashing release the GIL).
    """
    sizes = [meta.get("size") for _path, meta, _what in files]
    for (_path, _meta, what), size in zip(files, sizes, strict=True):
        if not isinstance(size, int) or size < 0:
            raise IntegrityError(f"{what}: the manifest gives no size for it")
    data = anonymous_memory(sum(sizes))
    view = memoryview(data)
    pieces, offset = [], 0
    for (path, meta, what), size in zip(files, sizes, strict=True):
        pieces.append((path, meta, what, view[offset:offset + size]))
        offset += size
    workers = min(len(pieces), os.cpu_count() or 1)
    try:
        if len(pieces) == 1 and (os.cpu_count() or 1) > 1:
            _read_checked(*pieces[0], overlap=True)
        elif workers <= 1:
            for piece in pieces:
                _read_checked(*piece)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(workers, thread_name_prefix="emberflow-hash") as pool:
                list(pool.map(lambda piece: _read_checked(*piece), pieces))
    finally:
        for piece in pieces:
            piece[3].release()
        view.release()
    return data


def _read_checked(path: Path, meta: dict[str, Any], what: str, into: memoryview, overlap: bool = False) -> None:
    """Read ``path`` into all of ``into`` (its expected size), hashing as it goes; refuse any difference. With
    ``overlap``, each piece is hashed in a second thread while the next one is read."""
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size != len(into):
            raise IntegrityError(f"{what}: size {size} differs from the manifest's {meta.get('size')}")
        digest = hashlib.sha256()
        with contextlib.ExitStack() as stack:
            pool = None
            if overlap and size > OVERLAP_CHUNK:
                from concurrent.futures import ThreadPoolExecutor

                pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="emberflow-hash"))
            hashing, step = None, OVERLAP_CHUNK if pool else CHUNK
            for start in range(0, size, step):
                chunk = into[start:start + step]
                if not _fill(handle, chunk):
                    raise IntegrityError(f"{what}: the file shrank while being read")
                if pool is None:
                    digest.update(chunk)
                    continue
                if hashing is not None:
                    hashing.result()
                hashing = pool.submit(digest.update, chunk)
            if hashing is not None:
                hashing.result()
        if handle.read(1):
            raise IntegrityError(f"{what}: the file grew while being read")
    if digest.hexdigest() != meta.get("sha256"):
        raise IntegrityError(f"{what}: SHA-256 differs from the manifest")


def _fill(handle, piece: memoryview) -> bool:
    """Read into all of ``piece``; False if the file ends first."""
    done = 0
    while done < len(piece):
        count = handle.readinto(piece[done:])
        if not count:
            return False
        done += count
    return True


def find_problems(folder: Path, manifest: dict[str, Any], extras: bool = True,
                  deferred: frozenset[str] = frozenset()) -> list[str]:
    """What differs between ``folder`` and the files its manifest lists: changed, missing and (with ``extras``)
    files the manifest does not list. The SHA-256 of a file in ``deferred`` is left to the caller, who reads it
    with ``read_verified`` (its presence and size are checked here)."""
    expected: dict[str, dict[str, Any]] = manifest.get("files") or {}
    problems: list[str] = []
    if extras:
        present = {p.relative_to(folder).as_posix(): p for p in _files(folder)}
    else:  # only the listed files, and only inside ``folder``: no walk of a large shared folder
        present = {rel: folder / rel for rel in expected
                   if ".." not in Path(rel).parts and not Path(rel).is_absolute() and (folder / rel).is_file()}
    for rel, meta in sorted(expected.items()):
        path = present.get(rel)
        try:
            problem = _file_problem(path, meta, check_hash=rel not in deferred)
        except OSError as exc:  # unreadable, or removed meanwhile: a problem of this file, not of the check
            problem = f"not readable ({exc.strerror or exc})"
        if problem:
            problems.append(f"{rel}: {problem}")
    if extras:
        problems += [f"{rel}: not listed in the manifest" for rel in sorted(set(present) - set(expected))]
    return problems


def _file_problem(path: Path | None, meta: dict[str, Any], check_hash: bool) -> str | None:
    if path is None:
        return "missing"
    if path.is_symlink():
        return "is a symbolic link, not a stored file"
    size = path.stat().st_size
    if size != meta.get("size"):
        return f"size {size} differs from the manifest's {meta.get('size')}"
    if check_hash and sha256_file(path) != meta.get("sha256"):
        return "SHA-256 differs from the manifest"
    return None
