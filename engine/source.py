"""Safe YAML loading that remembers where every value came from, so errors can say ``file:line:col``."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from .errors import WorkflowError
from .render import printable

try:  # libyaml is much faster, and keeps marks too
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

MAX_WORKFLOW_BYTES = 5 * 1024 * 1024
MAX_VALUES = 100_000  # values in a workflow once YAML aliases are expanded
MAX_FLOW_DEPTH = 1_000  # nested [ and {
PathKey = tuple[Any, ...]


class Source:
    """A loaded document's origin: its name and the position of each value (and mapping key) by path."""

    def __init__(self, name: str, text: str = ""):
        self.name, self.text = name, text
        self.values: dict[PathKey, tuple[int, int]] = {}
        self.keys: dict[PathKey, tuple[int, int]] = {}

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
    """Read a workflow file as UTF-8 text, with a clear error for a missing, huge, binary or non-regular file.

    Only a regular file is read, and at most one byte more than the limit: a device such as ``/dev/zero`` (whose
    size reads as 0) would never end, and a FIFO would block. The file is opened without blocking and checked
    again once open, so a path swapped for a FIFO meanwhile is refused too.
    """
    path = Path(path)
    try:
        _refuse_non_regular(os.stat(path).st_mode, path)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        with open(fd, "rb") as handle:
            _refuse_non_regular(os.fstat(fd).st_mode, path)
            raw = handle.read(MAX_WORKFLOW_BYTES + 1)
    except FileNotFoundError:
        raise WorkflowError(f"no such file (looked for {os.path.abspath(path)}); check the path to the workflow "
                            "file", str(path)) from None
    except PermissionError:
        raise WorkflowError("cannot be read (permission denied)", str(path)) from None
    except OSError as exc:
        raise WorkflowError(f"cannot be read ({exc.strerror or exc})", str(path)) from None
    if len(raw) > MAX_WORKFLOW_BYTES:
        raise WorkflowError(f"file is over {MAX_WORKFLOW_BYTES:,} bytes; a workflow file is expected to be "
                            "smaller", str(path))
    if b"\x00" in raw:
        raise WorkflowError("is a binary file; expected a UTF-8 YAML workflow", str(path))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkflowError(
            f"is not valid UTF-8 (byte {exc.start}); save the workflow file as UTF-8", str(path)
        ) from None


def _refuse_non_regular(mode: int, path: Path) -> None:
    if stat.S_ISDIR(mode):
        raise WorkflowError("is a folder; expected a workflow YAML file", str(path))
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or
                stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "a special file")
        raise WorkflowError(f"is {kind}, not a regular file; save the workflow to a file and give its path",
                            str(path))


def load_yaml(text: str, name: str) -> tuple[Any, Source]:
    """Parse one YAML document with safe loading only; return the data and its Source."""
    if _flow_depth(text) > MAX_FLOW_DEPTH:  # libyaml's parser recurses in C and would crash the process
        raise WorkflowError("invalid YAML: the document is nested too deeply for a workflow", name)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_size(node, name)
            _check_duplicate_keys(node, name)  # before construction merges ``<<: *anchor`` keys into mappings
        data = loader.construct_document(node) if node is not None else None
    except RecursionError:
        raise WorkflowError("invalid YAML: the document is nested too deeply for a workflow", name) from None
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


def _flow_depth(text: str) -> int:
    """How deep ``[`` and ``{`` nest (an upper bound: brackets inside quotes count too)."""
    if text.count("[") + text.count("{") <= MAX_FLOW_DEPTH:
        return 0
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _check_size(root: yaml.Node, name: str) -> None:
    """Refuse a document that YAML aliases make huge ("billion laughs") or recursive, before it is built."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            mark = node.start_mark
            raise WorkflowError("invalid YAML: an alias refers to the collection that holds it; a workflow "
                                "cannot be recursive", f"{name}:{mark.line + 1}:{mark.column + 1}")
        open_nodes.add(key)
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = node.value if isinstance(node, yaml.SequenceNode) else []
        sizes[key] = 1 + sum(size(child) for child in children)
        open_nodes.discard(key)
        return sizes[key]

    if size(root) > MAX_VALUES:
        raise WorkflowError(f"invalid YAML: the document holds more than {MAX_VALUES:,} values once its aliases "
                            "are expanded; a workflow is expected to be small", name)


def _check_duplicate_keys(root: yaml.Node, name: str) -> None:
    """Refuse a mapping that gives a key twice. Run on the document as written: keys that a merge (``<<: *p``)
    brings in are not the mapping's own, and a key written beside the merge overrides them, as YAML intends."""
    seen_nodes: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen_nodes or not isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
            continue
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in keys:
                where = f"{name}:{key_node.start_mark.line + 1}:{key_node.start_mark.column + 1}"
                raise WorkflowError(printable(f"duplicate key '{key}'; each key may appear once in a mapping"), where)
            if key is not None:
                keys.add(key)
            pending.extend((key_node, value_node))


def _key_as_loaded(key_node: yaml.Node) -> Any:
    """A mapping key as the loaded document holds it, so its mark is found by that key: an unquoted ``on`` or
    ``yes`` is the boolean True there."""
    if not isinstance(key_node, yaml.ScalarNode):
        return None
    if key_node.tag == "tag:yaml.org,2002:bool":
        return yaml.constructor.SafeConstructor.bool_values[key_node.value.lower()]
    return key_node.value


def _record_marks(node: yaml.Node, path: PathKey, source: Source, depth: int = 0) -> None:
    """Where each value and key is. Merged keys (``<<: *p``) come first in a constructed mapping and its own keys
    after them, so a key given twice that way is marked where it is written last, the value the mapping keeps."""
    if depth > 50:
        return
    source.values[path] = (node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = _key_as_loaded(key_node)
            source.keys[path + (key,)] = (key_node.start_mark.line, key_node.start_mark.column)
            _record_marks(value_node, path + (key,), source, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_marks(item, path + (index,), source, depth + 1)
