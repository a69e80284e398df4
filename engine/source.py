"""Safe YAML loading that remembers where every value came from, so errors can say ``file:line:col``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import WorkflowError

try:  # libyaml is much faster, and keeps marks too
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

MAX_WORKFLOW_BYTES = 5 * 1024 * 1024
PathKey = tuple[Any, ...]


@dataclass
class Source:
    """A loaded document's origin: its name and the position of each value (and mapping key) by path."""

    name: str
    text: str = ""
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: PathKey = (), *, key: bool = False) -> str:
        """``name:line:col`` of the value at ``path`` (or of its key), else of its nearest known parent."""
        path = tuple(path)
        if key and path in self.keys:
            return self._format(self.keys[path])
        while path and path not in self.values:
            path = path[:-1]
        return self._format(self.values.get(path))

    def _format(self, mark: tuple[int, int] | None) -> str:
        if mark is None:
            return self.name
        return f"{self.name}:{mark[0] + 1}:{mark[1] + 1}"


def read_text(path: str | Path) -> str:
    """Read a workflow file as UTF-8 text, with a clear error for a missing, huge or binary file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_WORKFLOW_BYTES:
            raise WorkflowError(
                f"file is {size:,} bytes; a workflow file is expected to be under {MAX_WORKFLOW_BYTES:,} bytes",
                str(path),
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkflowError("no such file; check the path to the workflow file", str(path)) from None
    except IsADirectoryError:
        raise WorkflowError("is a folder; expected a workflow YAML file", str(path)) from None
    except PermissionError:
        raise WorkflowError("cannot be read (permission denied)", str(path)) from None
    if b"\x00" in raw:
        raise WorkflowError("is a binary file; expected a UTF-8 YAML workflow", str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkflowError(
            f"is not valid UTF-8 (byte {exc.start}); save the workflow file as UTF-8", str(path)
        ) from None


def load_yaml(text: str, name: str) -> tuple[Any, Source]:
    """Parse one YAML document with safe loading only; return the data and its Source."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        if "could not determine a constructor" in problem:
            tag = problem.rsplit("tag ", 1)[-1]
            problem = (f"tag {tag} is not allowed: workflows are read as plain, safe YAML (no language-specific "
                       "tags); remove the tag")
        raise WorkflowError(f"invalid YAML: {problem}", where) from None
    except yaml.YAMLError as exc:
        raise WorkflowError(f"invalid YAML: {' '.join(str(exc).split())}", name) from None
    finally:
        loader.dispose()
    source = Source(name=name, text=text)
    if node is not None:
        _record_marks(node, (), source)
    return data, source


def _record_marks(node: yaml.Node, path: PathKey, source: Source, depth: int = 0) -> None:
    if depth > 50:
        return
    source.values[path] = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen and key is not None:
                where = f"{source.name}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
                raise WorkflowError(f"duplicate key '{key}'; each key may appear once in a mapping", where)
            seen[key] = key_node
            source.keys[path + (key,)] = (key_node.start_mark.line, key_node.start_mark.column)
            _record_marks(value_node, path + (key,), source, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_marks(item, path + (index,), source, depth + 1)
