"""The SQL node and Filter's ``where`` on Spark: every case gives the rows DuckDB gives on the sklearn engine, the
result is a Spark frame, the temporary views are gone after the step, and a query reads no file, calls no Java
method and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine.api import to_pandas
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError
from nodes.prep_cases import people, run_node
from nodes.sql_cases import SQL_CASES, WHERE_CASES, assert_same_sql_rows, run_sql_case

pytestmark = pytest.mark.spark


def nope(start: str) -> tuple[str, ...]:
    """Spark's words for an unknown column `nope`: pyspark 4's, then 3.5's."""
    return tuple(f"{start}A column{kinds} or function parameter with name `nope` cannot be resolved"
                 for kinds in (", variable,", ""))


def says(message: str, expected: str | tuple[str, ...]) -> bool:
    """One line holding ``expected``, or one of several wordings (Spark's messages change across versions)."""
    wordings = (expected,) if isinstance(expected, str) else expected
    return "\n" not in message and any(wording in message for wording in wordings)


@pytest.fixture
def engines(spark):
    opened = Sessions()
    yield opened
    opened.stop_all()


def test_every_case_gives_the_rows_duckdb_gives(engines: Sessions):
    for case in SQL_CASES:
        ours = run_sql_case(case, "spark", engines)
        assert type(ours).__module__.startswith("pyspark.sql"), case
        assert_same_sql_rows(run_sql_case(case, "sklearn", engines), to_pandas(ours), case)


def sql(query: str, engines: Sessions, **frames):
    return run_node("SQL", "spark", frames or {"input": people()}, {"query": query}, engines)


def test_the_views_are_dropped_and_sql_on_files_is_restored(spark, engines: Sessions):
    before = spark.conf.get("spark.sql.runSQLOnFiles")
    frame = sql("SELECT id FROM input WHERE age > 40", engines)
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == []
    assert spark.conf.get("spark.sql.runSQLOnFiles") == before
    assert sorted(r.id for r in frame.collect()) == [4, 7, 11]  # the plan holds the frame, not the view


def test_a_query_reads_no_file(spark, engines: Sessions, tmp_path: Path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(DataError, match="SQL: .*csv"):
        sql(f"SELECT * FROM csv.`{secret}`", engines)
    assert [t.name for t in spark.catalog.listTables() if t.isTemporary] == []


@pytest.mark.parametrize("query, expected", [
    ("FROM input INSERT OVERWRITE DIRECTORY '/tmp/emberflow-sql-out' USING csv SELECT *",
     "SQL: Syntax error at or near 'INSERT'"),
    ("SELECT 1; SELECT 2", ("SQL: Syntax error at or near ';'", "SQL: Syntax error at or near 'SELECT': extra input")),
    ("SELECT reflect('java.lang.System', 'getProperty', 'user.home')", "SQL: reflect calls Java methods"),
    ("SELECT id FROM input WHERE JAVA_METHOD('java.lang.System', 'getProperty', 'user.home') IS NOT NULL",
     "SQL: JAVA_METHOD calls Java methods"),
    ("WITH a AS (SELECT `try_reflect`('java.lang.System', 'lineSeparator') AS x) SELECT * FROM a",
     "SQL: try_reflect calls Java methods"),
])
def test_only_a_query_runs(engines: Sessions, query: str, expected: str):
    with pytest.raises(DataError) as caught:
        sql(query, engines)
    assert says(str(caught.value), expected), str(caught.value)
    assert not Path("/tmp/emberflow-sql-out").exists()


@pytest.mark.parametrize("query, expected", [
    ("SELECT nope FROM input", nope("SQL: ")),
    ("SELECT * FROM inptu", "SQL: the table or view 'inptu' cannot be found (did you mean 'input'?)"),
    ("SELECT id, id FROM input", "SQL: the result has more than one column named 'id'"),
    ("SELECT id FROM input WHERE id >", "SQL: Syntax error at or near end of input"),
])
def test_a_bad_query_is_one_line_naming_what_is_wrong(engines: Sessions, query: str, expected: str):
    with pytest.raises(DataError) as caught:
        sql(query, engines)
    message = str(caught.value)
    assert says(message, expected), message


def test_every_where_case_gives_the_rows_duckdb_gives(engines: Sessions):
    for case in WHERE_CASES:
        ours = run_sql_case(case, "spark", engines)
        assert type(ours).__module__.startswith("pyspark.sql"), case
        assert_same_sql_rows(run_sql_case(case, "sklearn", engines), to_pandas(ours), case)


@pytest.mark.parametrize("condition, expected", [
    ("nope > 1", nope("Filter: where 'nope > 1': ")),
    ("COUNT(*) > 1", "Filter: where 'COUNT(*) > 1': "),
    ("reflect('java.lang.System', 'getProperty', 'user.home') IS NOT NULL", "IS NOT NULL\": reflect calls Java "
                                                                           "methods and is refused"),
    ("true; SELECT 1", "Filter: where 'true; SELECT 1': Syntax error at or near ';'"),
])
def test_a_bad_where_is_one_line_naming_what_is_wrong(engines: Sessions, condition: str, expected: str):
    with pytest.raises(DataError) as caught:
        run_node("Filter", "spark", {"data": people()}, {"where": condition}, engines)
    assert says(str(caught.value), expected), str(caught.value)
