"""The SQL node's and Filter's ``where`` cases, in SQL that DuckDB and Spark both read, on the frames of
``prep_cases``; each engine's tests run them and compare the rows with the sklearn engine's."""

from __future__ import annotations

import decimal
from typing import Any

import pandas as pd

from .prep_cases import FRAMES, Case, plain, run_node

PEOPLE_AND_CITIES = {"input": "people", "cities": "cities"}

SQL_CASES = [
    Case("project and compute", "SQL", {"query": "SELECT id, age * 2 AS twice, name FROM input WHERE age >= 21 "
                                                 "ORDER BY id"}, {"input": "people"}),
    Case("group by", "SQL", {"query": "SELECT city, COUNT(*) AS n, AVG(age) AS mean_age, MIN(score) AS low, "
                                      "SUM(id) AS ids FROM input GROUP BY city"}, {"input": "people"}, ordered=False),
    Case("join a lookup table", "SQL", {"query": "SELECT p.id, p.name, c.country, c.score AS city_score FROM input p "
                                                 "JOIN cities c ON p.city = c.city"}, PEOPLE_AND_CITIES,
         ordered=False),
    Case("left join and count", "SQL", {"query": "SELECT c.city, COUNT(p.id) AS people FROM cities c LEFT JOIN "
                                                 "input p ON p.city = c.city GROUP BY c.city"}, PEOPLE_AND_CITIES,
         ordered=False),
    Case("case, coalesce, cast", "SQL", {"query": "SELECT id, CASE WHEN city = 'Oslo' THEN 1 ELSE 0 END AS oslo, "
                                                  "COALESCE(age, 0) AS age, CAST(FLOOR(score) AS INTEGER) AS whole "
                                                  "FROM input ORDER BY id"}, {"input": "people"}),
    Case("booleans and nulls", "SQL", {"query": "SELECT id, name IS NULL AS nameless FROM input WHERE member "
                                                "ORDER BY id"}, {"input": "people"}),
    Case("exact decimals and a window", "SQL", {"query": "SELECT id, 1.5 AS x, SUM(id) OVER () AS total FROM input "
                                                         "ORDER BY id"}, {"input": "people"}),
    Case("with", "SQL", {"query": "WITH adults AS (SELECT * FROM input WHERE age >= 21) SELECT city, MAX(age) AS "
                                  "oldest FROM adults GROUP BY city"}, {"input": "people"}, ordered=False),
]

WHERE_CASES = [
    Case("and", "Filter", {"where": "age >= 21 AND city = 'Oslo'"}),
    Case("or, in, null", "Filter", {"where": "age > 45 OR city IN ('Kyiv', 'Rome') OR score IS NULL"}),
    Case("not equal skips missing", "Filter", {"where": "name <> 'Ann'"}),
    Case("boolean column", "Filter", {"where": "NOT member"}),
    Case("functions", "Filter", {"where": "LOWER(name) LIKE 'a%' OR (LENGTH(city) = 4 AND id > 10)"}),
]


def same_value(value: Any) -> str | None:
    """``plain`` of prep_cases, with Spark's exact decimals as the floats the sklearn engine gives."""
    if isinstance(value, decimal.Decimal):
        value = float(value)
    return plain(value)


def sql_rows(frame: pd.DataFrame, ordered: bool = True) -> list[tuple]:
    found = [tuple(same_value(v) for v in row) for row in frame.itertuples(index=False)]
    return found if ordered else sorted(found, key=repr)


def run_sql_case(case: Case, engine: str, sessions: Any, notes: list[str] | None = None) -> Any:
    """The case's output on ``engine`` (on the engine, not in pandas)."""
    frames = {port: FRAMES[name]() for port, name in case.inputs.items()}
    return run_node(case.node, engine, frames, case.params, sessions, notes=notes)


def assert_same_sql_rows(expected: pd.DataFrame, actual: pd.DataFrame, case: Case) -> None:
    assert [str(c) for c in actual.columns] == [str(c) for c in expected.columns], case
    assert sql_rows(actual, case.ordered) == sql_rows(expected, case.ordered), case
