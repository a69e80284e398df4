"""The editor's validation: the model rendered to YAML and checked by ``emberflow validate``'s own validator, its
problem located by line, column, step and field; and the columns known at each step's frame outputs, for the
node dialog's column pickers (each node's ``output_columns``, KNIME's "configure", from ReadCSV's header down).
"""

from __future__ import annotations

import graphlib
import os
import re
from pathlib import Path
from typing import Any

from ..errors import WorkflowError
from ..workflow import VAR_REF, missing_input_files, parse_workflow
from .editing import apply_model, model_of

LOCATION = re.compile(r":(\d+):(\d+)$")
MAX_PROBLEMS = 50
MISSING_PARAM = re.compile(r"needs parameter '([^']+)'")


def check(model: dict[str, Any] | None = None, base_text: str | None = None, text: str | None = None,
          name: str = "<editor>", confined: Confined | None = None) -> dict[str, Any]:
    """``{"ok", "text", "problems", "warnings", "columns"}`` for a model (applied onto ``base_text``) or a text;
    with ``confined``, a file parameter outside its folders is a problem too (confine.py)."""
    if text is None:
        text = apply_model(model or {}, base_text)
    data = model if model is not None else model_of(text)
    problems, workflow = _checked(text, name, confined, lambda: data)
    warnings = missing_input_files(workflow) if workflow is not None else []
    return {"ok": not problems, "text": text, "problems": problems, "warnings": warnings,
            "columns": known_columns(data or model or {})}


def problems_of(text: str, name: str = "<editor>", confined: Confined | None = None) -> list[dict[str, Any]]:
    return _checked(text, name, confined, lambda: model_of(text))[0]


def _checked(text: str, name: str, confined: Confined | None, model) -> tuple[list[dict[str, Any]], Any]:
    """The text's problems and its workflow (None when it does not parse); ``model()`` gives the editor's model
    the problems are located in, asked for only when there are parse problems."""
    try:
        workflow = parse_workflow(text, name)
    except WorkflowError as exc:
        data = model()
        return [problem_of(e, data) for e in [exc, *other_step_problems(exc, text, name)]], None
    return confinement_problems(workflow, confined), workflow


class Confined:
    """The folders runs from the editor may read and write (``roots``, real paths), and the folder relative paths
    start from (``base``: where the runs run)."""

    def __init__(self, roots: list[Path], base: Path):
        self.roots, self.base = [Path(os.path.realpath(r)) for r in roots], base


def confinement_problems(workflow, confined: Confined | None) -> list[dict[str, Any]]:
    from .confine import outside_paths

    if confined is None:
        return []
    problems = []
    for step, field, path, message in outside_paths(workflow, confined.roots, confined.base):
        where = workflow.source.where(path) if workflow.source else ""
        problems.append({"message": message, **line_column(where), "step": step, "field": field})
    return problems


def other_step_problems(first: WorkflowError, text: str, name: str) -> list[WorkflowError]:
    """The validator stops at its first problem; when that is in a step, each other step is checked on its own
    too (node, engine, parameters, input ports; not the references between steps), so that a canvas shows every
    node's problem at once. At most ``MAX_PROBLEMS`` in all."""
    from ..registry import default_registry
    from ..source import load_yaml
    from ..workflow import _Validator

    path = getattr(first, "path", ())
    if len(path) < 2 or path[0] != "steps":
        return []
    try:
        data, source = load_yaml(text, name)
        validator = _Validator(data, source, {}, default_registry())
        validator.vars = validator._vars()
        engine = validator._engine(data.get("engine", "sklearn"), ("engine",))
    except WorkflowError:
        return []
    found = []
    for index, item in enumerate(data.get("steps") or []):
        if index == path[1] or len(found) >= MAX_PROBLEMS - 1:
            continue
        try:
            validator._step(item, index, engine)
        except WorkflowError as exc:
            found.append(exc)
    return found


def problem_of(exc: WorkflowError, model: dict[str, Any] | None) -> dict[str, Any]:
    """The error as the editor shows it: its message, line and column (1-based), the step it concerns (by id)
    and the field: a parameter's name, ``inputs.PORT``, or a step's or the workflow's key (``node``, ``vars``)."""
    path = getattr(exc, "path", ())
    step = field = None
    if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
        steps = (model or {}).get("steps") or []
        step = steps[path[1]].get("id") if path[1] < len(steps) else None
        rest = [str(p) for p in path[2:]]
        if rest[:1] == ["params"] and len(rest) > 1:
            field = rest[1]
        elif rest == ["params"] and MISSING_PARAM.search(exc.message):
            field = MISSING_PARAM.search(exc.message).group(1)
        elif rest[:1] == ["inputs"] and len(rest) > 1:
            field = f"inputs.{rest[1]}"
        elif rest:
            field = rest[0]
    elif path:
        field = str(path[0])
    return {"message": exc.message, **line_column(exc.location or ""), "step": step, "field": field}


def line_column(location: str) -> dict[str, int | None]:
    """``{"line", "column"}`` (1-based) from a location that ends ``:LINE:COLUMN``; None each when it does not."""
    found = LOCATION.search(location)
    return {"line": int(found.group(1)) if found else None, "column": int(found.group(2)) if found else None}


def known_columns(model: dict[str, Any]) -> dict[str, list[str]]:
    """``{"step.port": [columns]}`` for each frame output whose columns can be known before running; works on an
    invalid model too (the user picks a label while the label is what is missing). Unknown ones are absent."""
    from ..registry import default_registry

    registry = default_registry()
    steps = {s.get("id"): s for s in model.get("steps") or [] if isinstance(s, dict) and isinstance(s.get("id"), str)}
    variables = model.get("vars") if isinstance(model.get("vars"), dict) else {}
    columns: dict[str, list[str]] = {}
    for step_id in _order(steps):
        step = steps[step_id]
        node = registry.get(step.get("node")) if step.get("node") in registry else None
        if node is None:
            continue
        inputs = {port: columns.get(_output_key(ref, steps, registry)) for port, ref in _inputs(step).items()}
        try:
            produced = node.output_columns(_params(node, step, variables), inputs)
        except Exception:  # noqa: BLE001 - a hook's failure only means the columns are unknown
            continue
        for port, names in (produced or {}).items():
            if isinstance(names, list):
                columns[f"{step_id}.{port}"] = [str(n) for n in names]
    return columns


def _inputs(step: dict[str, Any]) -> dict[str, str]:
    inputs = step.get("inputs")
    return {str(k): v for k, v in inputs.items() if isinstance(v, str)} if isinstance(inputs, dict) else {}


def _order(steps: dict[str, dict[str, Any]]) -> list[str]:
    graph = {sid: {ref.partition(".")[0] for ref in _inputs(s).values()} & set(steps) for sid, s in steps.items()}
    try:
        return list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError:
        return []


def _output_key(ref: str, steps: dict[str, dict[str, Any]], registry) -> str:
    """``step.port`` for an input reference, the producing node's first output when no port is written."""
    step, _, port = ref.partition(".")
    if port:
        return ref
    node = steps.get(step, {}).get("node")
    default = registry.get(node).default_output() if node in registry else None
    return f"{step}.{default}"


def _params(node, step: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """The step's parameters over the node's defaults, ``${var}`` replaced (aliases too) as far as possible."""
    given = step.get("params") if isinstance(step.get("params"), dict) else {}
    params: dict[str, Any] = {p.name: p.default for p in node.params if not p.required}
    names = {alias: p.name for p in node.params for alias in (p.aliases or ())}
    for key, value in given.items():
        params[names.get(key, key)] = _substitute(value, variables)
    return params


def _substitute(value: Any, variables: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, variables) for k, v in value.items()}
    if not isinstance(value, str) or "$" not in value:
        return value
    whole = VAR_REF.fullmatch(value)
    if whole and whole.group(1) is not None:
        return variables.get(whole.group(1), value)
    return VAR_REF.sub(lambda m: "$" if m.group(1) is None else str(variables.get(m.group(1), m.group(0))), value)
