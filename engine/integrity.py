"""SHA-256 digests of a model's files, and the check that runs before anything is deserialized."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from .errors import IntegrityError

CHUNK = 4 * 1024 * 1024
MANIFEST = "manifest.json"


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
    """Every file under ``folder`` (the manifest aside) by POSIX relative path: its SHA-256 and size."""
    return {
        p.relative_to(folder).as_posix(): {"sha256": sha256_file(p), "size": p.stat().st_size}
        for p in _files(folder)
    }


def find_problems(folder: Path, manifest: dict[str, Any], extras: bool = True) -> list[str]:
    """What differs between ``folder`` and the files its manifest lists: changed, missing and (with ``extras``)
    files the manifest does not list."""
    expected: dict[str, dict[str, Any]] = manifest.get("files") or {}
    problems: list[str] = []
    if extras:
        present = {p.relative_to(folder).as_posix(): p for p in _files(folder)}
    else:  # only the listed files, and only inside ``folder``: no walk of a large shared folder
        present = {rel: folder / rel for rel in expected
                   if ".." not in Path(rel).parts and not Path(rel).is_absolute() and (folder / rel).is_file()}
    for rel, meta in sorted(expected.items()):
        path = present.get(rel)
        if path is None:
            problems.append(f"{rel}: missing")
        elif path.is_symlink():
            problems.append(f"{rel}: is a symbolic link, not a stored file")
        elif path.stat().st_size != meta.get("size"):
            problems.append(f"{rel}: size {path.stat().st_size} differs from the manifest's {meta.get('size')}")
        elif sha256_file(path) != meta.get("sha256"):
            problems.append(f"{rel}: SHA-256 differs from the manifest")
    if extras:
        problems += [f"{rel}: not listed in the manifest" for rel in sorted(set(present) - set(expected))]
    return problems


def verify_folder(folder: Path, manifest: dict[str, Any], what: str) -> None:
    """Raise ``IntegrityError`` naming every file of ``folder`` that does not match ``manifest``."""
    if not manifest.get("files"):
        raise IntegrityError(f"{what}: the manifest lists no files; refusing to load it")
    problems = find_problems(folder, manifest)
    if problems:
        raise IntegrityError(f"{what} does not match its manifest, refusing to load it: {'; '.join(problems)}")
