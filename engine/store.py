"""The model store: immutable, numbered versions of named models, each a folder with a manifest.

Layout::

    <root>/<name>/<version>/manifest.json   the manifest (see manifest.py)
    <root>/<name>/<version>/...             the artifact files
    <root>/<name>/aliases.json             alias -> version
    <root>/runs/<run_id>.json              run records

A version is written into a hidden temporary folder beside the versions, checksummed, and renamed into place
under the model's lock, so a reader never sees a half-written version and two writers never share a number.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ModelNotFound, UserError
from .integrity import file_digests

MANIFEST = "manifest.json"
ALIASES = "aliases.json"
RUNS = "runs"
TEMP_PREFIX = ".tmp-"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
RESERVED_NAMES = {RUNS, "latest"}
RESERVED_ALIASES = {"latest"}


def check_name(name: Any, what: str = "model name") -> str:
    """A model name or alias: letters, digits and ``._-``, not starting with a dot, at most 128 characters."""
    if not isinstance(name, str) or not NAME.match(name) or name in {".", ".."}:
        raise UserError(
            f"invalid {what} {name!r}: use letters, digits, '.', '_' and '-', starting with a letter or digit, "
            "at most 128 characters"
        )
    return name


@dataclass(frozen=True)
class VersionRef:
    name: str
    version: int
    path: Path

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


def default_store_root(explicit: str | os.PathLike | None = None) -> Path:
    """``--store``, else ``EMBERFLOW_STORE``, else ``./models``."""
    return Path(explicit or os.environ.get("EMBERFLOW_STORE") or "models")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    tmp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{path.name}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ModelStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # ----- reading -----
    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if p.is_dir() and p.name not in RESERVED_NAMES and not p.name.startswith(".") and self.versions(p.name)
        )

    def versions(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        return sorted(
            int(p.name) for p in folder.iterdir() if p.name.isdigit() and (p / MANIFEST).is_file()
        )

    def aliases(self, name: str) -> dict[str, int]:
        path = self.root / name / ALIASES
        if not path.is_file():
            return {}
        with open(path, encoding="utf-8") as handle:
            return {str(k): int(v) for k, v in json.load(handle).items()}

    def resolve(self, ref: str) -> VersionRef:
        """``name``, ``name@latest``, ``name@3`` or ``name@alias`` to a stored version."""
        name, _, which = str(ref).partition("@")
        check_name(name)
        versions = self.versions(name)
        if not versions:
            known = ", ".join(self.names()) or "the store is empty"
            raise ModelNotFound(f"no model '{name}' in the store at {self.root} (models: {known})")
        if which in ("", "latest"):
            version = versions[-1]
        elif which.isdigit():
            version = int(which)
            if version not in versions:
                raise ModelNotFound(
                    f"model '{name}' has no version {version}; versions: {', '.join(map(str, versions))}")
        else:
            aliases = self.aliases(name)
            if which not in aliases:
                listed = ", ".join(f"{a}={v}" for a, v in sorted(aliases.items())) or "none"
                raise ModelNotFound(
                    f"model '{name}' has no alias '{which}'; aliases: {listed}; versions: "
                    f"{', '.join(map(str, versions))}")
            version = aliases[which]
        return VersionRef(name, version, self.root / name / str(version))

    def manifest(self, ref: VersionRef) -> dict[str, Any]:
        with open(ref.path / MANIFEST, encoding="utf-8") as handle:
            return json.load(handle)

    # ----- writing -----
    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        """An exclusive lock per model name; the kernel drops it if the holder dies, so it cannot go stale."""
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def save(self, name: str, write: Callable[[Path], dict[str, Any]]) -> VersionRef:
        """Create the next version of ``name``.

        ``write(folder)`` writes the artifact files into a temporary folder and returns the manifest (without
        ``version``); the store adds the SHA-256 and size of every file and the version, writes
        ``manifest.json`` and renames the folder into place.
        If ``write`` raises, the temporary folder is removed and no version appears.
        """
        check_name(name)
        if name in RESERVED_NAMES:
            raise UserError(f"'{name}' is reserved in the store; choose another model name")
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            manifest = write(tmp)
            manifest["files"] = file_digests(tmp)
            _fsync_tree(tmp)
            with self._lock(name):
                version = max(self.versions(name), default=0) + 1
                manifest = {"name": name, "version": version, **manifest}
                write_json_atomic(tmp / MANIFEST, manifest)
                target = folder / str(version)
                os.rename(tmp, target)
                _fsync_dir(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return VersionRef(name, version, target)

    def set_alias(self, name: str, version: int, alias: str) -> None:
        check_name(alias, "alias")
        if alias in RESERVED_ALIASES or alias.isdigit():
            raise UserError(f"'{alias}' cannot be an alias (it reads as a version); choose another")
        if version not in self.versions(name):
            raise ModelNotFound(f"model '{name}' has no version {version}")
        with self._lock(name):
            aliases = self.aliases(name)
            aliases[alias] = version
            write_json_atomic(self.root / name / ALIASES, aliases)

    # ----- runs -----
    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS

    def write_run(self, record: dict[str, Any]) -> Path:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        path = self.runs_dir / f"{record['run_id']}.json"
        write_json_atomic(path, record)
        return path


def _fsync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            _fsync_dir(path)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
