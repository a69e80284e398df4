"""The workflow model: what a workflow file says, checked completely before any step runs.

``load_workflow`` reads a YAML file and returns a ``Workflow`` whose steps are known nodes with checked
parameters, resolved references and a topological order; any problem is a ``WorkflowError`` located at
``file:line:col``. The runner (how it runs) is kept apart in ``runner.py``.
"""

from __future__ import annotations

import graphlib
import re
from pathlib import Path
from typing import Any

from .errors import WorkflowError
from .node import ANY, ENGINE_ALIASES, ENGINES, Node
from .params import MAX_JAVA_INT, Param, ParamProblem, resolve_params
from .registry import Registry, default_registry
from .render import printable
from .source import Source, load_yaml, read_text
from .suggest import did_you_mean

STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PORT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")  # a further input port's name (Node.extra_inputs)
VAR_REF = re.compile(r"\$\$|\$\{([^}]*)\}|(\$\{)")  # $$, ${name}, or a ${ that no } closes
# ``layout`` holds the visual editor's node positions (step id: {x, y}); runs and validation ignore it.
TOP_KEYS = ("name", "description", "engine", "vars", "spark", "h2o", "steps", "layout")
STEP_KEYS = ("id", "node", "engine", "inputs", "params", "description")

SPARK_CONFIG = (
    Param("master", "string", None, "Spark master URL: local[*], local[N] or spark://host:port"),
    Param("app_name", "string", None, "the Spark application name"),
    Param("conf", "object", None, "Spark settings, key: value"),
    Param("ui", "boolean", False, "start Spark's web UI"),
    Param("staging", "string", None, "where Spark ML models pass between the store and a cluster: a folder every "
          "worker and the driver reach (hdfs://, s3a://, file:///shared/...); required on a master other than local"),
    Param("master_ui", "string", None, "a standalone master's web UI, http://host:port, whose status is checked "
          "for live workers at the start (default: port 8080 of the master's host, when it answers)"),
    Param("cluster_timeout", "integer", 180, "seconds a job on a cluster may wait with no executor (a worker "
          "died, no free cores) before it is cancelled", minimum=1, maximum=MAX_JAVA_INT),
)
H2O_CONFIG = (
    Param("url", "string", None, "an existing H2O cluster, http://host:port; none starts a local H2O"),
    Param("max_mem_size", "string", "2G", "the local H2O's heap, such as 2G"),
    Param("nthreads", "integer", 2, "threads of the local H2O (-1: all cores)", minimum=-1, maximum=MAX_JAVA_INT),
    Param("port", "integer", None, "the local H2O's port (P and P+1 are used); default: a free one", minimum=1024,
          maximum=65534),
    Param("extensions", "array", None, "optional H2O extensions to enable, such as XGBoost", items="string"),
    Param("cluster_timeout", "integer", 180, "seconds a cluster joined by url may have a problem (a node lost, no "
          "answer) before the run is ended; also the longest wait for one answer from it", minimum=1,
          maximum=MAX_JAVA_INT),
)


# Plain classes, not dataclasses: importing dataclasses (with inspect, ast, dis...) would cost ``emberflow validate``
# more than the whole validation.


class InputRef:
    """Where a step's input comes from: a step, and its output port (None: that step's first output)."""

    __slots__ = ("step", "port")

    def __init__(self, step: str, port: str | None = None):
        self.step, self.port = step, port

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InputRef) and (self.step, self.port) == (other.step, other.port)

    def __hash__(self) -> int:
        return hash((self.step, self.port))

    def __str__(self) -> str:
        return f"{self.step}.{self.port}" if self.port else self.step

    def __repr__(self) -> str:
        return f"InputRef({self.step!r}, {self.port!r})"


class Step:
    """A checked step: its node class, engine, parameters (defaults filled in), inputs and place in the file."""

    def __init__(self, id: str, node: str, node_class: type[Node], engine: str, inputs: dict[str, InputRef],
                 params: dict[str, Any], index: int, location: str, description: str = ""):
        self.id, self.node, self.node_class, self.engine = id, node, node_class, engine
        self.inputs, self.params = inputs, params
        self.index, self.location, self.description = index, location, description

    def __repr__(self) -> str:
        return f"Step(id={self.id!r}, node={self.node!r}, engine={self.engine!r}, location={self.location!r})"


class Workflow:
    """A checked workflow: its steps in the file's order, ``order`` the order they run in, and its settings.

    ``var_refs`` holds the names its ``${...}`` use, ``source`` where each value is written.
    """

    def __init__(self, name: str, steps: list[Step], engine: str = "sklearn", description: str = "",
                 vars: dict[str, Any] | None = None, spark: dict[str, Any] | None = None,
                 h2o: dict[str, Any] | None = None, path: str | None = None, text: str = "",
                 order: list[str] | None = None, var_refs: set[str] | None = None, source: Source | None = None):
        self.name, self.steps, self.engine, self.description = name, steps, engine, description
        self.vars = {} if vars is None else vars
        self.spark = {} if spark is None else spark
        self.h2o = {} if h2o is None else h2o
        self.path, self.text = path, text
        self.order = [] if order is None else order
        self.var_refs = set() if var_refs is None else var_refs
        self.source = source

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, path={self.path!r}, steps={[s.id for s in self.steps]!r})"

    @property
    def sha256(self) -> str:
        import hashlib  # for a run's record only: validation need not load it

        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def engines(self) -> set[str]:
        return {s.engine for s in self.steps}

    def ordered_steps(self) -> list[Step]:
        by_id = {s.id: s for s in self.steps}
        return [by_id[i] for i in self.order]


def load_workflow(
    path: str | Path, overrides: dict[str, Any] | None = None, registry: Registry | None = None
) -> Workflow:
    """Read and validate the workflow file at ``path``; ``overrides`` replace or add vars (``--var``)."""
    text = read_text(path)
    return parse_workflow(text, str(path), overrides, registry)


def parse_workflow(
    text: str, name: str = "<workflow>", overrides: dict[str, Any] | None = None, registry: Registry | None = None
) -> Workflow:
    data, source = load_yaml(text, name)
    return _Validator(data, source, overrides or {}, registry or default_registry()).workflow()


class _Validator:
    """Turns the loaded document into a Workflow, raising at the first problem with its location."""

    def __init__(self, data: Any, source: Source, overrides: dict[str, Any], registry: Registry):
        self.data = data
        self.src = source
        self.overrides = overrides
        self.registry = registry
        self.var_refs: set[str] = set()

    def fail(self, message: str, path: tuple = (), key: bool = False) -> WorkflowError:
        """The error at ``path``; a name quoted from the file is shown escaped, so the message stays one line."""
        error = WorkflowError(printable(message), self.src.where(path, key=key))
        error.path = tuple(path)  # which step and field, for the editor's problem list
        return error

    def workflow(self) -> Workflow:
        if self.data is None:
            raise self.fail("the workflow file is empty; expected a mapping with 'name' and 'steps'")
        if not isinstance(self.data, dict):
            raise self.fail(f"expected a mapping with 'name' and 'steps' at the top, got {_kind(self.data)}")
        self._check_keys(self.data, TOP_KEYS, (), "top-level key")
        name = self._string(self.data.get("name", Path(self.src.name).stem), ("name",), "name")
        self.vars = self._vars()  # before the engine, which may be written as ${engine}
        engine = self._engine(self.data.get("engine", "sklearn"), ("engine",))
        spark = self._config("spark", SPARK_CONFIG)
        h2o = self._config("h2o", H2O_CONFIG)
        steps = self._steps(engine)
        workflow = Workflow(
            name=name, steps=steps, engine=engine, vars=self.vars, spark=spark, h2o=h2o,
            description=str(self.data.get("description") or ""), path=self.src.name, text=self.src.text,
            var_refs=self.var_refs, source=self.src,
        )
        workflow.order = self._order(steps)
        return workflow

    def _check_keys(self, mapping: dict, allowed: tuple[str, ...], path: tuple, what: str) -> None:
        for key in mapping:
            if key not in allowed:
                raise self.fail(f"unknown {what} '{key}'{did_you_mean(key, allowed)}; expected one of: "
                                f"{', '.join(allowed)}", path + (key,), True)

    def _string(self, value: Any, path: tuple, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{what}' must be a non-empty string, got {_kind(value)}", path)
        return value

    def _engine(self, written: Any, path: tuple) -> str:
        """The engine named by ``written`` (an alias, or ``${var}`` substituted first), checked to be known."""
        value = self._substitute(written, path)
        engine = ENGINE_ALIASES.get(value, value) if isinstance(value, str) else value
        if engine not in ENGINES:
            origin = f" (from {written!r})" if written != value else ""
            hint = did_you_mean(value, ENGINES) if isinstance(value, str) else ""
            raise self.fail(f"unknown engine {value!r}{origin}{hint}; expected one of: {', '.join(ENGINES)}", path)
        return engine

    def _vars(self) -> dict[str, Any]:
        raw = self.data.get("vars") or {}
        if not isinstance(raw, dict):
            raise self.fail(f"'vars' must be a mapping of name: value, got {_kind(raw)}", ("vars",))
        for key, value in raw.items():
            problem = _var_problem(key, value)
            if problem:
                raise self.fail(problem, ("vars", key), key=not VAR_NAME.match(str(key)))
        for key, value in self.overrides.items():  # from the command line: no place in the file to point at
            problem = _var_problem(key, value)
            if problem:
                raise WorkflowError(printable(f"--var {key}: {problem}"))
        return {**raw, **self.overrides}

    def _substitute(self, value: Any, path: tuple) -> Any:
        """Replace ``${name}`` from vars; a value that is exactly one reference keeps the var's type."""
        if isinstance(value, dict):
            return {k: self._substitute(v, path + (k,)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._substitute(v, path + (i,)) for i, v in enumerate(value)]
        if not isinstance(value, str) or "$" not in value:
            return value
        whole = VAR_REF.fullmatch(value)
        if whole and whole.group(1) is not None:
            return self._lookup(whole.group(1), path)
        return VAR_REF.sub(lambda m: self._replacement(m, value, path), value)

    def _replacement(self, match: re.Match, value: str, path: tuple) -> str:
        if match.group(2):
            raise self.fail(f"unterminated var reference in {value!r}: '${{' at character {match.start() + 1} has "
                            "no closing '}'; write ${name}, or $$ for a literal $", path)
        return "$" if match.group(1) is None else str(self._lookup(match.group(1), path))

    def _lookup(self, name: str, path: tuple) -> Any:
        self.var_refs.add(name)
        if name not in self.vars:
            known = ", ".join(sorted(self.vars)) or "none defined"
            raise self.fail(
                f"undefined var '{name}' in ${{{name}}}; define it under 'vars' or pass --var {name}=VALUE "
                f"(vars: {known})", path)
        return self.vars[name]

    def _config(self, key: str, params: tuple[Param, ...]) -> dict[str, Any]:
        raw = self.data.get(key)
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(f"'{key}' must be a mapping, got {_kind(raw)}", (key,))
        raw = self._substitute(raw, (key,))
        try:
            return resolve_params(params, raw, key, f"the '{key}' section")
        except ParamProblem as exc:
            raise self.fail(str(exc), (key, exc.key) if exc.key else (key,), key=bool(exc.key)) from None

    def _steps(self, engine: str) -> list[Step]:
        raw = self.data.get("steps")
        if raw is None:
            raise self.fail("the workflow has no 'steps'; expected a list of steps, each with 'id' and 'node'")
        if not isinstance(raw, list) or not raw:
            raise self.fail(f"'steps' must be a non-empty list of steps, got {_kind(raw)}", ("steps",))
        steps: list[Step] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(raw):
            step = self._step(item, index, engine)
            if step.id in seen:
                raise self.fail(f"duplicate step id '{step.id}' (first used at {seen[step.id]}); step ids must be "
                                "unique", ("steps", index, "id"))
            seen[step.id] = step.location
            steps.append(step)
        self._check_references(steps)
        return steps

    def _step(self, item: Any, index: int, default_engine: str) -> Step:
        path = ("steps", index)
        if not isinstance(item, dict):
            raise self.fail(f"each step must be a mapping with 'id' and 'node', got {_kind(item)}", path)
        self._check_keys(item, STEP_KEYS, path, "step key")
        for key in ("id", "node"):
            if key not in item:
                raise self.fail(f"step {index + 1} has no '{key}'; every step needs 'id' and 'node'", path)
        step_id = item["id"]
        if not isinstance(step_id, str) or not STEP_ID.match(step_id):
            raise self.fail(f"step id {step_id!r} must start with a letter or _ and hold only letters, digits, _ "
                            "and - (at most 64)", path + ("id",))
        node_class = self._node(item["node"], path + ("node",))
        engine = self._engine(item.get("engine", default_engine), path + ("engine",))
        if engine not in node_class.engines():
            written = item["engine"] if "engine" in item else self.data.get("engine")
            origin = f" (from {written!r})" if isinstance(written, str) and "$" in written else ""
            raise self.fail(f"node {item['node']} does not run on engine {engine}{origin}; it runs on: "
                            f"{', '.join(node_class.engines())}{node_class.why_not_on(engine)}",
                            path + ("engine" if "engine" in item else "node",))
        params = self._params(item.get("params"), node_class, engine, path + ("params",))
        inputs = self._inputs(item.get("inputs"), node_class, path + ("inputs",))
        return Step(id=step_id, node=item["node"], node_class=node_class, engine=engine, inputs=inputs,
                    params=params, index=index, location=self.src.where(path),
                    description=str(item.get("description") or ""))

    def _node(self, name: Any, path: tuple) -> type[Node]:
        if not isinstance(name, str) or name not in self.registry:
            names = self.registry.names()
            hint = did_you_mean(name, names) if isinstance(name, str) else ""
            raise self.fail(f"unknown node {name!r}{hint}; known nodes: {', '.join(names)} (plugins add more)", path)
        return self.registry.get(name)

    def _params(self, raw: Any, node_class: type[Node], engine: str, path: tuple) -> dict[str, Any]:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise self.fail(f"'params' must be a mapping of name: value, got {_kind(raw)}", path)
        raw = self._substitute(raw, path)
        try:
            params = resolve_params(node_class.params, raw, engine, node_class.node_name())
            node_class.check_params(params, engine)
            return params
        except ParamProblem as exc:
            if not exc.key:
                raise self.fail(str(exc), path) from None
            on_key = exc.on_key or not exc.within
            raise self.fail(str(exc), path + (exc.key, *exc.within), key=on_key) from None

    def _inputs(self, raw: Any, node_class: type[Node], path: tuple) -> dict[str, InputRef]:
        raw = raw or {}
        name = node_class.node_name()
        if not isinstance(raw, dict):
            raise self.fail(f"'inputs' must map {name}'s input ports to steps (port: step or step.port), "
                            f"got {_kind(raw)}", path)
        refs: dict[str, InputRef] = {}
        for port, ref in raw.items():
            self._check_port(port, node_class, path)
            if not isinstance(ref, str) or not ref:
                raise self.fail(f"input '{port}' must name a step as 'step' or 'step.port', got {_kind(ref)}",
                                path + (port,))
            step, _, out = ref.partition(".")
            refs[port] = InputRef(step, out or None)
        missing = [p for p in node_class.inputs if p not in refs]
        if missing:
            raise self.fail(f"{name} needs input {', '.join(repr(m) for m in missing)}: add it under 'inputs' "
                            f"as {missing[0]}: <step id>", path if raw else path[:-1])
        return refs

    def _check_port(self, port: Any, node_class: type[Node], path: tuple) -> None:
        if port in node_class.inputs:
            return
        name, ports = node_class.node_name(), ", ".join(node_class.inputs) or "none"
        if node_class.extra_inputs is None:
            raise self.fail(f"{name} has no input port '{port}'{did_you_mean(port, node_class.inputs)}; its "
                            f"input ports: {ports}", path + (port,), True)
        if not isinstance(port, str) or not PORT_NAME.match(port):
            raise self.fail(f"input port name {port!r} of {name} must be letters, digits and _, not starting with a "
                            f"digit (at most 64): {name} names the frame by it; its ports: {ports}, and others "
                            "named so", path + (port,), True)

    def _check_references(self, steps: list[Step]) -> None:
        by_id = {s.id: s for s in steps}
        for step in steps:
            for port, ref in step.inputs.items():
                path = ("steps", step.index, "inputs", port)
                source = by_id.get(ref.step)
                if source is None:
                    raise self.fail(f"input '{port}' refers to unknown step '{ref.step}'"
                                    f"{did_you_mean(ref.step, by_id)}; steps: {', '.join(by_id)}", path)
                outputs = source.node_class.outputs
                out = ref.port or source.node_class.default_output()
                if out not in outputs:
                    names = ", ".join(outputs) or "none"
                    raise self.fail(f"step '{source.id}' ({source.node}) has no output '{out}'"
                                    f"{did_you_mean(out, outputs)}; its outputs: {names}", path)
                want, have = step.node_class.input_type(port), outputs[out]
                if ANY not in (want, have) and want != have:
                    raise self.fail(f"input '{port}' of {step.node} expects a {want}, but '{ref}' is a {have} "
                                    f"(from {source.node})", path)

    def _order(self, steps: list[Step]) -> list[str]:
        graph = {s.id: {ref.step for ref in s.inputs.values()} for s in steps}
        sorter = graphlib.TopologicalSorter(graph)
        try:
            sorter.prepare()
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            first = next(s for s in steps if s.id == cycle[0])
            raise self.fail(f"the steps form a cycle: {' -> '.join(cycle)}; a step cannot depend on its own "
                            "output", ("steps", first.index)) from None
        # Stable order: among ready steps, keep the file's order.
        position = {s.id: s.index for s in steps}
        order: list[str] = []
        while sorter.is_active():
            ready = sorted(sorter.get_ready(), key=position.__getitem__)
            order.extend(ready)
            sorter.done(*ready)
        return order


def _var_problem(key: Any, value: Any) -> str | None:
    if not isinstance(key, str) or not VAR_NAME.match(key):
        return f"var name {key!r} must be letters, digits and _ (not starting with a digit)"
    if isinstance(value, (dict, list)):
        return f"var '{key}' must be a single value (string, number, boolean), got {_kind(value)}"
    return None


def unused_vars(workflow: Workflow, names: Any) -> list[str]:
    """One warning for each of ``names`` (the ``--var`` names) that no ``${...}`` of the workflow uses."""
    used = ", ".join(sorted(workflow.var_refs))
    its = f"its ${{...}} names: {used}" if used else "it uses no ${...}"
    return [f"--var {name} is not used by {workflow.path} ({its})" for name in names if name not in workflow.var_refs]


def missing_input_files(workflow: Workflow) -> list[str]:
    """One warning for each input file a step names (a parameter declared ``input_file``) that does not exist.

    Paths with a scheme (``hdfs://``, ``s3a://``) are for the engine to find and are not checked.
    """
    from os.path import exists

    from .paths import looked_for

    warnings = []
    for step in workflow.steps:
        for param in step.node_class.params:
            value = step.params.get(param.name)
            if not param.input_file or not isinstance(value, str) or "://" in value or exists(value):
                continue
            where = workflow.source.where(("steps", step.index, "params", param.name)) if workflow.source else ""
            warnings.append(f"{where}: step '{step.id}': {step.node}'s {param.name} {value} does not exist "
                            f"({looked_for(value)})")
    return warnings


def _kind(value: Any) -> str:
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list",
             dict: "a mapping", type(None): "nothing"}
    return kinds.get(type(value), type(value).__name__)
