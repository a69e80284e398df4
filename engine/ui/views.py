"""What the model pages show, computed without the web framework: file trees, searches, versions from URLs.
The routes in ``app.py`` only fetch, call these and render templates (the workflow pages' are in
``workflows.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelNotFound, UserError
from ..names import check_name, parse_version

PREVIEW_BYTES = 256 * 1024


@dataclass(frozen=True)
class TreeRow:
    depth: int
    name: str
    path: str            # the file's path in the version ("" for a folder)
    size: int
    folder: bool


def tree_rows(files: dict[str, dict[str, Any]]) -> list[TreeRow]:
    """A manifest's files as rows of an indented tree: folders first at each level, with their total size (a
    size that is not a whole number counts as 0)."""
    root: dict[str, Any] = {}
    for rel, meta in files.items():
        node = root
        parts = str(rel).split("/")
        for part in parts[:-1]:
            node = node.setdefault(part + "/", {})
        size = meta.get("size") if isinstance(meta, dict) else None
        node[parts[-1]] = (rel, size if isinstance(size, int) and not isinstance(size, bool) else 0)
    rows: list[TreeRow] = []
    _walk(root, 0, rows)
    return rows


def _walk(node: dict[str, Any], depth: int, rows: list[TreeRow]) -> int:
    total = 0
    for name in sorted(node, key=lambda n: (not n.endswith("/"), n)):
        value = node[name]
        if isinstance(value, dict):
            index = len(rows)
            rows.append(TreeRow(depth, name, "", 0, True))
            size = _walk(value, depth + 1, rows)
            rows[index] = TreeRow(depth, name, "", size, True)
        else:
            rel, size = value
            rows.append(TreeRow(depth, name, rel, size, False))
        total += size
    return total


def version_or_alias(name: str, which: str) -> str:
    """A version as a URL gives it, checked before the store reads it: ``latest``, a version number written
    the one way the store writes them (``1``, ``2``, ``10``: ASCII digits, no leading zero), or an alias. Any
    other text (``01``, ``²``, ``1`` in full-width digits, 8,000 digits) is no version of the model."""
    if which == "latest" or parse_version(which) is not None:
        return which
    if not (which.isascii() and which.isdigit()):
        try:
            return check_name(which, "version or alias")
        except UserError:
            pass
    raise ModelNotFound(f"model '{name}' has no version or alias {clip(which)!r}: a version is a number "
                        "written 1, 2, 3 ..., an alias or latest")


def clip(text: str, limit: int = 200) -> str:
    """A value from a URL, cut short enough to quote in a message."""
    return text if len(text) <= limit else text[:limit] + "\u2026"


def matches(model: dict[str, Any], query: str) -> bool:
    """Whether a model summary matches a search: every word in its name, format, engine or aliases."""
    haystack = " ".join([model["name"], str(model.get("format")), str(model.get("engine")),
                         *model.get("aliases", {})]).lower()
    return all(word in haystack for word in query.lower().split())


def text_preview(path: Path) -> str | None:
    """The start of a text file, or None for a binary one."""
    with open(path, "rb") as handle:
        head = handle.read(PREVIEW_BYTES + 1)
    if b"\0" in head:
        return None
    try:
        text = head[:PREVIEW_BYTES].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text + ("\n\u2026 (cut at 256 KB)" if len(head) > PREVIEW_BYTES else "")
