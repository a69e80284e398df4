"""Node parameters: explicit, introspectable declarations, checked before anything runs.

A node lists its parameters as ``Param`` objects. ``resolve_params`` checks a step's ``params`` mapping against
them (unknown names, missing ones, types, choices, ranges, the engines a parameter applies to) and returns the
values under their canonical names, defaults filled in. ``Param.json_schema`` feeds ``emberflow schema``.
"""

from __future__ import annotations

from typing import Any

from .suggest import did_you_mean

# Random seeds every engine takes: NumPy (scikit-learn's random_state) takes 0 to 2**32 - 1, Spark a Java long
# and H2O a Java long (-1 there meaning "random"), so 0 to 2**32 - 1 means the same seed on all three.
MAX_SEED = 2**32 - 1
# Counts that Spark and H2O hand to Java as an int (maxIter, max_iterations, nthreads).
MAX_JAVA_INT = 2**31 - 1


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


class Param:
    """One parameter of a node.

    ``type`` is a JSON Schema type name (string, integer, number, boolean, array, object) or ``any``; ``items``
    the type of an array's elements; ``aliases`` other accepted names (Spark, Fire Insights or H2O spellings);
    ``engines`` the engines it applies to (None: every engine the node runs on); ``input_file`` marks a path the
    step reads, which ``emberflow validate`` warns about when it does not exist.

    A plain class rather than a dataclass: importing dataclasses would cost ``emberflow validate`` more than the
    whole validation.
    """

    __slots__ = ("name", "type", "default", "doc", "choices", "aliases", "engines", "items", "minimum", "maximum",
                 "nullable", "input_file")

    def __init__(self, name: str, type: str, default: Any = REQUIRED, doc: str = "",
                 choices: tuple[Any, ...] | None = None, aliases: tuple[str, ...] = (),
                 engines: tuple[str, ...] | None = None, items: str | None = None, minimum: float | None = None,
                 maximum: float | None = None, nullable: bool = False, input_file: bool = False):
        self.name, self.type, self.default, self.doc = name, type, default, doc
        self.choices, self.aliases, self.engines, self.items = choices, aliases, engines, items
        self.minimum, self.maximum, self.nullable, self.input_file = minimum, maximum, nullable, input_file

    def __repr__(self) -> str:
        return f"Param({', '.join(f'{field}={getattr(self, field)!r}' for field in self.__slots__)})"

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value: Any) -> Any:
        """Return ``value`` if it fits this parameter, else raise ``ValueError`` saying what was expected."""
        if value is None and (self.nullable or self.default is None):
            return None
        self._check_type(value, self.type)
        if self.items and isinstance(value, list):
            for item in value:
                self._check_type(item, self.items, element=True)
        if self.choices is not None and value not in self.choices:
            options = ", ".join(map(repr, self.choices))
            raise ValueError(f"expected one of {options}, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"expected a value >= {self.minimum}, got {value!r}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"expected a value <= {self.maximum}, got {value!r}")
        return float(value) if self.type == "number" else value

    @staticmethod
    def _check_type(value: Any, type_name: str, element: bool = False) -> None:
        if type_name == "any":
            return
        expected = _TYPES[type_name]
        is_bool_for_number = isinstance(value, bool) and bool not in expected
        if is_bool_for_number or not isinstance(value, expected):
            what = f"{'elements of type ' if element else ''}{type_name}"
            raise ValueError(f"expected {what}, got {_describe(value)}")
        if isinstance(value, float) and not _finite(value):  # .nan passes every range check, .inf most
            raise ValueError(f"expected a finite number{' in every element' if element else ''}, got {value}")

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {} if self.type == "any" else {"type": self.type}
        if self.nullable or self.default is None:
            schema = {"anyOf": [schema or {}, {"type": "null"}]} if schema else {}
        if self.items:
            schema["items"] = {"type": self.items}
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.doc:
            schema["description"] = self.doc
        if not self.required and self.default is not None:
            schema["default"] = self.default
        return schema

    def describe(self) -> dict[str, Any]:
        """A plain description, for ``nodes show`` and a visual tool's node definition."""
        return {
            "name": self.name,
            "type": self.type + (f"[{self.items}]" if self.items else ""),
            "required": self.required,
            "default": None if self.required else self.default,
            "choices": list(self.choices) if self.choices is not None else None,
            "aliases": list(self.aliases),
            "engines": list(self.engines) if self.engines else None,
            "doc": self.doc,
        }


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))  # nan is the one value unequal to itself


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "mapping"}
    kind = kinds.get(type(value), type(value).__name__)
    shown = repr(value)
    return f"{kind} {shown[:40] + '...' if len(shown) > 40 else shown}"


class ParamProblem(ValueError):
    """A parameter problem; ``key`` is the name as written in the workflow (for its location).

    ``within`` is the place inside the parameter's value where the problem is, as list indexes and mapping keys
    (``("conditions", 2, "op")`` is reached by key ``conditions``, within ``(2, "op")``), and ``on_key`` says the
    problem is that place's mapping key (an unknown key) rather than its value.
    """

    def __init__(self, message: str, key: str | None = None, within: tuple = (), on_key: bool = False):
        self.key, self.within, self.on_key = key, tuple(within), on_key
        super().__init__(message)


def resolve_params(params: tuple[Param, ...], given: dict[str, Any], engine: str, node: str) -> dict[str, Any]:
    """Check ``given`` against ``params`` for ``engine``; return canonical names mapped to values.

    Raises ``ParamProblem`` naming the offending key, with the valid options in the message.
    """
    by_name = {}
    for param in params:
        by_name[param.name] = param
        for alias in param.aliases:
            by_name[alias] = param
    values: dict[str, Any] = {}
    written_as: dict[str, str] = {}
    for key, value in given.items():
        param = by_name.get(key)
        if param is None:
            raise ParamProblem(_unknown_message(key, params, node), key)
        if param.name in written_as:
            raise ParamProblem(
                f"parameter '{key}' of {node} repeats '{written_as[param.name]}' (the same parameter under "
                "another name); give it once",
                key,
            )
        if param.engines and engine not in param.engines:
            raise ParamProblem(
                f"parameter '{key}' of {node} applies to engine {' or '.join(param.engines)}, not {engine}; "
                "remove it or change the step's engine",
                key,
            )
        try:
            values[param.name] = param.check(value)
        except ValueError as exc:
            raise ParamProblem(f"parameter '{key}' of {node}: {exc}", key) from None
        written_as[param.name] = key
    for param in params:
        if param.name in values:
            continue
        if param.required:
            raise ParamProblem(f"{node} needs parameter '{param.name}' ({param.type}): {param.doc}".rstrip(": "))
        values[param.name] = param.default
    return values


def _unknown_message(key: str, params: tuple[Param, ...], node: str) -> str:
    names = [p.name for p in params]
    every = names + [alias for p in params for alias in p.aliases]
    if isinstance(key, bool):  # YAML 1.1 reads an unquoted on, off, yes, no, true or false as a boolean
        return (f"parameter key {key} is a boolean: YAML reads an unquoted on, off, yes, no, true or false as one; "
                f"quote the key if it is a name ({node}'s parameters: {', '.join(names)})")
    return f"unknown parameter '{key}' for {node}{did_you_mean(key, every)}; valid parameters: {', '.join(names)}"
