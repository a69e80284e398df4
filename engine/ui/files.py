"""The editor's workflow files: only inside the workflows folders ``emberflow ui`` was started with (no
traversal, no symbolic link out), read with an etag (SHA-256 of the bytes), written atomically (a temporary file
in the same folder, then ``os.replace``) and refused with a conflict when the file changed since it was read."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path, PurePosixPath

from ..errors import WorkflowError
from ..source import MAX_WORKFLOW_BYTES, read_text
from .workflows import WORKFLOW_SUFFIXES, workflow_catalog


class FileRefused(Exception):
    """A request the editor answers with ``status`` (403 outside the folders, 404, 409 conflict)."""

    def __init__(self, status: int, message: str, etag: str | None = None):
        super().__init__(message)
        self.status, self.etag = status, etag


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class WorkflowFiles:
    def __init__(self, sources: list[Path]):
        self.sources = sources
        self.lock = threading.Lock()  # one check-then-write at a time

    def listing(self) -> list[dict[str, str]]:
        return [{"path": key, "folder": key.partition("/")[0] if "/" in key else ""}
                for key in workflow_catalog(self.sources)]

    def locate(self, rel: str) -> Path:
        """The real path of ``rel`` (``FOLDER/sub/name.yaml`` as listed, new or existing), or FileRefused 403."""
        pure = PurePosixPath(rel or "")
        if pure.is_absolute() or ".." in pure.parts or "\\" in rel or "\x00" in rel or len(pure.parts) < 1:
            raise FileRefused(403, f"{rel!r} is not a path inside the workflows folders")
        if pure.suffix not in WORKFLOW_SUFFIXES:
            raise FileRefused(403, f"{rel!r}: only {' and '.join(WORKFLOW_SUFFIXES)} files are edited here")
        for source in self.sources:
            if source.is_file() and len(pure.parts) == 1 and pure.name == source.name:
                return source.resolve()
            if source.is_dir() and len(pure.parts) > 1 and pure.parts[0] == source.resolve().name:
                base = source.resolve()
                real = base.joinpath(*pure.parts[1:]).resolve()
                if not real.is_relative_to(base):
                    raise FileRefused(403, f"{rel!r} leads outside the workflows folder {source}")
                return real
        raise FileRefused(403, f"{rel!r} is not in the workflows folders (its first part names the folder)")

    def read(self, rel: str) -> tuple[str, str]:
        """The file's text and etag."""
        path = self.locate(rel)
        if not path.is_file():
            raise FileRefused(404, f"no workflow file {rel!r}")
        try:
            text = read_text(path)
        except WorkflowError as exc:  # huge, binary, not UTF-8: one line, as the CLI says it
            raise FileRefused(400, exc.message) from None
        return text, etag_of(path.read_bytes())

    def current(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def write(self, rel: str, text: str, etag: str | None, render=None) -> tuple[str, str]:
        """Write ``text`` (or ``render(current text or None)``) if the file's etag is still ``etag`` (None: the file
        must not exist yet); return the text written and its new etag."""
        path = self.locate(rel)
        with self.lock:
            old = self.current(path)
            if (old is None) != (etag is None) or (old is not None and etag_of(old) != etag):
                now = etag_of(old) if old is not None else None
                why = "exists already" if etag is None else "changed on disk" if old is not None else "was deleted"
                raise FileRefused(409, f"{rel} {why} since it was opened; reload it", etag=now)
            if render is not None:
                text = render(old.decode("utf-8-sig") if old is not None else None)
            data = text.encode("utf-8")
            check_size(data)
            write_atomic(path, data)
        return text, etag_of(data)


def check_size(data: bytes | str) -> None:
    if len(data) > MAX_WORKFLOW_BYTES:
        raise FileRefused(413, f"a workflow of {len(data):,} bytes; at most {MAX_WORKFLOW_BYTES:,} are read")


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file in the same folder and ``os.replace``: a reader sees the old file or the
    new one, never half of one, and a failure leaves the old file as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
