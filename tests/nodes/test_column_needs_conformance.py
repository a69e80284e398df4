"""Every node that names the input columns it reads (``input_columns_needed``) keeps its promise: on a frame of
just those columns it gives the same rows in the columns wanted of its output, or the same error. Run over every
data-preparation case, for each single output column wanted and for all of them, on the sklearn engine (where
ReadCSV leaves the other columns out)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from emberflow.engine.context import RunState, Sessions, StepContext
from emberflow.engine.errors import EmberflowError
from emberflow.engine.params import resolve_params
from emberflow.engine.registry import default_registry

from .prep_cases import CASES, FRAMES, Case, run_node

EXTRA = [
    Case("half", "Sample", {"fraction": 0.5, "seed": 7}),
    Case("stratified", "SplitData", {"test_size": 0.5, "seed": 3, "stratify": "city"}, {"data": "cities"}),
    Case("plain", "SplitData", {"test_size": 0.25}),
]
ONE_INPUT = [case for cases in CASES.values() for case in cases if list(case.inputs) == ["data"]] + EXTRA


def outcome(case: Case, frame: pd.DataFrame, port: str) -> pd.DataFrame | str:
    """The case's output on ``port`` (SplitData has two), or its error's text."""
    node_class = default_registry().get(case.node)
    try:
        result = run_node(case.node, "sklearn", {"data": frame}, case.params, Sessions())
    except EmberflowError as exc:
        return str(exc)
    if node_class.default_output() != port:  # run_node returns the first output: run again for the other
        node = node_class()
        state = RunState(run_id="t", workflow=None, store=None, sessions=Sessions())
        params = resolve_params(node_class.params, case.params, "sklearn", case.node)
        result = node.run(StepContext("step", "sklearn", state), {"data": frame}, params)[port]
    return result.reset_index(drop=True)


def wanted_sets(case: Case, port: str) -> list[frozenset[str]]:
    full = outcome(case, FRAMES[case.inputs["data"]](), port)
    columns = list(full.columns) if isinstance(full, pd.DataFrame) else list(FRAMES[case.inputs["data"]]().columns)
    return [frozenset([c]) for c in columns] + [frozenset(columns)]


def outputs_of(case: Case) -> list[str]:
    return [port for port, kind in default_registry().get(case.node).outputs.items() if kind == "frame"]


@pytest.mark.parametrize("case", ONE_INPUT, ids=repr)
def test_a_frame_of_the_columns_a_node_names_gives_the_same_rows_or_error(case: Case):
    node_class = default_registry().get(case.node)
    frame = FRAMES[case.inputs["data"]]()
    checked = 0
    for port in outputs_of(case):
        for wanted in wanted_sets(case, port):
            needed = {p: (wanted if p == port else frozenset()) for p in outputs_of(case)}
            reads = node_class.input_columns_needed(_resolved(case), needed, "sklearn").get("data")
            if reads is None:
                continue
            checked += 1
            pruned = frame[[c for c in frame.columns if c in reads]]
            assert _same(outcome(case, frame, port), outcome(case, pruned, port), wanted), (port, sorted(wanted))
    if case.node in ("SelectColumns", "Limit", "Sample", "SplitData") or "columns" in case.params:
        assert checked, f"{case!r} was expected to name the columns it reads"


def _resolved(case: Case) -> dict[str, Any]:
    node_class = default_registry().get(case.node)
    return resolve_params(node_class.params, case.params, "sklearn", case.node)


def _same(full: pd.DataFrame | str, pruned: pd.DataFrame | str, wanted: frozenset[str]) -> bool:
    if isinstance(full, str) or isinstance(pruned, str):
        return full == pruned
    columns = [c for c in full.columns if c in wanted]
    if columns != [c for c in pruned.columns if c in wanted]:
        return False
    pd.testing.assert_frame_equal(full[columns], pruned[columns])
    return True
