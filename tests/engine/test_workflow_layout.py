"""The top-level ``layout:`` section (the visual editor's node positions) is accepted and ignored."""

from __future__ import annotations

import pytest
from emberflow.engine.errors import WorkflowError
from emberflow.engine.workflow import parse_workflow

STEPS = "steps:\n  - {id: read, node: ReadCSV, params: {path: x.csv}}\n"


def test_layout_is_accepted_and_changes_nothing():
    plain = parse_workflow("name: w\n" + STEPS)
    laid_out = parse_workflow("name: w\n" + STEPS + "layout:\n  read: {x: 10, y: 20}\n  old: {x: 0, y: 0}\n")
    assert [s.id for s in laid_out.steps] == [s.id for s in plain.steps]
    assert laid_out.step("read").params == plain.step("read").params


def test_another_unknown_top_level_key_is_still_refused():
    with pytest.raises(WorkflowError, match="unknown top-level key 'layouts'.*layout"):
        parse_workflow("name: w\n" + STEPS + "layouts: {}\n")
