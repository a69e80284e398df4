"""The workflow pages: the files found in the configured folders, each checked by emberflow's own loader and
drawn, with the work per file and per request bounded, and cached while a file is unchanged.

- Results are cached by the file's (path, mtime_ns, size): an unchanged file is read, checked and drawn once.
- The list page only checks files (it draws nothing), and at most ``LIST_BUDGET_FILES`` files or
  ``LIST_BUDGET_BYTES`` bytes of them per request; the rest say "not checked yet" until a later request.
- A file over ``MAX_CHECKED_BYTES`` is not checked here (its page shows its start and how to check it).
- A graph is drawn only within ``graph.MAX_DRAWN_STEPS`` steps and ``graph.MAX_DRAWN_CELLS`` boxes, edges and
  bends; a page shows at most ``SOURCE_BYTES`` of the source and ``MAX_LISTED_STEPS`` steps.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import EmberflowError, WorkflowError
from .graph import TooLargeToDraw, workflow_graph

WORKFLOW_SUFFIXES = (".yaml", ".yml")
MAX_CHECKED_BYTES = 512 * 1024
SOURCE_BYTES = 256 * 1024
MAX_LISTED_STEPS = 500
LIST_BUDGET_FILES = 100
LIST_BUDGET_BYTES = 1024 * 1024
CACHED_CHECKS = 1024
CACHED_PAGES = 32

Stamp = tuple[str, int, int]  # path, mtime_ns, size


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


@dataclass(frozen=True)
class Check:
    """What the list shows of a file. ``state``: valid, invalid, too-large, unreadable or unchecked."""

    state: str
    name: str | None = None
    steps: int | None = None
    problem: str | None = None
    line: int | None = None


class _Cache:
    """A small least-recently-used map, safe to share between the server's threads."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[Stamp, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Stamp | None) -> Any:
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: Stamp, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class WorkflowPages:
    """Checks and pages of workflow files, cached by each file's (path, mtime_ns, size)."""

    def __init__(self) -> None:
        self._checks = _Cache(CACHED_CHECKS)
        self._pages = _Cache(CACHED_PAGES)

    def rows(self, catalog: dict[str, Path]) -> list[tuple[str, Check]]:
        """Every file with its check: cached, else made while this request's budget lasts, else unchecked."""
        rows, files, spent = [], 0, 0
        for key, path in catalog.items():
            stamp = _stamp(path)
            check = self._checks.get(stamp) if stamp else _unreadable(path)
            if check is None and files < LIST_BUDGET_FILES and spent < LIST_BUDGET_BYTES:
                check, _workflow = self._check(path, stamp)
                files, spent = files + 1, spent + (stamp[2] if stamp[2] <= MAX_CHECKED_BYTES else 0)
            rows.append((key, check or Check("unchecked")))
        return rows

    def page(self, path: Path) -> dict[str, Any]:
        """What a workflow's page shows: the check, the source (its start), the steps and the graph."""
        stamp = _stamp(path)
        if stamp is None:
            return {"check": _unreadable(path), "lines": [], "cut": False, "steps": [], "more_steps": 0,
                    "graph": None, "graph_note": None}
        view = self._pages.get(stamp)
        if view is None:
            view = self._page(path, stamp)
            self._pages.put(stamp, view)
        return view

    def _check(self, path: Path, stamp: Stamp) -> tuple[Check, Any]:
        from ..workflow import load_workflow

        if stamp[2] > MAX_CHECKED_BYTES:
            check: Check = Check("too-large", problem=(
                f"not checked here: the file is {stamp[2]:,} bytes and the UI checks files up to "
                f"{MAX_CHECKED_BYTES:,}; check it with: emberflow validate {path}"))
            workflow = None
        else:
            try:
                workflow = load_workflow(path)
                check = Check("valid", name=workflow.name, steps=len(workflow.steps))
            except EmberflowError as exc:
                workflow, check = None, Check("invalid", problem=str(exc), line=_line_of(exc))
        self._checks.put(stamp, check)
        return check, workflow

    def _page(self, path: Path, stamp: Stamp) -> dict[str, Any]:
        check, workflow = self._check(path, stamp)
        text, whole = _read_start(path, max(SOURCE_BYTES, MAX_CHECKED_BYTES))
        shown = text[:SOURCE_BYTES]
        view: dict[str, Any] = {"check": check, "lines": shown.splitlines(),
                                "cut": len(shown) < len(text) or not whole, "description": None,
                                "steps": [], "more_steps": 0, "graph": None, "graph_note": None}
        if workflow is not None:
            steps = [(s.id, s.node, s.engine) for s in workflow.steps]
            edges = [(ref.step, s.id, port) for s in workflow.steps for port, ref in s.inputs.items()]
            view.update(description=workflow.description, steps=workflow.steps[:MAX_LISTED_STEPS],
                        more_steps=max(len(workflow.steps) - MAX_LISTED_STEPS, 0))
            view["graph"], view["graph_note"] = _draw(steps, edges, workflow.name)
        elif check.state == "invalid" and whole:
            view["graph"], view["graph_note"] = _raw_graph(text, path.name)
        return view


def _stamp(path: Path) -> Stamp | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return str(path), status.st_mtime_ns, status.st_size


def _unreadable(path: Path) -> Check:
    return Check("unreadable", problem=f"{path} cannot be read (it was removed or its permissions changed)")


def _read_start(path: Path, limit: int) -> tuple[str, bool]:
    """The first ``limit`` bytes of a file as text (undecodable bytes replaced), and whether that is all."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(limit + 1)
    except OSError:
        return "", False
    return head[:limit].decode("utf-8", errors="replace"), len(head) <= limit


def _draw(steps: list[tuple[str, str, str]], edges: list[tuple[str, str, str]], name: str,
          ) -> tuple[str | None, str | None]:
    try:
        return workflow_graph(steps, edges, name), None
    except TooLargeToDraw as exc:
        return None, str(exc)


def _line_of(exc: Exception) -> int | None:
    location = getattr(exc, "location", None) if isinstance(exc, WorkflowError) else None
    if not location:
        return None
    parts = str(location).rsplit(":", 2)
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def _raw_graph(text: str, name: str) -> tuple[str | None, str | None]:
    """Steps and inputs as written, for a file that did not validate, read with the same bounded loader as
    validation; no graph if even that cannot read it (the check already says why)."""
    from ..source import load_yaml

    try:
        data, _source = load_yaml(text, name)
    except EmberflowError:
        return None, None
    raw_steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(raw_steps, list):
        return None, None
    first: dict[str, dict] = {}
    for step in raw_steps:
        if isinstance(step, dict) and "id" in step:
            first.setdefault(str(step["id"]), step)  # a duplicated id is drawn once, as first written
    steps = [(i, str(s.get("node", "?")), str(s.get("engine", ""))) for i, s in first.items()]
    edges = [(str(ref).partition(".")[0], i, str(port)) for i, s in first.items()
             if isinstance(s.get("inputs"), dict) for port, ref in s["inputs"].items()]
    return _draw(steps, edges, name) if steps else (None, None)
