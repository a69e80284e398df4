"""The model store: immutable, numbered versions of named models, each a folder with a manifest.

Layout::

    <root>/<name>/<version>/manifest.json   the manifest (see manifest.py)
    <root>/<name>/<version>/...             the artifact files
    <root>/<name>/aliases.json             alias -> version (signed like a manifest under a key)
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
import stat
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import IntegrityError, ModelNotFound, UserError, write_failure
from .integrity import file_digests, find_problems
from .names import check_name
from .signing import signature_problems, signed
from .suggest import did_you_mean

MANIFEST = "manifest.json"
ALIASES = "aliases.json"
LAST_VERSION = ".last-version"
RUNS = "runs"
TEMP_PREFIX = ".tmp-"
GC_GRACE_SECONDS = 600.0  # how old an unlocked temporary must be before gc removes it
RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
RESERVED_NAMES = {RUNS, "latest"}
RESERVED_ALIASES = {"latest"}


class AliasedVersion(UserError):
    """A version that an alias points to cannot be deleted without ``force``."""


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
    """Write JSON to a temporary file beside ``path``, flush it to disk, then rename it over ``path``.

    On any failure the temporary file is removed and ``path`` is left as it was; a full disk, a quota, a
    read-only file system or a folder without write permission raises ``WriteFailed`` (one line, naming ``path``).
    """
    def fill(handle: Any) -> None:
        json.dump(data, handle, indent=2, sort_keys=False, default=str)
        handle.write("\n")

    _write_atomic(path, path.name, fill)


def _write_atomic(path: Path, tmp_suffix: str, fill: Callable[[Any], Any]) -> None:
    """``fill(handle)`` writes a temporary file beside ``path``, flushed to disk and renamed over ``path``."""
    tmp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{tmp_suffix}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            fill(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        failure = write_failure(exc, path)
        if failure is not None:
            raise failure from exc
        raise


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
        return _alias_map(self._alias_file(name))

    def alias_problems(self, name: str) -> list[str]:
        """Why ``name``'s aliases cannot be trusted under the signing key (nothing when no key is set, or when
        the model has no aliases)."""
        return _alias_file_problems(name, self._alias_file(name))

    def _alias_file(self, name: str) -> dict[str, Any]:
        """``aliases.json`` as written: ``{"name", "aliases", "signature"}`` (a plain alias -> version map in
        stores written before aliases were signed); ``{}`` when there is none."""
        path = self.root / name / ALIASES
        if not path.is_file():
            return {}
        try:
            with open(path, encoding="utf-8") as handle:
                held = json.load(handle)
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"model '{name}': {ALIASES} is not readable JSON ({exc})") from None
        if not isinstance(held, dict):
            raise IntegrityError(f"model '{name}': {ALIASES} does not hold aliases")
        return held if isinstance(held.get("aliases"), dict) else {"aliases": held}

    def _write_aliases(self, name: str, aliases: dict[str, int]) -> None:
        write_json_atomic(self.root / name / ALIASES, signed({"name": name, "aliases": dict(sorted(aliases.items()))}))

    def resolve(self, ref: str) -> VersionRef:
        """``name``, ``name@latest``, ``name@3`` or ``name@alias`` to a stored version."""
        name, _, which = str(ref).partition("@")
        check_name(name)
        versions = self.versions(name)
        if not versions:
            names = self.names()
            raise ModelNotFound(f"no model '{name}' in the store at {self.root}{did_you_mean(name, names)} "
                                f"(models: {', '.join(names) or 'the store is empty'})")
        if which in ("", "latest"):
            version = versions[-1]
        elif which.isdigit():
            version = int(which)
            if version not in versions:
                raise ModelNotFound(
                    f"model '{name}' has no version {version}; versions: {', '.join(map(str, versions))}")
        else:
            held = self._alias_file(name)  # read once: the map and its signature from the same file
            aliases = _alias_map(held)
            problems = _alias_file_problems(name, held) if which in aliases else []
            if problems:
                raise IntegrityError(f"model '{name}': {problems[0]}; refusing to resolve alias '{which}' (set "
                                     f"it again with the key: emberflow models alias {name} VERSION {which})")
            if which not in aliases:
                listed = ", ".join(f"{a}={v}" for a, v in sorted(aliases.items())) or "none"
                raise ModelNotFound(
                    f"model '{name}' has no alias '{which}'{did_you_mean(which, aliases)}; aliases: {listed}; "
                    f"versions: {', '.join(map(str, versions))}")
            version = aliases[which]
        return VersionRef(name, version, self.root / name / str(version))

    def manifest(self, ref: VersionRef) -> dict[str, Any]:
        try:
            with open(ref.path / MANIFEST, encoding="utf-8") as handle:
                manifest = json.load(handle)
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{ref}: {MANIFEST} is not readable JSON ({exc}); refusing to use it") from None
        if not isinstance(manifest, dict):
            raise IntegrityError(f"{ref}: {MANIFEST} does not hold a manifest; refusing to use it")
        return manifest

    def problems(self, ref: VersionRef, manifest: dict[str, Any] | None = None,
                 deferred: frozenset[str] = frozenset()) -> list[str]:
        """What is wrong with a stored version: its signature (when a signing key is set), then every changed,
        missing or extra file. Empty when the version is whole and, with a key, signed by it. The SHA-256 of the
        files in ``deferred`` is left to the caller (see ``integrity.read_verified``)."""
        manifest = self.manifest(ref) if manifest is None else manifest
        problems = signature_problems(manifest) + find_problems(ref.path, manifest, deferred=deferred)
        if not manifest.get("files"):
            problems.append("the manifest lists no files")
        return problems

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
        claim = _claim(tmp)  # held until the version is in place, so gc leaves a live writer's folder alone
        try:
            manifest = write(tmp)
            manifest["files"] = file_digests(tmp)
            _fsync_tree(tmp)
            with self._lock(name):
                version = self._next_version(name)
                manifest = signed({"name": name, "version": version, **manifest})
                write_json_atomic(tmp / MANIFEST, manifest)
                target = folder / str(version)
                os.rename(tmp, target)
                _fsync_dir(folder)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        finally:
            os.close(claim)
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
            self._write_aliases(name, aliases)

    def _next_version(self, name: str) -> int:
        """One more than any version the model ever had: a deleted number is never given out again."""
        path = self.root / name / LAST_VERSION
        try:
            deleted = int(path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):  # nothing deleted yet (or an unreadable mark: the versions still count)
            deleted = 0
        return max([deleted, *self.versions(name)]) + 1

    def import_version(self, name: str, manifest: dict[str, Any], fill: Callable[[Path], None]) -> VersionRef:
        """Add, as the next version of ``name``, a version made elsewhere (another store's export).

        ``fill(folder)`` writes its files into the hidden temporary folder; they are checked against
        ``manifest["files"]`` before the version becomes visible, so a damaged copy never appears. The new
        manifest keeps everything but the name and version, and records where the version came from.
        """
        if not manifest.get("files"):
            raise IntegrityError(f"the manifest of the version to import into '{name}' lists no files")

        def write(folder: Path) -> dict[str, Any]:
            fill(folder)
            problems = find_problems(folder, manifest)
            if problems:
                raise IntegrityError(f"the files to import do not match their manifest, nothing imported: "
                                     f"{'; '.join(problems)}")
            dropped = ("name", "version", "files", "imported_from")
            kept = {k: v for k, v in manifest.items() if k not in dropped}
            kept["imported_from"] = {"name": manifest.get("name"), "version": manifest.get("version")}
            return kept

        return self.save(name, write)

    def delete(self, ref: VersionRef, force: bool = False) -> list[str]:
        """Remove a version; return the aliases removed with it (only with ``force``).

        The folder is first renamed to a hidden name under the model's lock, so readers see the version either
        whole or gone, and its number is remembered so that it is never reused.
        """
        with self._lock(ref.name):
            if not (ref.path / MANIFEST).is_file():
                raise ModelNotFound(f"model '{ref.name}' has no version {ref.version}")
            pointing = sorted(a for a, v in self.aliases(ref.name).items() if v == ref.version)
            if pointing and not force:
                raise AliasedVersion(
                    f"{ref} is what alias {', '.join(pointing)} points to; point the alias at another "
                    f"version first (emberflow models alias {ref.name} VERSION ALIAS) or pass --force")
            if pointing:
                kept = {a: v for a, v in self.aliases(ref.name).items() if a not in pointing}
                self._write_aliases(ref.name, kept)
            highest = max([self._next_version(ref.name) - 1, ref.version])
            _write_text_atomic(self.root / ref.name / LAST_VERSION, f"{highest}\n")
            doomed = ref.path.with_name(f"{TEMP_PREFIX}deleted-{ref.version}-{uuid.uuid4().hex}")
            os.rename(ref.path, doomed)
            _fsync_dir(ref.path.parent)
        shutil.rmtree(doomed, ignore_errors=True)
        return pointing

    def prune(self, name: str, keep: int, dry_run: bool = False) -> list[int]:
        """Delete all but the ``keep`` newest versions of ``name``, never one an alias points to.

        Returns the versions deleted (or that would be, with ``dry_run``).
        """
        if keep < 0:
            raise UserError(f"--keep must be 0 or more, got {keep}")
        self.resolve(name)
        versions = self.versions(name)
        aliased = set(self.aliases(name).values())
        newest = set(versions[-keep:]) if keep else set()
        doomed = [v for v in versions if v not in newest and v not in aliased]
        if dry_run:
            return doomed
        deleted = []
        for version in doomed:
            try:
                self.delete(VersionRef(name, version, self.root / name / str(version)))
            except (AliasedVersion, ModelNotFound):  # aliased or deleted meanwhile by someone else
                continue
            deleted.append(version)
        return deleted

    def stored_file(self, ref: VersionRef, rel: str) -> Path:
        """The file ``rel`` of a version, for downloads and file views: only a file its manifest lists, and
        only if its real path (symbolic links followed) stays inside the version's folder."""
        base = ref.path.resolve()
        path = (base / rel).resolve()
        inside = path.is_relative_to(base) and base.is_relative_to(self.root.resolve())
        if not inside or not path.is_file():
            raise ModelNotFound(f"{ref} has no file {rel!r}")
        if rel != MANIFEST and rel not in (self.manifest(ref).get("files") or {}):
            raise ModelNotFound(f"{ref} has no file {rel!r}")
        return path

    # ----- leftovers -----
    def gc(self, grace_seconds: float = GC_GRACE_SECONDS, dry_run: bool = False) -> list[Path]:
        """Remove the hidden temporary folders and files that interrupted writers left; return their paths.

        Readers never look at them; this only gives the space back. A temporary folder whose writer is alive is
        kept: the writer holds a lock on it, which the kernel drops when the writer dies. One changed less
        than ``grace_seconds`` ago is kept too, which covers the instant between a writer creating its folder
        and locking it, and the short-lived files of atomic JSON writes (which hold no lock).
        """
        if not self.root.is_dir():
            return []
        places = [self.root, self.runs_dir, *(p for p in self.root.iterdir()
                                               if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))]
        leftovers = [p for place in places if place.is_dir() for p in sorted(place.iterdir())
                     if p.name.startswith(TEMP_PREFIX)]
        return [p for p in leftovers if _remove_if_abandoned(p, grace_seconds, dry_run)]

    # ----- runs -----
    @property
    def runs_dir(self) -> Path:
        return self.root / RUNS

    def run_ids(self) -> list[str]:
        """Every recorded run, newest first: by the UTC start second that begins a run id, then, within one
        second, by when the record was written."""
        if not self.runs_dir.is_dir():
            return []
        records = [p for p in self.runs_dir.glob("*.json") if RUN_ID.match(p.stem)]
        records.sort(key=lambda p: (p.stem.partition("-")[0], _mtime_ns(p), p.stem), reverse=True)
        return [p.stem for p in records]

    def read_run(self, run_id: str) -> dict[str, Any]:
        """A run record by id, or by a prefix that only one run id starts with."""
        if not isinstance(run_id, str) or not RUN_ID.match(run_id):
            raise ModelNotFound(f"no run {run_id!r} in the store at {self.root}")
        matches = [r for r in self.run_ids() if r.startswith(run_id)]
        exact = [r for r in matches if r == run_id]
        if len(exact) != 1 and len(matches) != 1:
            hint = f"{len(matches)} runs start with it; give more of the id" if matches else \
                "list them with: emberflow runs list"
            raise ModelNotFound(f"no single run {run_id!r} in the store at {self.root} ({hint})")
        with open(self.runs_dir / f"{(exact or matches)[0]}.json", encoding="utf-8") as handle:
            return json.load(handle)

    def write_run(self, record: dict[str, Any]) -> Path:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        path = self.runs_dir / f"{record['run_id']}.json"
        write_json_atomic(path, record)
        return path


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:  # removed meanwhile
        return 0


def _alias_map(held: dict[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in held.get("aliases", {}).items()}


def _alias_file_problems(name: str, held: dict[str, Any]) -> list[str]:
    if not held:
        return []
    if held.get("name") not in (None, name):
        return [f"{ALIASES} belongs to model '{held.get('name')}', not '{name}'"]
    return signature_problems(held, what=ALIASES)


def _write_text_atomic(path: Path, text: str) -> None:
    """``write_json_atomic`` for plain text (the temporary's name keeps no leading dot of ``path``)."""
    _write_atomic(path, path.name.lstrip("."), lambda handle: handle.write(text))


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


def _claim(folder: Path) -> int:
    """Lock a temporary folder for its writer; return the descriptor to close once the folder is in place."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _remove_if_abandoned(path: Path, grace_seconds: float, dry_run: bool) -> bool:
    """Remove ``path`` (a leftover temporary) unless a live writer holds it or it is younger than the grace."""
    try:
        info = path.lstat()
        if time.time() - info.st_mtime < grace_seconds:
            return False
        if not stat.S_ISDIR(info.st_mode):
            if not dry_run:
                path.unlink()
            return True
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except FileNotFoundError:  # renamed into place or removed meanwhile
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # its writer is alive
        os.close(fd)
        return False
    try:
        if not dry_run:
            shutil.rmtree(path)
    finally:
        os.close(fd)
    return True
