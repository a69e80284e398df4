"""The model store: immutable, numbered versions of named models, each a folder with a manifest.

Layout::

    <root>/<name>/<version>/manifest.json   the manifest, naming the model and version (see models.py);
                                           <version> is 1, 2, 3 ... in plain decimal: nothing else is a version
    <root>/<name>/<version>/...             the artifact files
    <root>/<name>/aliases.json             alias -> version (signed like a manifest under a key)
    <root>/runs/<run_id>.json              run records

A version is written into a hidden temporary folder beside the versions, checksummed, and renamed into place
under the model's lock, so a reader never sees a half-written version and two writers never share a number.
"""

from __future__ import annotations

import contextlib
import errno
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
from .names import NAME, check_name, parse_version
from .signing import signature_problems, signed
from .suggest import did_you_mean

MANIFEST = "manifest.json"
ALIASES = "aliases.json"
LAST_VERSION = ".last-version"
RUNS = "runs"
TEMP_PREFIX = ".tmp-"
GC_GRACE_SECONDS = 600.0  # how old an unlocked temporary must be before gc removes it
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")  # matched whole (fullmatch)
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
    """``--store``, else ``EMBERFLOW_STORE``, else ``./models``: a folder of this machine (or one mounted on it).
    A Hadoop URI is refused: the store relies on local renames, locks and fsync, which hdfs:// and s3a:// do not
    offer; a cluster reaches models through Spark's staging location instead."""
    root = str(explicit or os.environ.get("EMBERFLOW_STORE") or "models")
    if "://" in root:
        raise UserError(f"the model store must be a folder on this machine, not {root}: keep it on the driver's "
                        "machine (--store DIR) and give a Spark cluster a staging location (--spark-staging URI or "
                        "spark: staging:), through which models go to and from its executors")
    return Path(root)


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
        """The models: folders with a model's name and at least one version, not symbolic links out of the store."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if _is_model_name(p.name) and self.versions(p.name))

    def versions(self, name: str) -> list[int]:
        """The versions of ``name``: its folders named 1, 2, 3 ... (canonical decimals: no leading zero, ASCII
        digits) that hold a manifest and are inside the store. The store ignores anything else (see ``strays``)."""
        folder = self._model_folder(name)
        if folder is None:
            return []
        found = ((parse_version(p.name), p) for p in folder.iterdir())
        return sorted(v for v, p in found if v is not None and self._inside(p) and (p / MANIFEST).is_file())

    def ref(self, name: str, version: int) -> VersionRef:
        """The reference to version ``version`` of ``name`` (which should be one of ``versions(name)``)."""
        return VersionRef(name, version, self.root / name / str(version))

    def _model_folder(self, name: str) -> Path | None:
        folder = self.root / name
        return folder if _is_model_name(name) and folder.is_dir() and self._inside(folder) else None

    def _inside(self, path: Path) -> bool:
        """Whether the model or version folder ``path`` is really in the store: not a symbolic link leading out."""
        return not path.is_symlink() or path.resolve().is_relative_to(self.root.resolve())

    def strays(self, name: str | None = None) -> list[tuple[str, str]]:
        """What the store ignores, as (where, why): in ``name``'s folder (or in every model folder and at the top
        of the store, when None), each entry that is not a version, hidden, nor aliases.json."""
        if name is not None:
            return self._model_strays(name)
        if not self.root.is_dir():
            return []
        found: list[tuple[str, str]] = []
        for path in sorted(self.root.iterdir()):
            if path.name.startswith(".") or path.name == RUNS or not path.is_dir():
                continue
            if not _is_model_name(path.name):
                found.append((path.name, "not a model name (letters, digits, '.', '_' and '-', at most 128); "
                                         "the store ignores this folder"))
            elif not self._inside(path):
                found.append((path.name, f"a symbolic link out of the store (to {path.resolve()}); the store "
                                         "ignores it"))
            else:
                found += self._model_strays(path.name)
        return found

    def _model_strays(self, name: str) -> list[tuple[str, str]]:
        folder = self._model_folder(name)
        if folder is None:
            return []
        found = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or path.name == ALIASES:
                continue
            if parse_version(path.name) is None:
                why = "not a version: version folders are named 1, 2, 3 ... (no leading zero, ASCII digits)"
            elif not self._inside(path):
                why = f"a symbolic link out of the store (to {path.resolve()})"
            elif not (path / MANIFEST).is_file():
                why = f"holds no {MANIFEST}"
            else:
                continue
            found.append((f"{name}/{path.name}", f"{why}; the store ignores it"))
        return found

    def aliases(self, name: str) -> dict[str, int]:
        """``name``'s aliases that map an alias name to a version number (an unreadable aliases.json raises)."""
        return _alias_entries(self._alias_file(name), name)[0]

    def alias_problems(self, name: str) -> list[str]:
        """Why some of ``name``'s aliases cannot be used, one line each (see ``alias_report``)."""
        return self.alias_report(name)[1]

    def alias_report(self, name: str) -> tuple[dict[str, int], list[str]]:
        """``name``'s usable aliases and one line per problem: an unreadable aliases.json, a signature refused under
        the key, an entry that is not an alias and a version number, an alias pointing at a version the model
        does not have. Never raises, so that listing and verifying go on past a damaged model."""
        held, unreadable = self._read_alias_file(name)
        if unreadable:
            return {}, [unreadable]
        aliases, problems = _alias_entries(held, name)
        problems = _alias_file_problems(name, held) + problems
        versions = self.versions(name)
        problems += [f"alias '{alias}' points at version {version}, which model '{name}' does not have (versions: "
                     f"{_listed(versions)}); point it at one: emberflow models alias {name} VERSION {alias}"
                     for alias, version in sorted(aliases.items()) if version not in versions]
        return aliases, problems

    def _alias_file(self, name: str) -> dict[str, Any]:
        held, unreadable = self._read_alias_file(name)
        if unreadable:
            raise IntegrityError(f"model '{name}': {unreadable}")
        return held

    def _read_alias_file(self, name: str) -> tuple[dict[str, Any], str | None]:
        """``aliases.json`` as written: ``{"name", "aliases", "signature"}`` (a plain alias -> version map in
        stores written before aliases were signed); ``{}`` when there is none. Or why it cannot be read."""
        path = self.root / name / ALIASES
        if not path.is_file():
            return {}, None
        try:
            with open(path, encoding="utf-8") as handle:
                held = json.load(handle)
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep to parse
            return {}, f"{ALIASES} is not readable JSON ({_reason(exc)})"
        if not isinstance(held, dict) or ("aliases" in held and not isinstance(held["aliases"], dict)):
            return {}, f"{ALIASES} does not hold aliases"
        return (held if "aliases" in held else {"aliases": held}), None

    def _write_aliases(self, name: str, aliases: dict[str, Any]) -> None:
        write_json_atomic(self.root / name / ALIASES, signed({"name": name, "aliases": dict(sorted(aliases.items()))}))

    def resolve(self, ref: str) -> VersionRef:
        """``name``, ``name@latest``, ``name@3`` or ``name@alias`` to a stored version. A version is written as
        its folder is named: ``name@003`` is refused, with the hint ``name@3``."""
        name, _, which = str(ref).partition("@")
        check_name(name)
        versions = self.versions(name)
        if not versions:
            raise self._no_model(name)
        if which in ("", "latest"):
            version = versions[-1]
        elif which.isascii() and which.isdigit():
            version = _requested_version(name, which, versions)
        else:
            version = self._alias_target(name, which, versions)
        return self.ref(name, version)

    def _no_model(self, name: str) -> ModelNotFound:
        names = self.names()
        return ModelNotFound(f"no model '{name}' in the store at {self.root}{did_you_mean(name, names)} "
                             f"(models: {', '.join(names) or 'the store is empty'})")

    def _alias_target(self, name: str, alias: str, versions: list[int]) -> int:
        held = self._alias_file(name)  # read once: the map and its signature from the same file
        entries = held.get("aliases", {})
        if alias not in entries:
            usable = _alias_entries(held, name)[0]
            listed = ", ".join(f"{a}={v}" for a, v in sorted(usable.items())) or "none"
            raise ModelNotFound(f"model '{name}' has no alias '{alias}'{did_you_mean(alias, usable)}; aliases: "
                                f"{listed}; versions: {_listed(versions)}")
        again = f"emberflow models alias {name} VERSION {alias}"
        problems = _alias_file_problems(name, held)
        if problems:
            raise IntegrityError(f"model '{name}': {problems[0]}; refusing to resolve alias '{alias}' (set "
                                 f"it again with the key: {again})")
        version = _alias_version(entries[alias])
        if version is None:
            raise IntegrityError(f"model '{name}': alias '{alias}' is {entries[alias]!r} in {ALIASES}, not a version "
                                 f"number; set it again: {again}")
        if version not in versions:
            raise IntegrityError(f"model '{name}': alias '{alias}' points at version {version}, which the model does "
                                 f"not have (versions: {_listed(versions)}); point it at one: {again}")
        return version

    def manifest(self, ref: VersionRef) -> dict[str, Any]:
        """``ref``'s manifest, once it reads as one and says it is ``ref``: a version folder copied from another
        model or another number is refused, with or without a signing key. A symbolic link is not followed."""
        try:
            with open(os.open(ref.path / MANIFEST, os.O_RDONLY | os.O_NOFOLLOW), encoding="utf-8") as handle:
                manifest = json.load(handle)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise IntegrityError(f"{ref}: {MANIFEST} is a symbolic link; refusing to use it") from None
            raise IntegrityError(f"{ref}: {MANIFEST} is not readable ({exc}); refusing to use it") from None
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested too deep to parse
            raise IntegrityError(f"{ref}: {MANIFEST} is not readable JSON ({_reason(exc)}); refusing to use it") \
                from None
        if not isinstance(manifest, dict):
            raise IntegrityError(f"{ref}: {MANIFEST} does not hold a manifest; refusing to use it")
        _check_location(ref, manifest)
        files = manifest.get("files")
        if files is not None and not (isinstance(files, dict) and all(isinstance(m, dict) for m in files.values())):
            raise IntegrityError(f"{ref}: {MANIFEST} lists its files in another shape than path -> (sha256, size); "
                                 "refusing to use it")
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
        folder = self._folder_to_write(name)
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
        folder = self._folder_to_write(name)
        tmp = folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        tmp.mkdir()
        claim = _claim(tmp)  # held until the version is in place, so gc leaves a live writer's folder alone
        try:
            manifest = write(tmp)
            manifest["files"] = file_digests(tmp)
            _fsync_tree(tmp)
            with self._lock(name):
                version = self._next_version(name)
                described = {k: v for k, v in manifest.items() if k not in ("name", "version")}
                manifest = signed({"name": name, "version": version, **described})
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

    def _folder_to_write(self, name: str) -> Path:
        """``name``'s folder, made if need be; refused if it is a symbolic link out of the store, which the store
        does not follow (what it wrote there would not be listed nor loaded)."""
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        if not self._inside(folder):
            raise UserError(f"{folder} is a symbolic link out of the store, which the store does not follow; "
                            "nothing is written there (remove the link, or choose another model name)")
        return folder

    def set_alias(self, name: str, version: int, alias: str) -> None:
        """Point ``alias`` at ``version``; the file's other entries are kept as they are."""
        check_name(name)
        check_name(alias, "alias")
        if alias in RESERVED_ALIASES or alias.isdigit():
            raise UserError(f"'{alias}' cannot be an alias (it reads as a version); choose another")
        versions = self.versions(name)
        if not versions:
            raise self._no_model(name)
        if version not in versions:
            raise ModelNotFound(f"model '{name}' has no version {version}; versions: {_listed(versions)}")
        with self._lock(name):
            entries = dict(self._alias_file(name).get("aliases", {}))
            entries[alias] = version
            self._write_aliases(name, entries)

    def _next_version(self, name: str) -> int:
        """One more than any version the model ever had: a deleted number is never given out again, nor one whose
        name is taken by something that is not a version (a folder without a manifest, a link out of the store)."""
        folder = self.root / name
        try:
            deleted = parse_version((folder / LAST_VERSION).read_text(encoding="utf-8").strip()) or 0
        except (OSError, ValueError):  # nothing deleted yet (or an unreadable mark: the versions still count)
            deleted = 0
        taken = (parse_version(p.name) for p in folder.iterdir())
        return max([deleted, *(number for number in taken if number is not None)]) + 1

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
            # The number is remembered before the aliases change: a write that fails (a full disk) then leaves
            # the version and its aliases as they were.
            highest = max([self._next_version(ref.name) - 1, ref.version])
            _write_text_atomic(self.root / ref.name / LAST_VERSION, f"{highest}\n")
            if pointing:  # the file's other entries are kept as they are
                entries = self._alias_file(ref.name).get("aliases", {})
                self._write_aliases(ref.name, {a: v for a, v in entries.items() if a not in pointing})
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
                self.delete(self.ref(name, version))
            except (AliasedVersion, ModelNotFound):  # aliased or deleted meanwhile by someone else
                continue
            deleted.append(version)
        return deleted

    def stored_file(self, ref: VersionRef, rel: str) -> Path:
        """The file ``rel`` of a version, for downloads and file views: only a file its manifest lists, and
        only if its real path (symbolic links followed) stays inside the version's folder. A name the manifest
        lists that no file can have (a NUL byte, too long for the file system) is an integrity error."""
        if rel != MANIFEST and rel not in (self.manifest(ref).get("files") or {}):
            raise ModelNotFound(f"{ref} has no file {rel[:200]!r}")
        try:
            base = ref.path.resolve()
            path = (base / rel).resolve()
            inside = path.is_relative_to(base) and base.is_relative_to(self.root.resolve()) and path.is_file()
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{ref}: its manifest lists a file name no file can have ({exc})") from None
        if not inside:
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
        records = [p for p in self.runs_dir.glob("*.json") if RUN_ID.fullmatch(p.stem)]
        records.sort(key=lambda p: (p.stem.partition("-")[0], _mtime_ns(p), p.stem), reverse=True)
        return [p.stem for p in records]

    def read_run(self, run_id: str) -> dict[str, Any]:
        """A run record by id, or by a prefix that only one run id starts with."""
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            raise ModelNotFound(f"no run {run_id!r} in the store at {self.root}")
        matches = [r for r in self.run_ids() if r.startswith(run_id)]
        exact = [r for r in matches if r == run_id]
        if len(exact) != 1 and len(matches) != 1:
            hint = f"{len(matches)} runs start with it; give more of the id" if matches else \
                "list them with: emberflow runs list"
            raise ModelNotFound(f"no single run {run_id!r} in the store at {self.root} ({hint})")
        path = self.runs_dir / f"{(exact or matches)[0]}.json"
        try:
            with open(path, encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError, RecursionError) as exc:
            raise IntegrityError(f"run record {path.name} is not readable JSON ({_reason(exc)})") from None
        if not isinstance(record, dict):
            raise IntegrityError(f"run record {path.name} does not hold a run record")
        return _run_record_in_shape(record)

    def write_run(self, record: dict[str, Any]) -> Path:
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        path = self.runs_dir / f"{record['run_id']}.json"
        write_json_atomic(path, record)
        return path


_RUN_FIELD_TYPES = {"workflow": dict, "error": dict, "metrics": dict, "vars": dict,
                    "steps": list, "models": list, "edges": list, "warnings": list}
_NUMBER_FIELDS = ("seconds", "rows")


def _run_record_in_shape(record: dict[str, Any]) -> dict[str, Any]:
    """A run record whose fields have the types the runner writes: a field of another type (a record edited by
    hand) is dropped, as are list entries that are not mappings, so that every reader (``runs show``, the UI) can
    rely on the shape. Nothing is loaded from a record; this only keeps the readers from failing on it."""
    shaped = {k: v for k, v in record.items() if k not in _RUN_FIELD_TYPES or isinstance(v, _RUN_FIELD_TYPES[k])}
    shaped = _numbers_in_shape(shaped)
    for key in ("steps", "models", "edges"):
        if key in shaped:
            shaped[key] = [_numbers_in_shape(e) for e in shaped[key] if isinstance(e, dict)]
    return shaped


def _numbers_in_shape(entry: dict[str, Any]) -> dict[str, Any]:
    shaped = {k: v for k, v in entry.items()
              if k not in _NUMBER_FIELDS or v is None or (isinstance(v, int | float) and not isinstance(v, bool))}
    if not isinstance(shaped.get("metrics", {}), dict):
        del shaped["metrics"]
    return shaped


def _reason(exc: BaseException) -> str:
    """Why a JSON file did not parse, in words: a RecursionError's own text says nothing of the file."""
    return "nested too deep" if isinstance(exc, RecursionError) else str(exc)


def _mtime_ns(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:  # removed meanwhile
        return 0


def _is_model_name(name: str) -> bool:
    return bool(NAME.fullmatch(name)) and name not in RESERVED_NAMES and name not in (".", "..")


def _listed(versions: list[int]) -> str:
    return ", ".join(map(str, versions)) or "none"


def _requested_version(name: str, which: str, versions: list[int]) -> int:
    """The version ``which`` (ASCII digits) of ``name@which``: written as its folder is named, and stored."""
    version = parse_version(which)
    if version is None and parse_version(which.lstrip("0")) is not None:
        raise UserError(f"'{name}@{which}': a version is written without leading zeros: {name}@{which.lstrip('0')}")
    if version is None or version not in versions:
        raise ModelNotFound(f"model '{name}' has no version {which}; versions: {_listed(versions)}")
    return version


def _alias_version(value: Any) -> int | None:
    """The version an aliases.json entry points at: a JSON integer of 1 or more (not ``true``, ``1.9``, ``"3"``)."""
    return value if type(value) is int and value >= 1 else None


def _alias_entries(held: dict[str, Any], name: str) -> tuple[dict[str, int], list[str]]:
    """The usable entries of model ``name``'s aliases.json, and one line for each other entry."""
    usable, problems = {}, []
    for alias, value in held.get("aliases", {}).items():
        version = _alias_version(value)
        if not NAME.fullmatch(alias) or alias.isdigit() or alias in RESERVED_ALIASES:
            problems.append(f"{ALIASES} holds {alias!r}, which is not an alias name; it is ignored")
        elif version is None:
            problems.append(f"alias '{alias}' is {value!r} in {ALIASES}, not a version number; it is ignored (set "
                            f"it again: emberflow models alias {name} VERSION {alias})")
        else:
            usable[alias] = version
    return usable, problems


def _check_location(ref: VersionRef, manifest: dict[str, Any]) -> None:
    """Refuse a manifest that is not of the version whose folder holds it: a folder copied by hand from another
    model, or from another version number, would otherwise load under a name and number it was never saved as."""
    name, version = manifest.get("name"), manifest.get("version")
    if name == ref.name and type(version) is int and version == ref.version:
        return
    raise IntegrityError(f"{ref}: {MANIFEST} is of model {name!r} version {version!r}, not of {ref} where it sits "
                         "(a version folder copied or renamed by hand); refusing to use it (to copy a version "
                         "between models or stores: emberflow models download, then emberflow models import)")


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
