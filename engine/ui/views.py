"""What the pages show, computed without the web framework: file trees, searches, workflow files and their
graphs. The routes in ``app.py`` only fetch, call these and render templates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EmberflowError, ModelNotFound, UserError, WorkflowError
from ..names import check_name
from .graph import workflow_graph

WORKFLOW_SUFFIXES = (".yaml", ".yml")
PREVIEW_BYTES = 256 * 1024
VERSION = re.compile(r"[1-9][0-9]{0,17}", re.ASCII)  # how the store names version folders


@dataclass(frozen=True)
class TreeRow:
    depth: int
    name: str
    path: str            # the file's path in the version ("" for a folder)
    size: int
    folder: bool


def tree_rows(files: dict[str, dict[str, Any]]) -> list[TreeRow]:
    """A manifest's files as rows of an indented tree: folders first at each level, with their total size."""
    root: dict[str, Any] = {}
    for rel, meta in files.items():
        node = root
        parts = rel.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part + "/", {})
        node[parts[-1]] = (rel, int(meta.get("size") or 0))
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
    if which == "latest" or VERSION.fullmatch(which):
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


def workflow_catalog(sources: list[Path]) -> dict[str, Path]:
    """Workflow files by a key for URLs: ``<folder>/<path in it>`` for a folder's files, the name for a file.

    Only files whose real path is inside the folder they were found in are listed, so a symbolic link in a
    workflow folder cannot show a file from elsewhere; pages look keys up here and never join paths.
    """
    catalog: dict[str, Path] = {}
    for source in sources:
        if source.is_file():
            _add(catalog, source.name, source)
        elif source.is_dir():
            base = source.resolve()
            for path in sorted(source.rglob("*")):
                if path.suffix in WORKFLOW_SUFFIXES and path.is_file() and path.resolve().is_relative_to(base):
                    _add(catalog, f"{source.resolve().name}/{path.relative_to(source).as_posix()}", path)
    return catalog


def _add(catalog: dict[str, Path], key: str, path: Path) -> None:
    unique, number = key, 2
    while unique in catalog:
        unique, number = f"{key}~{number}", number + 1
    catalog[unique] = path


def workflow_view(path: Path) -> dict[str, Any]:
    """A workflow file checked by emberflow's own loader: its steps and graph, or the problem found and the
    line it is on (with a best-effort graph of what could be read)."""
    from ..workflow import load_workflow

    text = path.read_text(encoding="utf-8", errors="replace")
    view: dict[str, Any] = {"text": text, "lines": text.splitlines(), "error": None, "error_line": None}
    try:
        workflow = load_workflow(path)
    except EmberflowError as exc:
        view["error"] = str(exc)
        view["error_line"] = _line_of(exc)
        view["graph"] = _raw_graph(text, path.name)
        return view
    steps = [(s.id, s.node, s.engine) for s in workflow.steps]
    edges = [(ref.step, s.id, port) for s in workflow.steps for port, ref in s.inputs.items()]
    view.update(name=workflow.name, description=workflow.description, engine=workflow.engine,
                steps=workflow.steps, graph=workflow_graph(steps, edges, workflow.name))
    return view


def _line_of(exc: Exception) -> int | None:
    location = getattr(exc, "location", None) if isinstance(exc, WorkflowError) else None
    if not location:
        return None
    parts = str(location).rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _raw_graph(text: str, name: str) -> str | None:
    """Steps and inputs as written, for a file that did not validate; None if even that cannot be read."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    raw_steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(raw_steps, list):
        return None
    first: dict[str, dict] = {}
    for step in raw_steps:
        if isinstance(step, dict) and "id" in step:
            first.setdefault(str(step["id"]), step)  # a duplicated id is drawn once, as first written
    steps = [(i, str(s.get("node", "?")), str(s.get("engine", ""))) for i, s in first.items()]
    edges = [(str(ref).partition(".")[0], i, str(port)) for i, s in first.items()
             if isinstance(s.get("inputs"), dict) for port, ref in s["inputs"].items()]
    return workflow_graph(steps, edges, name) if steps else None
