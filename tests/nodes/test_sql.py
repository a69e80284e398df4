"""The SQL node on the sklearn engine (DuckDB): rows worked out by hand, the types ReadCSV gives, the step's
frames as its only tables (no file, URL or statement that changes anything), located errors for a bad query at
validation, and one-line errors naming the column, table or value at run time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError, WorkflowError
from emberflow.engine.workflow import parse_workflow

from .helpers import run_text
from .prep_cases import cities, people, run_node
from .sql_cases import SQL_CASES, run_sql_case, sql_rows


def case(name: str):
    return next(c for c in SQL_CASES if c.name == name)


def sql(query: str, **frames: pd.DataFrame) -> pd.DataFrame:
    return run_node("SQL", "sklearn", frames or {"input": people()}, {"query": query}, Sessions())


def test_group_by_counts_averages_and_sums_each_city():
    grouped = run_sql_case(case("group by"), "sklearn", Sessions())
    assert sql_rows(grouped, ordered=False) == sql_rows(pd.DataFrame({
        "city": ["Kyiv", "Lima", "Oslo", "Rome", None], "n": [2, 3, 4, 2, 1],
        "mean_age": [31.5, 21.0, 88 / 3, 55.0, 27.0], "low": [4.0, 0.5, 1.0, 2.0, 5.0],
        "ids": [12, 17, 19, 18, 12]}), ordered=False)
    assert grouped["n"].dtype == "int64" and grouped["ids"].dtype == "int64"  # SUM's exact integers as int64


def test_a_lookup_table_is_joined_by_its_port_name():
    joined = run_sql_case(case("join a lookup table"), "sklearn", Sessions())
    assert sorted(zip(joined["id"], joined["country"], strict=True)) == [
        (1, "NO"), (2, "PE"), (2, "PE2"), (3, "NO"), (5, "PE"), (5, "PE2"), (6, "NO"), (9, "NO"), (10, "PE"),
        (10, "PE2")]
    counted = run_sql_case(case("left join and count"), "sklearn", Sessions())
    assert sql_rows(counted, ordered=False) == sql_rows(pd.DataFrame({
        "city": ["Oslo", "Lima", "Paris", None], "people": [4, 6, 0, 0]}), ordered=False)


def test_rows_keep_their_values_and_exact_decimals_become_floats():
    computed = run_sql_case(case("project and compute"), "sklearn", Sessions())
    assert computed["id"].tolist() == [1, 3, 4, 5, 7, 9, 10, 11, 12]
    assert computed["twice"].tolist() == [68.0, 42.0, 90.0, 42.0, 120.0, 66.0, 42.0, 100.0, 54.0]
    decimals = run_sql_case(case("exact decimals and a window"), "sklearn", Sessions())
    assert (decimals["x"].dtype, decimals["total"].dtype) == ("float64", "int64")
    assert decimals["x"].tolist() == [1.5] * 12 and set(decimals["total"]) == {78}
    flags = run_sql_case(case("booleans and nulls"), "sklearn", Sessions())
    assert flags["id"].tolist() == [1, 3, 4, 7, 10, 12] and flags["nameless"].tolist() == [
        False, False, True, False, False, False]


def test_the_result_has_the_types_readcsv_gives(tmp_path: Path):
    (tmp_path / "in.csv").write_text("id,age,name,member\n1,34.5,Ann,true\n2,,Bob,false\n3,21,,\n")
    read = run_node("ReadCSV", "sklearn", {}, {"path": str(tmp_path / "in.csv")}, Sessions())
    copied = sql("SELECT * FROM input", input=read)
    assert copied.dtypes.to_dict() == read.dtypes.to_dict()
    pd.testing.assert_frame_equal(copied, read)


def test_the_input_frames_are_left_as_they_were():
    frame, lookup = people(), cities()
    sql("SELECT p.*, c.country FROM input p LEFT JOIN cities c USING (city)", input=frame, cities=lookup)
    pd.testing.assert_frame_equal(frame, people())
    pd.testing.assert_frame_equal(lookup, cities())


@pytest.mark.parametrize("query, expected", [
    ("SELECT nope FROM input", 'SQL: Binder Error: Referenced column "nope" not found in FROM clause; Candidate '
                               'bindings: "name"'),
    ("SELECT * FROM inptu", "SQL: Catalog Error: Table with name inptu does not exist (did you mean 'input'?)"),
    ("SELECT CAST(name AS INTEGER) FROM input", "Could not convert string 'Ann' to INT32"),
    ("SELECT id, id FROM input", "SQL: the result has more than one column named 'id'; name them apart with AS"),
    ("SELECT 1; SELECT 2", "SQL: the query must be one statement that reads (SELECT ...), got 2 statement(s)"),
    ("SELECT * FROM input WHERE", "SQL: Parser Error: syntax error at or near \"WHERE\" (query line 1)"),
])
def test_a_bad_query_is_one_line_naming_what_is_wrong(query: str, expected: str):
    with pytest.raises(DataError) as caught:
        sql(query)
    message = str(caught.value)
    assert expected in message and "\n" not in message
    if "Error:" in expected:
        assert message.endswith("; tables: input (id, age, name, city, member, score)")


@pytest.mark.parametrize("query", [
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_parquet('https://example.com/x.parquet')",
])
def test_the_query_reads_no_file_or_url(query: str):
    with pytest.raises(DataError, match="SQL: .*(disabled by configuration|Table with name /etc/passwd does not)"):
        sql(query)


@pytest.mark.parametrize("query", ["SET enable_external_access = true", "SELECT 1; SET enable_external_access = true",
                                   "SELECT 1; COPY input TO 'out.csv'", "INSTALL httpfs"])
def test_only_one_query_that_reads_runs(query: str):
    """Validation refuses a query not starting as one that reads; what passes it is checked again as it runs."""
    from emberflow.nodes.sql import duckdb_query

    with pytest.raises(DataError, match="SQL: the query must be one statement that reads"):
        duckdb_query({"input": people()}, query)


def test_two_ports_differing_only_in_case_are_refused():
    with pytest.raises(DataError, match="input ports 'input' and 'Input' name one table"):
        sql("SELECT * FROM input", input=people(), Input=people())


STEP = """name: q
steps:
  - {{id: read, node: ReadCSV, params: {{path: in.csv}}}}
  - {{id: q, node: SQL, inputs: {{input: read}}, params: {{query: {query}}}}}
"""


@pytest.mark.parametrize("query, message", [
    ('""', "parameter 'query' of SQL is empty"),
    ('"DROP TABLE input"', "must be a query that reads, starting with SELECT, WITH, FROM, VALUES or TABLE; got "
                           "'DROP'"),
    ('"-- a comment\\nINSERT INTO input VALUES (1)"', "got 'INSERT'"),
    ('"ATTACH \'x.db\'"', "got 'ATTACH'"),
])
def test_a_query_that_does_not_read_is_refused_at_validation_where_it_is_written(query: str, message: str):
    text = STEP.format(query=query)
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(text, "wf.yaml")
    assert message in str(caught.value)
    line = text.splitlines()[3]
    assert caught.value.location == f"wf.yaml:4:{line.index('query:') + 1}"


@pytest.mark.parametrize("query", ["SELECT 1", "  (SELECT 1)", "/* why */ WITH a AS (SELECT 1) SELECT * FROM a",
                                   "FROM input", "VALUES (1, 2)", "TABLE input", "select 1"])
def test_queries_that_read_pass_validation(query: str):
    parse_workflow(STEP.format(query=repr(query).replace("'", '"')), "wf.yaml")


def test_a_workflow_reads_cleans_and_joins_with_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("id,city,amount\n1,Oslo,10\n2,Lima,\n3,Oslo,5\n4,Rome,7\n")
    (tmp_path / "cities.csv").write_text("city,country\nOslo,NO\nLima,PE\n")
    text = """name: sql
steps:
  - {id: read, node: ReadCSV, params: {path: in.csv}}
  - {id: cities, node: ReadCSV, params: {path: cities.csv}}
  - id: total
    node: SQL
    inputs: {input: read, cities: cities}
    params:
      query: >-
        SELECT country, SUM(COALESCE(amount, 0)) AS total, COUNT(*) AS n
        FROM input JOIN cities USING (city) GROUP BY country ORDER BY country
  - {id: write, node: WriteCSV, inputs: {data: total}, params: {path: out.csv}}
"""
    result = run_text(text, tmp_path / "models")
    assert result.ok, result.error
    assert (tmp_path / "out.csv").read_text() == "country,total,n\nNO,15.0,2\nPE,0.0,1\n"
    assert [s["rows"] for s in result.record["steps"]] == [4, 2, 2, None]
