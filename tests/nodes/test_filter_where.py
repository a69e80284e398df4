"""Filter's ``where``, a SQL condition, on the sklearn engine (DuckDB picks the rows, pandas takes them): the rows
worked out by hand, the frame's types, index and order kept as ``conditions`` keep them, one-line errors naming
the column or the problem, and located errors at validation (both forms, neither, an empty one, H2O)."""

from __future__ import annotations

import pandas as pd
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError, WorkflowError
from emberflow.engine.workflow import parse_workflow

from .prep_cases import people, run_node
from .sql_cases import WHERE_CASES, run_sql_case


@pytest.mark.parametrize("name, kept", [
    ("and", [1, 3, 9]),
    ("or, in, null", [3, 4, 7, 8, 11]),
    ("not equal skips missing", [2, 3, 5, 6, 7, 8, 9, 11, 12]),
    ("boolean column", [2, 6, 8, 9]),
    ("functions", [1, 10, 11]),
])
def test_where_keeps_the_rows_it_is_true_for_in_order(name: str, kept: list[int]):
    case = next(c for c in WHERE_CASES if c.name == name)
    assert run_sql_case(case, "sklearn", Sessions())["id"].tolist() == kept


def where(condition: str, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    return run_node("Filter", "sklearn", {"data": people() if frame is None else frame}, {"where": condition},
                    Sessions())


def test_where_gives_what_conditions_give_types_index_and_all():
    frame = people().set_index(pd.Index(range(100, 112)))
    by_conditions = run_node("Filter", "sklearn", {"data": frame},
                             {"conditions": [{"column": "age", "op": ">=", "value": 21},
                                             {"column": "city", "op": "!=", "value": "Oslo"}]}, Sessions())
    by_where = where("age >= 21 AND city <> 'Oslo'", frame)
    pd.testing.assert_frame_equal(by_where, by_conditions)
    assert by_where["member"].dtype == object and frame.equals(people().set_index(pd.Index(range(100, 112))))


def test_a_column_named_like_the_row_counter_is_no_problem():
    frame = people().rename(columns={"score": "__emberflow_row"})
    assert where("__emberflow_row > 3", frame)["id"].tolist() == [4, 11, 12]


@pytest.mark.parametrize("condition, expected", [
    ("nope > 1", 'Filter: where \'nope > 1\': Binder Error: Referenced column "nope" not found in FROM clause; '
                 'Candidate bindings: "name"'),
    ("age", "Filter: where 'age' is a DOUBLE value, not true or false; write a condition such as age >= 21"),
    ("COUNT(*) > 1", "WHERE clause cannot contain aggregates"),
    ("true; DROP TABLE input", "Parser Error"),
    ("age >= 21) OR (1 = 1", "Parser Error: syntax error at or near \")\""),
    ("name = 1", "Could not convert string 'Ann' to INT32"),
    ("id IN (SELECT 1 FROM read_csv('/etc/passwd'))", "file system operations are disabled by configuration"),
])
def test_a_bad_condition_is_one_line_naming_what_is_wrong(condition: str, expected: str):
    with pytest.raises(DataError) as caught:
        where(condition)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


STEP = """name: f
{engine}steps:
  - {{id: read, node: ReadCSV, params: {{path: in.csv}}}}
  - id: keep
    node: Filter
    inputs: {{data: read}}
    params: {params}
"""


@pytest.mark.parametrize("engine, params, at, message", [
    ("", "{conditions: [{column: a, op: '==', value: 1}], where: 'a = 1'}", "where",
     "Filter takes 'conditions' or 'where', not both; keep one"),
    ("", "{where: ' '}", "where", "parameter 'where' of Filter is empty"),
    ("", "{combine: any}", "params", "Filter needs 'conditions' (a list of {column, op, value}) or, on sklearn and "
                                     "spark, 'where'"),
    ("engine: h2o\n", "{where: 'a = 1'}", "where", "parameter 'where' of Filter applies to engine sklearn or spark, "
                                                   "not h2o"),
])
def test_bad_parameters_are_located_at_validation(engine: str, params: str, at: str, message: str):
    text = STEP.format(engine=engine, params=params)
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(text, "wf.yaml")
    assert message in caught.value.message
    number, line = len(text.splitlines()), text.splitlines()[-1]  # the Filter step's params
    column = line.index(at) + 1 if at != "params" else line.index("{") + 1
    assert caught.value.location == f"wf.yaml:{number}:{column}"
