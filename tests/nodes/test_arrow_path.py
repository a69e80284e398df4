"""The sklearn engine's Arrow path: Filter, SelectColumns, CastColumns and SQL given the Arrow table ReadCSV
returns give what they give from its pandas frame (values, dtypes once in pandas, row order, the same error), and
a workflow that needs no pandas does not import it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError

from .prep_cases import CASES, FRAMES, Case, condition, run_node
from .sql_cases import SQL_CASES, WHERE_CASES

ROOT = Path(__file__).resolve().parents[2]


def mixed() -> pa.Table:
    """Columns as ReadCSV reads them, with the cases where pandas holds them otherwise: an int64 column with
    missing values (float64 in pandas), NaN beside null, integers beyond 2**53, empty text."""
    return pa.table({
        "id": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        "gaps": pa.array([10, None, 30, None, 50, 60], pa.int64()),
        "big": pa.array([2**53 + 1, 2**53, -(2**60), 7, 2**62, 0], pa.int64()),
        "x": pa.array([0.5, float("nan"), None, -1.0, 2.0, 0.0], pa.float64()),
        "word": pa.array(["a", "", None, "b", "a", "NaN"], pa.string()),
        "flag": pa.array([True, False, True, True, False, False], pa.bool_()),
        "gappy_flag": pa.array([True, None, False, True, None, False], pa.bool_()),
        "day": pa.array([None, 19000, 19001, 19002, 19003, 19004], pa.date32()),
    })


ARROW_FRAMES = {name: (lambda make=make: pa.Table.from_pandas(make(), preserve_index=False))
                for name, make in FRAMES.items()}
ARROW_FRAMES["mixed"] = mixed
ARROW_FRAMES["plain"] = lambda: mixed().drop_columns(["gappy_flag", "day"])  # no column that sends it to pandas

MIXED, PLAIN = {"data": "mixed"}, {"data": "plain"}
SQL_MIXED, SQL_PLAIN = {"input": "mixed"}, {"input": "plain"}
EXTRA = [
    Case("int with a fraction", "Filter", {"conditions": [condition("id", ">", 2.5)]}, PLAIN),
    Case("int with gaps", "Filter", {"conditions": [condition("gaps", ">=", 30), condition("gaps", "!=", 50)]},
         PLAIN),
    Case("a boolean column with gaps", "Filter", {"conditions": [condition("gaps", ">=", 30)]}, MIXED),
    Case("beyond 2**53", "Filter", {"conditions": [condition("big", "==", 2**53 + 1)]}, PLAIN),
    Case("beyond 2**53 as float", "Filter", {"conditions": [condition("big", "==", 2.0**53)]}, PLAIN),
    Case("NaN and null", "Filter", {"conditions": [condition("x", "!=", 0), condition("x", "is_null")],
                                    "combine": "any"}, PLAIN),
    Case("NaN is missing", "Filter", {"conditions": [condition("x", "!=", 0)]}, PLAIN),
    Case("float with an int", "Filter", {"conditions": [condition("x", "<=", 0)]}, PLAIN),
    Case("empty text", "Filter", {"conditions": [condition("word", "==", "")]}, PLAIN),
    Case("text not equal", "Filter", {"conditions": [condition("word", "!=", "a"), condition("word", "not_null")]},
         PLAIN),
    Case("a number against text", "Filter", {"conditions": [condition("word", ">", 1)]}, PLAIN),
    Case("text against a number column", "Filter", {"conditions": [condition("id", "==", "1")]}, PLAIN),
    Case("boolean column", "Filter", {"conditions": [condition("flag", "==", True)]}, PLAIN),
    Case("unknown column", "Filter", {"conditions": [condition("wrod", "==", "a")]}, PLAIN),
    Case("where", "Filter", {"where": "gaps > 20 AND word <> ''"}, PLAIN),
    Case("select", "SelectColumns", {"columns": ["day", "gaps", "word"]}, MIXED),
    Case("select unknown", "SelectColumns", {"columns": ["id", "dya"]}, MIXED),
    Case("to text", "CastColumns", {"types": {"id": "string", "big": "string", "flag": "string", "word": "string"}},
         MIXED),
    Case("with gaps to text", "CastColumns", {"types": {"gaps": "string"}}, MIXED),
    Case("boolean with gaps to text", "CastColumns", {"types": {"gappy_flag": "string"}}, MIXED),
    Case("to float", "CastColumns", {"types": {"id": "float", "big": "float", "gaps": "float", "x": "float"}},
         MIXED),
    Case("to integer", "CastColumns", {"types": {"id": "integer", "x": "integer"}, "invalid": "null"}, MIXED),
    Case("a value that does not convert", "CastColumns", {"types": {"word": "integer"}}, MIXED),
    Case("unknown column to text", "CastColumns", {"types": {"idd": "string"}}, MIXED),
    Case("sql over numbers and text", "SQL", {"query": "SELECT *, gaps + 1 AS more, x * 2 AS twice FROM input"},
         SQL_PLAIN),
    Case("sql NaN and gaps", "SQL", {"query": "SELECT flag, SUM(gaps) AS s, AVG(x) AS a, COUNT(x) AS n FROM input "
                                               "GROUP BY flag ORDER BY flag"}, SQL_PLAIN),
    Case("sql over every type", "SQL", {"query": "SELECT *, gaps + 1 AS more, x * 2 AS twice FROM input"}, SQL_MIXED),
    Case("sql sums", "SQL", {"query": "SELECT flag, SUM(gaps) AS s, AVG(x) AS a, COUNT(x) AS n, MIN(day) AS d "
                                      "FROM input GROUP BY flag ORDER BY flag"}, SQL_MIXED),
    Case("sql error", "SQL", {"query": "SELECT nope FROM input"}, SQL_PLAIN),
]
TAKE_ARROW = ("Filter", "SelectColumns", "CastColumns", "SQL")
ALL = [case for node in TAKE_ARROW for case in CASES.get(node, [])] + SQL_CASES + WHERE_CASES + EXTRA


def outcome(case: Case, arrow: bool):
    """The case's output in pandas (index dropped: pandas' filters keep their labels; rows sorted where the case
    has no order), or its error message."""
    tables = {port: ARROW_FRAMES[name]() for port, name in case.inputs.items()}
    frames = tables if arrow else {port: table.to_pandas() for port, table in tables.items()}
    try:
        found = run_node(case.node, "sklearn", frames, case.params, Sessions(), arrow=arrow)
    except DataError as exc:
        return str(exc)
    order = range(len(found)) if case.ordered else sorted(range(len(found)), key=lambda i: repr(found.iloc[i].tolist()))
    return found.iloc[list(order)].reset_index(drop=True)


@pytest.mark.parametrize("case", ALL, ids=repr)
def test_a_node_given_the_arrow_table_gives_what_it_gives_from_its_pandas_frame(case: Case):
    expected, found = outcome(case, arrow=False), outcome(case, arrow=True)
    if isinstance(expected, str):
        assert found == expected
    else:
        pd.testing.assert_frame_equal(found, expected, check_exact=True)


PROBE = """
import json, sys
from emberflow.engine.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules}))
"""

WORKFLOW = """
name: arrow-all-the-way
engine: sklearn
steps:
  - {id: read, node: ReadCSV, params: {path: in.csv}}
  - {id: keep, node: Filter, inputs: {data: read}, params: {conditions: [{column: x, op: ">", value: 0}]}}
  - {id: pick, node: SelectColumns, inputs: {data: keep}, params: {columns: [x, label]}}
  - {id: cast, node: CastColumns, inputs: {data: pick}, params: {types: {label: string}}}
  - {id: sum, node: SQL, inputs: {input: cast}, params: {query: "SELECT label, SUM(x) AS s FROM input GROUP BY 1"}}
  - {id: write, node: WriteCSV, inputs: {data: sum}, params: {path: out.csv}}
"""


def test_a_workflow_of_nodes_that_take_arrow_never_imports_pandas(tmp_path: Path):
    """The rows stay Arrow tables from ReadCSV to WriteCSV: pandas, whose import alone takes about 0.3 s, is not
    loaded. With a Limit step (a node that takes pandas) in the middle, it is."""
    (tmp_path / "in.csv").write_text("x,label\n1.5,1\n-2,0\n3,1\n0.5,0\n")
    (tmp_path / "wf.yaml").write_text(WORKFLOW)
    limited = WORKFLOW.replace("inputs: {data: keep}", "inputs: {data: first}") + (
        "  - {id: first, node: Limit, inputs: {data: keep}, params: {rows: 10}}\n")
    (tmp_path / "limited.yaml").write_text(limited)
    found = {}
    for name in ("wf", "limited"):
        proc = subprocess.run([sys.executable, "-c", PROBE, "run", f"{name}.yaml", "--quiet", "--store", "store"],
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert proc.returncode == 0, proc.stderr
        found[name] = json.loads(proc.stdout.splitlines()[-1])
        assert (tmp_path / "out.csv").read_text() in ("label,s\n1,4.5\n0,0.5\n", "label,s\n0,0.5\n1,4.5\n")
    assert found == {"wf": {"code": 0, "pandas": False}, "limited": {"code": 0, "pandas": True}}
