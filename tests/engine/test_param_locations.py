"""A node's own check of a structured parameter (a list of mappings) is located at the item, or the key, it blames."""

from __future__ import annotations

from typing import Any

import pytest
from emberflow.engine.api import Node, Param, ParamProblem
from emberflow.engine.errors import WorkflowError
from emberflow.engine.registry import Registry
from emberflow.engine.workflow import parse_workflow


class Conditions(Node):
    """A node whose ``rules`` are mappings with a known key ``op``."""

    params = (Param("rules", "array", doc="mappings with an op", items="object"),)

    @classmethod
    def check_params(cls, params: dict[str, Any], engine: str) -> None:
        for index, rule in enumerate(params["rules"]):
            for key in rule:
                if key != "op":
                    raise ParamProblem(f"unknown key '{key}'", "rules", (index, key), on_key=True)
            if rule.get("op") not in ("<", ">"):
                raise ParamProblem(f"bad op {rule.get('op')!r}", "rules", (index, "op"))
        if not params["rules"]:
            raise ParamProblem("no rules", "rules")

    def run_sklearn(self, ctx, inputs, params):  # pragma: no cover - only validated here
        return None


def registry() -> Registry:
    found = Registry(group="emberflow.no-such-group")
    found.register(Conditions)
    return found


WORKFLOW = """\
name: t
steps:
  - id: c
    node: Conditions
    params:
      rules:
        - {op: "<"}
        - {op: "<"}
        - {op: "=="}
"""


@pytest.mark.parametrize("text, location, message", [
    (WORKFLOW, "t.yaml:9:16", "bad op '=='"),
    (WORKFLOW.replace('- {op: "=="}', '- {op: ">", opp: 1}'), "t.yaml:9:21", "unknown key 'opp'"),
    (WORKFLOW.replace("      rules:\n", "      rules: []\n").split("        -")[0], "t.yaml:6:7", "no rules"),
])
def test_a_problem_inside_a_parameter_is_located_where_it_is(text: str, location: str, message: str):
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(text, "t.yaml", registry=registry())
    assert caught.value.location == location
    assert caught.value.message.endswith(message)
