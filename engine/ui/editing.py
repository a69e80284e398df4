"""The editor's workflow model (plain JSON: name, description, engine, vars, steps, layout) applied onto a
workflow file's own YAML text with ruamel.yaml's round trip, so that a hand-written file keeps its comments, key
order, flow style and quoting, and only the lines the user changed differ.

Rules of the merge: a value equal to the file's is left untouched (its text is not rewritten); a changed string
keeps the quote style it had; steps are matched by id (kept in the file's order, new ones appended, missing ones
removed); keys the model does not describe (``spark:``, ``h2o:``, a step's ``description``) are kept as they are.
Node positions go in a top-level ``layout:`` section (``step: {x: 10, y: 20}``) that the validator ignores.
"""

from __future__ import annotations

import copy
import difflib
import io
import threading
from collections import OrderedDict
from typing import Any

TOP_ORDER = ("name", "description", "engine", "vars", "steps")  # layout: always last
STEP_ORDER = ("id", "node", "engine", "inputs", "params")


def _yaml(indent: tuple[int, int] = (2, 2), width: int = 120):
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = width
    mapping, offset = indent
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _guess_indent(text: str) -> tuple[int, int]:
    """The file's mapping indent and the offset of its lists' dashes, so that unchanged lines stay as they are
    (ruamel writes one indentation for the whole document)."""
    import re

    mapping = re.search(r"^[^\s#-][^:#]*:[ \t]*(?:#.*)?\n(?:[ \t]*(?:#.*)?\n)*( +)[^\s#-]", text, re.M)
    dash = re.search(r"^( *)- ", text, re.M)
    return (len(mapping.group(1)) if mapping else 2), (len(dash.group(1)) if dash else 2)


def _guess_width(text: str) -> int:
    """Where ruamel folds long plain values: at the file's longest line (a value the user folded by hand is
    folded the same way again), at least 120."""
    return max([120, *(len(line) + 1 for line in text.splitlines())])


_LOADED: OrderedDict[str, Any] = OrderedDict()
_LOADED_KEPT = 8
_LOADED_LOCK = threading.Lock()


def _loaded(text: str, yaml) -> tuple[Any, str]:
    """A fresh copy of ``text``'s round-trip document, and the text ruamel writes for it unchanged. The editor
    sends the same file text with every edit, and copying a parsed document costs a fifth of parsing it again
    (ruamel's parser is pure Python). A document is dumped once only: dumping can consume its comments."""
    with _LOADED_LOCK:
        kept = _LOADED.get(text)
        if kept is not None:
            _LOADED.move_to_end(text)
    if kept is None:
        try:
            doc = yaml.load(text)
        except Exception:  # noqa: BLE001 - not YAML ruamel can read: nothing of it can be kept
            return None, None
        kept = (doc, _dumped(yaml, copy.deepcopy(doc)))
        with _LOADED_LOCK:
            _LOADED[text] = kept
            while len(_LOADED) > _LOADED_KEPT:
                _LOADED.popitem(last=False)
    return copy.deepcopy(kept[0]), kept[1]


def apply_model(model: dict[str, Any], base_text: str | None = None) -> str:
    """The YAML text of ``model``: ``base_text`` changed where the model differs, or a new file."""
    from ruamel.yaml.comments import CommentedMap

    indent = _guess_indent(base_text) if base_text and base_text.strip() else (2, 2)
    yaml = _yaml(indent, _guess_width(base_text or ""))
    doc, baseline = _loaded(base_text, yaml) if base_text and base_text.strip() else (None, None)
    if not isinstance(doc, CommentedMap):  # not a mapping: nothing of it can be kept
        doc, baseline = CommentedMap(), None
    _apply_top(doc, model)
    changed = _dumped(yaml, doc)
    return merge_edits(base_text, baseline, changed) if baseline is not None else changed


def _dumped(yaml, doc) -> str:
    out = io.StringIO()
    yaml.dump(doc, out)
    return out.getvalue()


def merge_edits(original: str, baseline: str, changed: str) -> str:
    """``original`` with the edits that turn ``baseline`` into ``changed``: where ruamel writes an untouched part
    differently from the file (a plain value folded by hand, an odd indentation), the file's lines are kept, and
    an edit that reaches into such a part takes ruamel's lines for that part only."""
    if original == baseline:
        return changed
    base, new, orig = baseline.splitlines(True), changed.splitlines(True), original.splitlines(True)
    in_orig: list[int | None] = [None] * len(base)
    for block in difflib.SequenceMatcher(None, base, orig, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            in_orig[block.a + k] = block.b + k
    codes = difflib.SequenceMatcher(None, base, new, autojunk=False).get_opcodes()
    in_new = {i1 + k: j1 + k for tag, i1, i2, j1, _ in codes if tag == "equal" for k in range(i2 - i1)}
    spans = _anchored([[i1, i2] for tag, i1, i2, _, _ in codes if tag != "equal"], in_orig)
    result, at = [], 0
    for start, end in spans:  # each edge is an unchanged line (spans touching an edit are merged) or the text's end
        o_start = in_orig[start - 1] + 1 if start else 0
        o_end = in_orig[end] if end < len(base) else len(orig)
        n_start = in_new[start - 1] + 1 if start else 0
        n_end = in_new[end] if end < len(base) else len(new)
        result += orig[at:o_start] + new[n_start:n_end]
        at = o_end
    return "".join(result + orig[at:])


def _anchored(spans: list[list[int]], in_orig: list[int | None]) -> list[list[int]]:
    """The edited spans of the baseline grown until both ends touch lines the file has too, then merged."""
    merged: list[list[int]] = []
    for start, end in spans:
        while start > 0 and in_orig[start - 1] is None:
            start -= 1
        while end < len(in_orig) and in_orig[end] is None:
            end += 1
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            merged[-1][0] = min(merged[-1][0], start)
        else:
            merged.append([start, end])
    return merged


def _apply_top(doc, model: dict[str, Any]) -> None:
    for key in ("name", "description", "engine"):
        _set_or_drop(doc, key, model.get(key) or None)
    _merge_mapping(doc, "vars", model.get("vars") or {}, flow=False)
    _apply_steps(doc, model.get("steps") or [])
    _apply_layout(doc, model.get("layout") or {}, {s.get("id") for s in model.get("steps") or []})


def _set_or_drop(mapping, key: str, value: Any, order: tuple[str, ...] = TOP_ORDER) -> None:
    """Set ``mapping[key]`` unless it already equals ``value``; drop the key for None; a new key goes after the
    keys that come before it in ``order``, so a new file reads in the usual order."""
    if value is None:
        if key in mapping:
            del mapping[key]
        return
    if key in mapping:
        if _same(mapping[key], value):
            return
        mapping[key] = _styled_like(mapping[key], value)
        return
    if key in order:
        before = order[: order.index(key)]
        position = max((i + 1 for i, k in enumerate(mapping) if k in before), default=0)
    else:
        position = len(mapping)
    mapping.insert(position, key, _fresh(value))


def _same(old: Any, new: Any) -> bool:
    """Equal as data, ignoring ruamel's wrappers (a quoted string equals the plain one), 1 == 1.0 kept apart
    from True == 1."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool) and old == new
    return old == new and isinstance(old, str) == isinstance(new, str)


def _styled_like(old: Any, new: Any) -> Any:
    """``new`` in ``old``'s quote style (a string), or merged into ``old`` (a mapping, keeping its comments)."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import ScalarString

    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            _set_or_drop(old, key, value, order=tuple(new))
        return old
    if isinstance(old, ScalarString) and isinstance(new, str):
        return type(old)(new)
    return _fresh(new)


def _fresh(value: Any, flow: bool | None = None) -> Any:
    """A new value as ruamel data: a mapping of scalars in flow style (``{a: 1}``), others in block style."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, (CommentedMap, CommentedSeq)):
        return value
    if isinstance(value, dict):
        mapping = CommentedMap((k, _fresh(v)) for k, v in value.items())
        if flow if flow is not None else _all_scalars(value.values()):
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list):
        seq = CommentedSeq(_fresh(v) for v in value)
        if _all_scalars(value):
            seq.fa.set_flow_style()
        return seq
    return value


def _all_scalars(values) -> bool:
    return all(not isinstance(v, (dict, list)) for v in values)


def _merge_mapping(parent, key: str, values: dict[str, Any], flow: bool | None, order=TOP_ORDER) -> None:
    """``parent[key]`` made equal to ``values`` entry by entry; the key removed when ``values`` is empty."""
    if not values:
        _set_or_drop(parent, key, None, order)
        return
    existing = parent.get(key)
    if not isinstance(existing, dict):
        _set_or_drop(parent, key, _fresh(values, flow), order)
        return
    _styled_like(existing, values)


def _apply_steps(doc, steps: list[dict[str, Any]]) -> None:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    current = doc.get("steps")
    if not isinstance(current, list):
        current = CommentedSeq()
        _set_or_drop(doc, "steps", current)
    wanted = {s.get("id"): s for s in steps}
    for index in reversed(range(len(current))):
        item = current[index]
        if not isinstance(item, dict) or item.get("id") not in wanted:
            del current[index]
    present = {item.get("id"): item for item in current}
    for step in steps:
        item = present.get(step.get("id"))
        if item is None:
            item = CommentedMap()
            current.append(item)
        _apply_step(item, step)


def _apply_step(item, step: dict[str, Any]) -> None:
    _set_or_drop(item, "id", step.get("id"), STEP_ORDER)
    _set_or_drop(item, "node", step.get("node"), STEP_ORDER)
    _set_or_drop(item, "engine", step.get("engine") or None, STEP_ORDER)
    _merge_mapping(item, "inputs", step.get("inputs") or {}, flow=True, order=STEP_ORDER)
    _merge_mapping(item, "params", step.get("params") or {}, flow=None, order=STEP_ORDER)


def _apply_layout(doc, layout: dict[str, Any], step_ids: set) -> None:
    positions = {}
    for step_id, place in layout.items():
        if step_id in step_ids and isinstance(place, dict):
            positions[step_id] = {"x": _number(place.get("x")), "y": _number(place.get("y"))}
    _merge_mapping(doc, "layout", positions, flow=False)
    for value in (doc.get("layout") or {}).values():
        if hasattr(value, "fa"):
            value.fa.set_flow_style()


def _number(value: Any) -> int | float:
    """A position rounded to a whole number (the canvas's fractions of a pixel are noise in a diff)."""
    try:
        return round(float(value))
    except (TypeError, ValueError):
        return 0


def model_of(text: str) -> dict[str, Any] | None:
    """The editor's model of a workflow file's text (None when it is not a mapping, or not YAML at all)."""
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if not isinstance(data, dict):
        return None
    steps = [_step_model(s) for s in data.get("steps") or [] if isinstance(s, dict)]
    layout = data.get("layout") if isinstance(data.get("layout"), dict) else {}
    return {"name": data.get("name") or "", "description": data.get("description") or "",
            "engine": data.get("engine") or "", "vars": _mapping(data.get("vars")), "steps": steps,
            "layout": {str(k): v for k, v in layout.items() if isinstance(v, dict)}}


def _step_model(step: dict[str, Any]) -> dict[str, Any]:
    return {"id": step.get("id"), "node": step.get("node"), "engine": step.get("engine"),
            "inputs": _mapping(step.get("inputs")), "params": _mapping(step.get("params"))}


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
