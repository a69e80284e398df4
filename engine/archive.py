"""A stored version as one zip file, and back: ``models download`` / ``models import`` and the web UI's
download links.

The zip holds one folder, ``<name>-<version>/``, with the version's manifest and every file it lists (a Spark
ML directory keeps its tree). Exporting re-hashes each file as it is written, so a damaged version is never
handed out. Importing trusts nothing in the zip: a member that is a symbolic link, has an absolute path or
``..``, or is not listed in the manifest refuses the whole archive before a byte is written, and the files
are checked against the manifest inside the store's hidden temporary folder before the new version appears.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import IntegrityError, UserError
from .integrity import CHUNK
from .store import MANIFEST, TEMP_PREFIX, ModelStore, VersionRef, check_name

MAX_MANIFEST_BYTES = 16 * 1024 * 1024


def zip_folder_name(ref: VersionRef) -> str:
    return f"{ref.name}-{ref.version}"


def export_zip(store: ModelStore, ref: VersionRef, target: str | os.PathLike) -> Path:
    """Write ``ref`` as a zip at ``target`` (through a temporary file renamed into place); return its path."""
    target = Path(target)
    if target.is_dir():
        example = target / f"{zip_folder_name(ref)}.zip"
        raise UserError(f"{target} is a folder; give the zip file to write, such as {example}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{target.name}")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _write_version(store, ref, archive)
        os.replace(tmp, target)
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


def import_zip(store: ModelStore, source: str | os.PathLike, name: str | None = None) -> VersionRef:
    """Add the version in the zip at ``source`` to ``store`` as the next version of ``name`` (default: the
    name in its manifest)."""
    source = Path(source)
    if not source.is_file():
        raise UserError(f"no zip file at {source}; make one with: emberflow models download NAME -o FILE.zip")
    try:
        archive = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise UserError(f"{source} is not a zip file ({exc}); expected one made by emberflow models "
                        "download") from None
    with archive:
        members, manifest = _checked_members(archive, source)
        target = check_name(name or manifest.get("name"), "model name")

        def fill(folder: Path) -> None:
            for rel, info in members.items():
                _extract(archive, info, folder / rel, manifest["files"][rel].get("size"))

        return store.import_version(target, manifest, fill)


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
    manifest = _read_manifest(archive, members.pop(MANIFEST), source)
    listed = set(manifest["files"])
    if set(members) != listed:
        extra = sorted(set(members) - listed)
        missing = sorted(listed - set(members))
        raise IntegrityError(f"{source}: the zip's files differ from its manifest (not listed: "
                             f"{', '.join(extra) or 'none'}; missing: {', '.join(missing) or 'none'}); "
                             "nothing imported")
    return members, manifest


def _check_member(info: zipfile.ZipInfo, source: Path) -> None:
    """Refuse a member that could land outside the target folder or is not a plain file or folder."""
    name = info.filename
    path = PurePosixPath(name)
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip was not made on Unix
    bad = (
        "an absolute path" if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":")
        else "a '..' part" if ".." in path.parts or "\\" in name
        else "a symbolic link" if kind == stat.S_IFLNK
        else "not a plain file" if kind not in (0, stat.S_IFREG, stat.S_IFDIR)
        else None
    )
    if bad:
        raise UserError(f"{source}: member {name!r} is {bad}; refusing the whole zip, nothing written")


def _read_manifest(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: Path) -> dict[str, Any]:
    if info.file_size > MAX_MANIFEST_BYTES:
        raise UserError(f"{source}: {MANIFEST} is {info.file_size:,} bytes, too large to be a manifest")
    try:
        manifest = json.loads(archive.read(info).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise IntegrityError(f"{source}: {MANIFEST} is not readable JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict) or not manifest["files"]:
        raise IntegrityError(f"{source}: {MANIFEST} lists no files; it is not an emberflow model manifest")
    return manifest


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, size: Any) -> None:
    """Copy one member, reading no more than the manifest's size plus one byte (a zip bomb stops there)."""
    limit = int(size) + 1 if isinstance(size, int) else info.file_size + 1
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as src, open(target, "xb") as dst:
        while written < limit and (chunk := src.read(min(CHUNK, limit - written))):
            dst.write(chunk)
            written += len(chunk)
