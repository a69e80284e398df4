"""Which columns later steps read of each step's frames: worked out from the last step back, through each node's
``input_columns_needed``, so that ReadCSV converts only the columns a workflow uses (projection pushdown)."""

from __future__ import annotations

from .node import FRAME, ColumnNeeds
from .workflow import Step, Workflow

# step id: {frame output port: the columns later steps read of it (None: every column)}
StepNeeds = dict[str, dict[str, ColumnNeeds]]


def column_needs(workflow: Workflow) -> StepNeeds:
    """For each step, what later steps read of each of its frame outputs. An output no step reads, or that one
    step reads whole, needs every column (None)."""
    ordered = workflow.ordered_steps()
    readers = _readers(ordered)
    needs: StepNeeds = {}
    input_needs: dict[str, dict[str, ColumnNeeds]] = {}
    for step in reversed(ordered):
        needs[step.id] = {port: _union([input_needs[reader.id].get(input_port)
                                        for reader, input_port in readers.get((step.id, port), [])])
                          for port, kind in step.node_class.outputs.items() if kind == FRAME}
        input_needs[step.id] = _inputs_needed(step, needs[step.id])
    return needs


def _readers(ordered: list[Step]) -> dict[tuple[str, str | None], list[tuple[Step, str]]]:
    """(step id, output port): the steps reading that output, each with its input port."""
    by_id = {step.id: step for step in ordered}
    readers: dict[tuple[str, str | None], list[tuple[Step, str]]] = {}
    for step in ordered:
        for input_port, ref in step.inputs.items():
            port = ref.port or by_id[ref.step].node_class.default_output()
            readers.setdefault((ref.step, port), []).append((step, input_port))
    return readers


def _inputs_needed(step: Step, needed: dict[str, ColumnNeeds]) -> dict[str, ColumnNeeds]:
    """The node's answer, kept to frozensets of names; a plugin whose answer is not one reads every column."""
    try:
        answer = step.node_class.input_columns_needed(dict(step.params), dict(needed), step.engine)
    except Exception:  # noqa: BLE001 - a plugin's slip must not stop the run: it just reads every column
        return {}
    if not isinstance(answer, dict):
        return {}
    return {port: frozenset(columns) for port, columns in answer.items()
            if isinstance(columns, (set, frozenset)) and all(isinstance(c, str) for c in columns)}


def _union(needs: list[ColumnNeeds]) -> ColumnNeeds:
    if not needs or any(need is None for need in needs):
        return None
    return frozenset().union(*needs)
