"""Further input ports (``Node.extra_inputs``): a step names more frames under ports of its own (the SQL node's
tables), checked like declared ports; and a step's note, shown at the end of its progress line and recorded."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from emberflow.engine.api import FRAME, MODEL, Node, Param
from emberflow.engine.errors import WorkflowError
from emberflow.engine.registry import Registry
from emberflow.engine.runner import Reporter, run_workflow
from emberflow.engine.schema import workflow_schema
from emberflow.engine.store import ModelStore
from emberflow.engine.workflow import parse_workflow


class Stack(Node):
    """Rows of ``first`` and then of every further frame, in the order of the ports."""

    inputs = {"first": FRAME}
    extra_inputs = FRAME
    outputs = {"data": FRAME}

    def run_sklearn(self, ctx, inputs, params):
        import pandas as pd

        ctx.note(f"stacked {', '.join(inputs)}")
        return pd.concat(list(inputs.values()), ignore_index=True)


class Rows(Node):
    """A frame of ``n`` rows."""

    outputs = {"data": FRAME}
    params = (Param("n", "integer"),)

    def run_sklearn(self, ctx, inputs, params):
        import pandas as pd

        return pd.DataFrame({"n": range(params["n"])})


class Trained(Node):
    """A model port (no model in it)."""

    outputs = {"model": MODEL}

    def run_sklearn(self, ctx, inputs, params):
        return None


class Fixed(Node):
    """Declared ports only."""

    inputs = {"data": FRAME}
    outputs = {"data": FRAME}

    def run_sklearn(self, ctx, inputs, params):
        return inputs["data"]


@pytest.fixture
def registry() -> Registry:
    registry = Registry(group="emberflow.no-such-group")
    for node in (Stack, Rows, Trained, Fixed):
        registry.register(node)
    return registry


def workflow(inputs: str) -> str:
    return f"""name: stack
steps:
  - {{id: one, node: Rows, params: {{n: 1}}}}
  - {{id: two, node: Rows, params: {{n: 2}}}}
  - {{id: model, node: Trained}}
  - {{id: stack, node: Stack, inputs: {inputs}}}
"""


def test_a_step_names_further_frames_and_the_node_gets_them_by_port(registry: Registry, tmp_path: Path):
    checked = parse_workflow(workflow("{first: one, more_rows: two, again: one}"), "wf.yaml", registry=registry)
    assert {port: str(ref) for port, ref in checked.step("stack").inputs.items()} == {
        "first": "one", "more_rows": "two", "again": "one"}
    progress = io.StringIO()
    result = run_workflow(checked, ModelStore(tmp_path), reporter=Reporter(progress))
    assert result.ok, result.error
    stacked = next(s for s in result.record["steps"] if s["id"] == "stack")
    assert stacked["rows"] == 4
    assert stacked["notes"] == ["stacked first, more_rows, again"]
    assert "[4/4] stack (Stack, sklearn) ... done in" in progress.getvalue()
    assert "4 rows (stacked first, more_rows, again)\n" in progress.getvalue()


@pytest.mark.parametrize("inputs, message, at", [
    ("{more: two}", "Stack needs input 'first'", "{more"),
    ("{first: one, 2nd: two}", "input port name '2nd' of Stack must be letters, digits and _", "2nd"),
    ("{first: one, my-rows: two}", "input port name 'my-rows' of Stack must be letters", "my-rows"),
    ("{first: one, other: model}", "input 'other' of Stack expects a frame, but 'model' is a model", "model}"),
    ("{first: one, other: nowhere}", "input 'other' refers to unknown step 'nowhere'", "nowhere"),
])
def test_further_ports_are_checked_where_they_are_written(registry: Registry, inputs: str, message: str, at: str):
    text = workflow(inputs)
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(text, "wf.yaml", registry=registry)
    assert message in str(caught.value)
    line = text.splitlines()[5]
    assert caught.value.location == f"wf.yaml:6:{line.index(at) + 1}"


def test_a_node_without_further_ports_still_refuses_an_unknown_port(registry: Registry):
    text = "name: f\nsteps:\n  - {id: one, node: Rows, params: {n: 1}}\n  - {id: f, node: Fixed, inputs: " \
           "{data: one, extra: one}}\n"
    with pytest.raises(WorkflowError, match="Fixed has no input port 'extra'; its input ports: data"):
        parse_workflow(text, "wf.yaml", registry=registry)


def test_definition_schema_and_input_type_tell_the_further_ports(registry: Registry):
    assert Stack.definition()["extra_inputs"] == FRAME and Fixed.definition()["extra_inputs"] is None
    assert (Stack.input_type("first"), Stack.input_type("anything"), Fixed.input_type("anything")) == (
        FRAME, FRAME, None)
    schema = workflow_schema(registry)
    per_node = {rule["if"]["properties"]["node"]["const"]: rule["then"]["properties"]["inputs"]
                for rule in schema["properties"]["steps"]["items"]["allOf"]}
    assert per_node["Stack"]["additionalProperties"] == {"type": "string"}
    assert per_node["Stack"]["propertyNames"]["pattern"].startswith("^[A-Za-z_]")
    assert per_node["Stack"]["required"] == ["first"]
    assert per_node["Fixed"]["additionalProperties"] is False
