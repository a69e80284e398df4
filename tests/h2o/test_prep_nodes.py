"""The data-preparation nodes on H2O: every case gives the rows pandas gives on the same input and leaves its
input frame as it was (H2O renames and assigns in place), the types are H2O's, a value that does not convert is
named with its row, and a workflow of them reads, prepares and writes a file as the sklearn engine does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError
from nodes.prep_cases import (
    CASES,
    FRAMES,
    WORKFLOW,
    as_pandas,
    assert_same_rows,
    people,
    rows,
    run_case,
    run_node,
    write_inputs,
)

pytestmark = pytest.mark.h2o


@pytest.fixture
def engines(h2o_engine):
    opened = Sessions()
    yield opened
    assert opened.stop_all() == []


def snapshot(frame) -> tuple:
    return frame.names, frame.types, rows(as_pandas(frame))


@pytest.mark.parametrize("node", sorted(CASES))
def test_every_case_gives_the_rows_pandas_gives_and_leaves_its_input_as_it_was(node: str, engines: Sessions):
    from emberflow.engine.api import to_engine

    for case in CASES[node]:
        frames = {port: to_engine(FRAMES[name](), "h2o", engines) for port, name in case.inputs.items()}
        before = {port: snapshot(frame) for port, frame in frames.items()}
        if "h2o" in case.refused_on:
            with pytest.raises(DataError, match="H2O cannot write the .* as text"):
                run_node(case.node, "h2o", frames, case.params, engines)
        else:
            on_h2o = as_pandas(run_node(case.node, "h2o", frames, case.params, engines))
            assert_same_rows(run_case(case, "sklearn", engines), on_h2o, case)
        assert {port: snapshot(frame) for port, frame in frames.items()} == before, case


def test_the_types_are_h2o_types(engines: Sessions):
    cast = run_node("CastColumns", "h2o", {"data": FRAMES["texts"]()}, CASES["CastColumns"][0].params, engines)
    assert cast.types == {"count": "int", "amount": "real", "flag": "enum", "day": "time", "stamp": "time"}
    assert cast["flag"].levels() == [["false", "true"]]
    filled = run_node("FillMissing", "h2o", {"data": people()}, {"values": {"city": "Bern", "member": False}},
                      engines)
    assert filled.types["city"] == "enum" and "Bern" in filled["city"].levels()[0]
    assert filled.types["member"] == "enum" and filled["member"].levels() == [["False", "True"]]


@pytest.mark.parametrize("types, message", [
    ({"count": "integer"}, "CastColumns: row 3, column 'count': 'x' is not an integer (2 values of the column do not "
                           "convert); fix the data, or set invalid: null to make such values missing"),
    ({"count": "integer", "day": "date", "flag": "boolean"},
     "CastColumns: row 2, column 'day': '2023-02-29' is not a date (YYYY-MM-DD) (3 values of the column"),
])
def test_a_value_that_does_not_convert_is_named_with_its_row(engines: Sessions, types: dict, message: str):
    with pytest.raises(DataError) as caught:
        run_node("CastColumns", "h2o", {"data": FRAMES["bad_texts"]()}, {"types": types}, engines)
    assert message in str(caught.value)


def test_what_h2o_cannot_write_as_text_is_refused(engines: Sessions):
    frame = pd.DataFrame({"x": [1.5, 2.0], "n": [1.0, 2.0]})
    with pytest.raises(DataError, match=r"H2O cannot write the numbers of column 'x' as text faithfully .*run this "
                                        r"step with engine: sklearn or spark"):
        run_node("CastColumns", "h2o", {"data": frame}, {"types": {"x": "string"}}, engines)
    whole = run_node("CastColumns", "h2o", {"data": frame}, {"types": {"n": "string"}}, engines)
    assert whole["n"].levels() == [["1", "2"]]


def test_sample_keeps_about_the_share_in_order_and_the_same_rows_for_a_seed(engines: Sessions):
    from emberflow.engine.api import to_pandas

    frame = pd.DataFrame({"id": range(400)})

    def sample(seed: int) -> list[int]:
        return to_pandas(run_node("Sample", "h2o", {"data": frame}, {"fraction": 0.25, "seed": seed}, engines))[
            "id"].tolist()

    first, again, other = sample(5), sample(5), sample(6)
    assert first == again and first != other and first == sorted(first)
    assert 60 <= len(first) <= 140 and set(first) <= set(range(400))


def test_a_workflow_on_h2o_writes_the_rows_the_sklearn_engine_writes(h2o_engine, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch):
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    monkeypatch.chdir(tmp_path)
    write_inputs(tmp_path)
    written = {}
    for engine in ("sklearn", "h2o"):
        text = WORKFLOW.replace("name: prepare", f"name: prepare\nengine: {engine}").replace(
            "{rows: 2}", "{rows: 10}").replace("out.csv", f"out-{engine}.csv")
        result = run_workflow(parse_workflow(text, "prepare.yaml"), ModelStore(tmp_path / "models"),
                              reporter=Reporter(None))
        assert result.ok, result.error
        written[engine] = pd.read_csv(tmp_path / f"out-{engine}.csv")
    assert len(written["h2o"]) == 3
    assert rows(written["h2o"], ordered=False) == rows(written["sklearn"], ordered=False)
