"""The JSON Schema of workflow files, built from every node's parameters, for editors to check workflows."""

from __future__ import annotations

from typing import Any

from .node import ENGINE_ALIASES, ENGINES, Node
from .params import Param
from .registry import Registry, default_registry
from .workflow import H2O_CONFIG, PORT_NAME, SPARK_CONFIG, STEP_ID, VAR_NAME

# A value that is exactly one ${name} takes the var's value and type, so it may stand for a parameter of any type.
VAR_VALUE = {"type": "string", "pattern": f"^\\$\\{{{VAR_NAME.pattern.strip('^$')}\\}}$"}


def _param_schema(param: Param) -> dict[str, Any]:
    schema = param.json_schema()
    if not schema or (schema.get("type") == "string" and "enum" not in schema):  # any string takes ${...}
        return schema
    return {"anyOf": [schema, VAR_VALUE], **({"description": param.doc} if param.doc else {})}


def _params_schema(params: tuple[Param, ...]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for param in params:
        properties[param.name] = _param_schema(param)
        for alias in param.aliases:
            properties[alias] = {**_param_schema(param), "description": f"same as {param.name}"}
    return {
        "type": "object",
        "properties": properties,
        "required": [p.name for p in params if p.required],
        "additionalProperties": False,
    }


def _inputs_schema(node: type[Node]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {p: {"type": "string"} for p in node.inputs},
                              "required": list(node.inputs), "additionalProperties": False}
    if node.extra_inputs is not None:  # further ports under names of the step's own
        schema.update(additionalProperties={"type": "string"}, propertyNames={"pattern": PORT_NAME.pattern})
    return schema


def workflow_schema(registry: Registry | None = None) -> dict[str, Any]:
    registry = registry or default_registry()
    nodes = registry.all()
    engines = list(ENGINES) + list(ENGINE_ALIASES)
    per_node = [
        {
            "if": {"properties": {"node": {"const": name}}, "required": ["node"]},
            "then": {
                "properties": {
                    "params": _params_schema(cls.params),
                    "inputs": _inputs_schema(cls),
                },
            },
        }
        for name, cls in nodes.items()
    ]
    step = {
        "type": "object",
        "required": ["id", "node"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": STEP_ID.pattern},
            "node": {"enum": list(nodes)},
            "engine": {"anyOf": [{"enum": engines}, VAR_VALUE]},
            "description": {"type": "string"},
            "inputs": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "input port: step or step.port"},
            "params": {"type": "object"},
        },
        "allOf": per_node,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "emberflow workflow",
        "type": "object",
        "required": ["steps"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "engine": {"anyOf": [{"enum": engines}, VAR_VALUE], "default": "sklearn"},
            "vars": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
            "spark": _params_schema(SPARK_CONFIG),
            "h2o": _params_schema(H2O_CONFIG),
            "steps": {"type": "array", "minItems": 1, "items": step},
            "layout": {"type": "object", "description": "the visual editor's node positions (step id: {x, y}); "
                       "ignored by runs"},
        },
    }
