"""Whatever parameters a data-preparation step is given, validation accepts them or refuses them in one located
line (emberflow's own error), never with another exception: random values under each node's parameter names,
Filter's conditions and the mappings included."""

from __future__ import annotations

from typing import Any

import yaml
from emberflow.engine.errors import WorkflowError
from emberflow.engine.registry import default_registry
from emberflow.engine.workflow import parse_workflow
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NODES = ("SelectColumns", "RenameColumns", "DropMissing", "FillMissing", "CastColumns", "Filter", "Join", "Sample",
         "Limit")
WORDS = ("column", "op", "value", "==", "!=", "<", ">=", "in", "not_in", "is_null", "not_null", "=", "age", "city",
         "integer", "date", "mean", "mode", "constant", "all", "any", "inner", "full", "")
scalars = (st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.just(10**400)
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(WORDS) | st.text(max_size=6))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(WORDS) | st.integers(-2, 2) | st.booleans(), inner, max_size=3), max_leaves=12)


@st.composite
def steps(draw) -> tuple[str, dict[str, Any]]:
    node = draw(st.sampled_from(NODES))
    names = [p.name for p in default_registry().get(node).params]
    params = draw(st.dictionaries(st.sampled_from(names), values, max_size=len(names)))
    return node, params


@settings(max_examples=400, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(steps())
def test_any_parameters_are_accepted_or_refused_in_one_located_line(step: tuple[str, dict[str, Any]]):
    node, params = step
    inputs = {"left": "read", "right": "read"} if node == "Join" else {"data": "read"}
    document = {"name": "t", "steps": [{"id": "read", "node": "ReadCSV", "params": {"path": "x.csv"}},
                                       {"id": "prep", "node": node, "inputs": inputs, "params": params}]}
    try:
        parse_workflow(yaml.safe_dump(document, sort_keys=False), "t.yaml")
    except WorkflowError as exc:
        assert exc.location and exc.location.startswith("t.yaml:"), exc
        assert str(exc).strip() and "\n" not in str(exc), repr(str(exc))
