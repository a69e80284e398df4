"""The SQL node on H2O, which has no SQL: the frames come to pandas, DuckDB runs the query, the result goes back
to H2O; every case gives the rows the sklearn engine gives, and the step's progress line says how it ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from emberflow.engine.api import to_pandas
from emberflow.engine.context import Sessions
from nodes.sql_cases import SQL_CASES, assert_same_sql_rows, run_sql_case

pytestmark = pytest.mark.h2o


@pytest.fixture
def engines(h2o_engine):
    opened = Sessions()
    yield opened
    assert opened.stop_all() == []


def test_every_case_gives_the_rows_duckdb_gives_and_says_it_ran_through_pandas(engines: Sessions):
    for case in SQL_CASES:
        notes: list[str] = []
        ours = run_sql_case(case, "h2o", engines, notes)
        assert type(ours).__name__ == "H2OFrame", case
        assert notes == ["H2O has no SQL: the query ran in DuckDB, over the frames in pandas"], case
        assert_same_sql_rows(run_sql_case(case, "sklearn", engines), to_pandas(ours), case)


def test_the_progress_line_says_the_query_ran_through_pandas(h2o_engine, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch):
    import io

    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import parse_workflow

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.csv").write_text("id,city\n1,Oslo\n2,Lima\n3,Oslo\n")
    text = """name: h2o-sql
engine: h2o
steps:
  - {id: read, node: ReadCSV, params: {path: in.csv}}
  - id: count
    node: SQL
    inputs: {input: read}
    params: {query: "SELECT city, COUNT(*) AS n FROM input GROUP BY city"}
"""
    progress = io.StringIO()
    result = run_workflow(parse_workflow(text, "wf.yaml"), ModelStore(tmp_path / "models"),
                          reporter=Reporter(progress))
    assert result.ok, result.error
    assert "[2/2] count (SQL, h2o) ... done in" in progress.getvalue()
    assert "2 rows (H2O has no SQL: the query ran in DuckDB, over the frames in pandas)" in progress.getvalue()
    assert result.record["steps"][1]["notes"] == ["H2O has no SQL: the query ran in DuckDB, over the frames in pandas"]
