"""A stored version as one zip file, and back: ``models download`` / ``models import`` and the web UI's
download links.

The zip holds one folder, ``<name>-<version>/``, with the version's manifest and every file it lists (a Spark
ML directory keeps its tree). Exporting re-hashes each file as it is written, so a damaged version is never
handed out. Importing trusts nothing in the zip: a member that is a symbolic link, has an absolute path or
``..``, or is not listed in the manifest refuses the whole archive before a byte is written, and the files
are checked against the manifest inside the store's hidden temporary folder before the new version appears.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import lzma
import os
import shutil
import stat
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import IntegrityError, UserError, WriteFailed, write_failure
from .integrity import CHUNK
from .store import MANIFEST, TEMP_PREFIX, ModelStore, VersionRef, check_name

MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_MANIFEST_DEPTH = 64  # lists and objects inside one another; emberflow's manifests use fewer than 10
MAX_IMPORT_BYTES = 10 * 1024**3  # what an imported zip may expand to, unless the caller allows more
READABLE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)


def zip_folder_name(ref: VersionRef) -> str:
    return f"{ref.name}-{ref.version}"


def export_zip(store: ModelStore, ref: VersionRef, target: str | os.PathLike) -> Path:
    """Write ``ref`` as a zip at ``target`` (through a temporary file renamed into place); return its path."""
    target = Path(target)
    if target.is_dir():
        example = target / f"{zip_folder_name(ref)}.zip"
        raise UserError(f"{target} is a folder; give the zip file to write, such as {example}")
    tmp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{target.name}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_version(store, ref, archive)
        os.replace(tmp, target)
    except OSError as exc:  # a full disk or a folder we may not write to: one line naming the zip
        failure = write_failure(exc, target)
        if failure is None:
            raise
        raise failure from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _write_version(store: ModelStore, ref: VersionRef, archive: zipfile.ZipFile) -> None:
    manifest = store.manifest(ref)
    files: dict[str, dict[str, Any]] = manifest.get("files") or {}
    if not files:
        raise IntegrityError(f"{ref}: the manifest lists no files; nothing to export")
    top = zip_folder_name(ref)
    archive.write(store.stored_file(ref, MANIFEST), f"{top}/{MANIFEST}")
    for rel, meta in sorted(files.items()):
        source = store.stored_file(ref, rel)
        info = zipfile.ZipInfo.from_file(source, f"{top}/{rel}")
        info.compress_type = zipfile.ZIP_DEFLATED
        digest = hashlib.sha256()
        with open(source, "rb") as src, archive.open(info, "w") as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != meta.get("sha256"):
            raise IntegrityError(f"{ref}: {rel} does not match its SHA-256 in the manifest; not exported "
                                 f"(check it with: emberflow models verify {ref})")


def import_zip(store: ModelStore, source: str | os.PathLike, name: str | None = None,
               max_size: int = MAX_IMPORT_BYTES) -> VersionRef:
    """Add the version in the zip at ``source`` to ``store`` as the next version of ``name`` (default: the
    name in its manifest).

    Before a byte is written, every member must be safe (see ``_check_member``), the sizes in the zip's headers
    must be the manifest's, their sum at most ``max_size`` and less than the free space under the store.
    """
    source = Path(source)
    if not source.is_file():
        raise UserError(f"no zip file at {source}; make one with: emberflow models download NAME -o FILE.zip")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise UserError(f"{source} is not a zip file ({exc}); expected one made by emberflow models "
                        "download") from None
    with archive:
        members, manifest = _checked_members(archive, source)
        target = check_name(name or manifest.get("name"), "model name")
        _check_expanded_size(members, manifest, source, max_size)
        _check_free_space(store.root, sum(info.file_size for info in members.values()), source)

        def fill(folder: Path) -> None:
            for rel, info in members.items():
                _extract(archive, info, folder / rel, source)

        try:
            return store.import_version(target, manifest, fill)
        except OSError as exc:  # flushing the files to disk can be where a full disk shows
            failure = write_failure(exc, exc.filename or store.root)
            if failure is None:
                raise
            raise failure from exc


def _checked_members(archive: zipfile.ZipFile, source: Path) -> tuple[dict[str, zipfile.ZipInfo], dict]:
    """The archive's files by their path in the version, and its manifest, once every member is safe."""
    infos = [i for i in archive.infolist() if not i.is_dir()]
    for info in archive.infolist():
        _check_member(info, source)
    tops = {PurePosixPath(i.filename).parts[0] for i in infos}
    if len(tops) != 1 or not any(PurePosixPath(i.filename).parts[1:] == (MANIFEST,) for i in infos):
        raise UserError(f"{source}: expected one folder holding {MANIFEST} and the model's files, as made by "
                        "emberflow models download")
    top = tops.pop()
    members = {PurePosixPath(i.filename).relative_to(top).as_posix(): i for i in infos}
    if len(members) != len(infos):
        raise UserError(f"{source}: the zip holds the same path twice; refusing it")
    _refuse_files_used_as_folders(members, source)
    manifest = _read_manifest(archive, members.pop(MANIFEST), source)
    listed = set(manifest["files"])
    if set(members) != listed:
        extra = sorted(set(members) - listed)
        missing = sorted(listed - set(members))
        raise IntegrityError(f"{source}: the zip's files differ from its manifest (not listed: "
                             f"{', '.join(extra) or 'none'}; missing: {', '.join(missing) or 'none'}); "
                             "nothing imported")
    return members, manifest


def _refuse_files_used_as_folders(members: dict[str, zipfile.ZipInfo], source: Path) -> None:
    """A file cannot also be the folder of another file (``a`` and ``a/b``), nor the version's folder itself."""
    for rel, info in members.items():
        if rel == ".":
            raise UserError(f"{source}: member {info.filename!r} is a file where the version's folder should be; "
                            "refusing the whole zip, nothing written")
        for parent in PurePosixPath(rel).parents:
            if parent.as_posix() in members:
                raise UserError(f"{source}: {parent.as_posix()!r} is both a file and the folder of {rel!r}; "
                                "refusing the whole zip, nothing written")


def _check_member(info: zipfile.ZipInfo, source: Path) -> None:
    """Refuse a member that could land outside the target folder, is not a plain file or folder, or cannot be
    read as emberflow writes zips (encrypted, or compressed by a method Python does not read)."""
    name = info.filename
    path = PurePosixPath(name)
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip was not made on Unix
    bad = (
        "an absolute path" if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
        else "a '..' part" if ".." in path.parts or "\\" in name
        else "a symbolic link" if kind == stat.S_IFLNK
        else "not a plain file" if kind not in (0, stat.S_IFREG, stat.S_IFDIR)
        else "encrypted" if info.flag_bits & 0x1
        else f"compressed by method {info.compress_type}, which emberflow does not read"
        if info.compress_type not in READABLE_COMPRESSION
        else None
    )
    if bad:
        raise UserError(f"{source}: member {name!r} is {bad}; refusing the whole zip, nothing written")


def _read_manifest(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: Path) -> dict[str, Any]:
    if info.file_size > MAX_MANIFEST_BYTES:
        raise UserError(f"{source}: {MANIFEST} is {info.file_size:,} bytes, too large to be a manifest")
    with _reading(info, source):
        raw = archive.read(info)
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntegrityError(f"{source}: {MANIFEST} is not readable JSON ({exc})") from None
    except RecursionError:
        manifest = None  # nested deeper than the parser goes: reported as too deep below
    if manifest is None or _depth(manifest) > MAX_MANIFEST_DEPTH:
        raise IntegrityError(f"{source}: {MANIFEST} is nested more than {MAX_MANIFEST_DEPTH} levels deep; it is "
                             "not an emberflow model manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict) or not manifest["files"]:
        raise IntegrityError(f"{source}: {MANIFEST} lists no files; it is not an emberflow model manifest")
    for rel, meta in manifest["files"].items():
        if not (isinstance(meta, dict) and isinstance(meta.get("sha256"), str) and type(meta.get("size")) is int
                and meta["size"] >= 0):
            raise IntegrityError(f"{source}: {MANIFEST} lists {rel!r} as {json.dumps(meta)[:80]}; expected "
                                 '{"sha256": "<hex digest>", "size": <bytes>}, as emberflow models download writes')
    return manifest


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0), counted without recursion and no further
    than one level past ``MAX_MANIFEST_DEPTH``."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_MANIFEST_DEPTH:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in children)
    return deepest


def _check_expanded_size(members: dict[str, zipfile.ZipInfo], manifest: dict[str, Any], source: Path,
                         max_size: int) -> None:
    """Refuse a zip whose headers disagree with its manifest on a file's size, or that expands past ``max_size``
    (a zip bomb whose manifest states the true sizes)."""
    for rel, info in members.items():
        size = manifest["files"][rel]["size"]
        if info.file_size != size:
            raise IntegrityError(f"{source}: {rel} is {info.file_size:,} bytes by the zip's header but {size:,} by "
                                 "its manifest; nothing imported")
    total = sum(info.file_size for info in members.values())
    if total > max_size:
        raise UserError(f"{source}: the files expand to {total:,} bytes, over the import limit of {max_size:,} "
                        f"bytes; if the zip is trusted, pass --max-size {total}")


def _check_free_space(root: Path, needed: int, source: Path) -> None:
    place = root.absolute()
    while not place.exists():  # the store may not exist yet: ask the folder it will be made in
        place = place.parent
    free = shutil.disk_usage(place).free
    if needed > free:
        raise WriteFailed(f"{source}: the files expand to {needed:,} bytes but only {free:,} bytes are free at "
                          f"{place}; free space and retry")


@contextlib.contextmanager
def _reading(info: zipfile.ZipInfo, source: Path) -> Iterator[None]:
    """Report a member that does not decompress cleanly (a bad CRC, a corrupt stream, a short file) as damaged."""
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, NotImplementedError) as exc:
        raise IntegrityError(f"{source}: member {info.filename!r} cannot be read ({exc}); the zip is damaged, "
                             "nothing imported") from None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, source: Path) -> None:
    """Copy one member, reading at most one byte more than its header's size: a member that holds more is
    refused (zipfile itself stops at the header's size; this does not rely on it)."""
    limit = info.file_size + 1
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(target, "xb") as dst:
        with _reading(info, source):
            src = archive.open(info)
        with src:
            while written < limit:
                with _reading(info, source):
                    chunk = src.read(min(CHUNK, limit - written))
                if not chunk:
                    break
                _write(dst, chunk, target)
                written += len(chunk)
    if written > info.file_size:
        raise IntegrityError(f"{source}: member {info.filename!r} holds more than the {info.file_size:,} bytes its "
                             "header says; nothing imported")


def _write(handle: Any, chunk: bytes, path: Path) -> None:
    try:
        handle.write(chunk)
    except OSError as exc:
        failure = write_failure(exc, path)
        if failure is None:
            raise
        raise failure from exc
