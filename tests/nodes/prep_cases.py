"""The data-preparation nodes' cases, run alike on every engine: small frames made here, each node's parameter
sets, a way to run one node on an engine the way the runner does, and rows compared as plain values.

The Spark and H2O tests run every case of a node on their engine and on pandas and compare the rows; the
pandas tests check the cases' meaning against rows written out by hand.
"""

from __future__ import annotations

import datetime
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def people() -> pd.DataFrame:
    """Twelve rows with a missing value in most columns: numbers, text, booleans."""
    nan = float("nan")
    return pd.DataFrame({
        "id": list(range(1, 13)),
        "age": [34.0, nan, 21.0, 45.0, 21.0, nan, 60.0, 18.0, 33.0, 21.0, 50.0, 27.0],
        "name": ["Ann", "Bob", "Cy", None, "Eve", "Fay", "Gus", "Hal", "Ivy", "Ann", "Kim", "Lee"],
        "city": ["Oslo", "Lima", "Oslo", "Kyiv", "Lima", "Oslo", "Rome", "Kyiv", "Oslo", "Lima", "Rome", None],
        "member": pd.Series([True, False, True, True, None, False, True, False, False, True, None, True],
                            dtype=object),
        "score": [1.5, 2.25, nan, 4.0, 0.5, 3.0, 2.0, nan, 1.0, 2.5, 3.5, 5.0],
    })


def cities() -> pd.DataFrame:
    """Keys for joining with ``people``: a city twice, one people lack, a missing one; ``score`` collides."""
    return pd.DataFrame({
        "city": ["Oslo", "Lima", "Lima", "Paris", None],
        "country": ["NO", "PE", "PE2", "FR", "XX"],
        "score": [10.0, 20.0, 30.0, 40.0, 50.0],
    })


def texts() -> pd.DataFrame:
    """Text to convert: integers, numbers, booleans, dates and timestamps, each column with a missing value."""
    return pd.DataFrame({
        "count": ["12", "-3", "+4", "0", None, "7"],
        "amount": ["2.5", "1e3", "-0.25", ".5", "8", None],
        "flag": ["yes", "No", "1", "f", None, "TRUE"],
        "day": ["2024-01-31", "2024-02-29", None, "1999-12-31", "2000-01-01", "2023-03-15"],
        "stamp": ["2024-01-31 10:11:12", "2024-02-29T23:59", "2023-03-15", None, "2000-01-01 00:00:01",
                  "1999-12-31 12:00"],
    })


def bad_texts() -> pd.DataFrame:
    """Text that does not all convert: the first bad value of ``count`` is in row 3, of ``day`` in row 2."""
    return pd.DataFrame({
        "count": ["1", "2", "x", "2.5", None],
        "day": ["2024-01-31", "2023-02-29", "2024-13-01", "31/01/2024", "2024-01-01"],
        "flag": ["true", "maybe", "false", None, "no"],
    })


def typed() -> pd.DataFrame:
    """Numbers, booleans and dates to convert to other types."""
    return pd.DataFrame({
        "whole": [1.0, 0.0, 3.0, float("nan"), -2.0],
        "ratio": [0.5, 1.25, float("nan"), -2.0, 3.0],
        "binary": [1, 0, 1, 0, 1],
        "member": pd.Series([True, False, None, True, False], dtype=object),
        "day": pd.Series([datetime.date(2024, 1, 31), datetime.date(2023, 3, 15), None, datetime.date(2000, 1, 1),
                          datetime.date(1999, 12, 31)], dtype=object),
    })


FRAMES = {"people": people, "cities": cities, "texts": texts, "bad_texts": bad_texts, "typed": typed}


class Case:
    """One node with one set of parameters on named input frames; ``ordered``: the rows keep their order."""

    def __init__(self, name: str, node: str, params: dict[str, Any], inputs: dict[str, str] | None = None,
                 ordered: bool = True, refused_on: tuple[str, ...] = ()):
        self.name, self.node, self.params, self.ordered = name, node, params, ordered
        self.inputs = inputs or {"data": "people"}
        self.refused_on = refused_on  # engines that refuse the case, saying why

    def __repr__(self) -> str:
        return f"{self.node}[{self.name}]"


def condition(column: str, op: str, *value: Any) -> dict[str, Any]:
    return {"column": column, "op": op, **({"value": value[0]} if value else {})}


CASES: dict[str, list[Case]] = {
    "SelectColumns": [
        Case("keep", "SelectColumns", {"columns": ["name", "id", "age"]}),
        Case("drop", "SelectColumns", {"drop": ["age", "score", "member"]}),
        Case("one column with missing values", "SelectColumns", {"columns": ["age"]}),
    ],
    "RenameColumns": [
        Case("rename", "RenameColumns", {"mapping": {"age": "years", "id": "key"}}),
        Case("swap", "RenameColumns", {"mapping": {"age": "score", "score": "age"}}),
    ],
    "DropMissing": [
        Case("any column", "DropMissing", {}),
        Case("one column", "DropMissing", {"columns": ["age"]}),
        Case("all of two", "DropMissing", {"columns": ["age", "score"], "how": "all"}),
        Case("any of two", "DropMissing", {"columns": ["name", "member"]}),
    ],
    "FillMissing": [
        Case("values", "FillMissing", {"values": {"age": 30, "name": "nobody", "member": False, "score": 0.5}}),
        Case("a new and an existing text", "FillMissing", {"values": {"name": "Ann", "city": "Bern"}}),
        Case("mean", "FillMissing", {"strategy": "mean"}),
        Case("median", "FillMissing", {"strategy": "median", "columns": ["age", "score"]}),
        Case("mode", "FillMissing", {"strategy": "mode"}),
        Case("constant text", "FillMissing", {"strategy": "constant", "value": "?"}),
        Case("constant number", "FillMissing", {"strategy": "constant", "value": -1, "columns": ["age"]}),
        Case("values of an integer column", "FillMissing", {"values": {"whole": 2.5, "binary": 7}},
             {"data": "typed"}),
    ],
    "Filter": [
        Case(">=", "Filter", {"conditions": [condition("age", ">=", 21)]}),
        Case("!= skips missing", "Filter", {"conditions": [condition("name", "!=", "Ann")]}),
        Case("all", "Filter", {"conditions": [condition("age", "<", 40), condition("city", "==", "Oslo")]}),
        Case("any", "Filter", {"conditions": [condition("age", ">", 45), condition("city", "in", ["Kyiv", "Rome"])],
                               "combine": "any"}),
        Case("not_in skips missing", "Filter", {"conditions": [condition("city", "not_in", ["Oslo", "Lima"])]}),
        Case("is_null", "Filter", {"conditions": [condition("score", "is_null")]}),
        Case("not_null and boolean", "Filter", {"conditions": [condition("member", "not_null"),
                                                               condition("member", "==", False)]}),
        Case("numbers in", "Filter", {"conditions": [condition("id", "in", [2, 4, 99]),
                                                     condition("score", "<=", 4)]}),
    ],
    "CastColumns": [
        Case("text", "CastColumns", {"types": {"count": "integer", "amount": "float", "flag": "boolean",
                                               "day": "date", "stamp": "timestamp"}}, {"data": "texts"}),
        Case("text kept", "CastColumns", {"types": {"count": "string"}}, {"data": "texts"}),
        Case("invalid to null", "CastColumns", {"types": {"count": "integer", "day": "date", "flag": "boolean"},
                                                "invalid": "null"}, {"data": "bad_texts"}),
        Case("numbers, booleans, dates", "CastColumns", {
            "types": {"whole": "integer", "binary": "boolean", "member": "integer", "day": "timestamp"}},
            {"data": "typed"}),
        Case("to text", "CastColumns", {"types": {"binary": "string", "member": "string", "whole": "float"}},
             {"data": "typed"}),
        Case("fractions and dates to text", "CastColumns", {"types": {"ratio": "string", "day": "string"}},
             {"data": "typed"}, refused_on=("h2o",)),
    ],
    "Join": [
        Case(how, "Join", {"keys": ["city"], "how": how}, {"left": "people", "right": "cities"}, ordered=False)
        for how in ("inner", "left", "right", "full")
    ] + [
        Case("two keys, one side's missing key", "Join", {"keys": ["city", "name"], "how": "left"},
             {"left": "people", "right": "people"}, ordered=False),
    ],
    "Limit": [
        Case("3", "Limit", {"rows": 3}),
        Case("none", "Limit", {"rows": 0}),
        Case("more than there are", "Limit", {"rows": 100}),
    ],
}


# Read, filter, fill, convert, join, rename, select, limit and write: the files are made by write_inputs.
WORKFLOW = """
name: prepare
steps:
  - {id: read, node: ReadCSV, params: {path: raw.csv}}
  - {id: cities, node: ReadCSV, params: {path: cities.csv}}
  - {id: adults, node: Filter, inputs: {data: read}, params: {conditions: [{column: age, op: ">=", value: 18}]}}
  - {id: fill, node: FillMissing, inputs: {data: adults}, params: {values: {income: 0}}}
  - {id: cast, node: CastColumns, inputs: {data: fill}, params: {types: {joined: date, code: integer}}}
  - {id: join, node: Join, inputs: {left: cast, right: cities}, params: {keys: [city], how: left}}
  - {id: rename, node: RenameColumns, inputs: {data: join}, params: {mapping: {income: salary}}}
  - {id: pick, node: SelectColumns, inputs: {data: rename}, params: {columns: [code, salary, joined, country]}}
  - {id: first, node: Limit, inputs: {data: pick}, params: {rows: 2}}
  - {id: write, node: WriteCSV, inputs: {data: first}, params: {path: out.csv}}
"""


def write_inputs(folder: Path) -> None:
    """The two CSV files WORKFLOW reads."""
    (folder / "raw.csv").write_text("code,age,income,joined,city\n007,17,10,2024-01-01,Oslo\n"
                                    "8,30,,2023-05-06,Lima\n9,45,200,2022-12-31,Rome\n10,50,5,2021-01-01,Oslo\n")
    (folder / "cities.csv").write_text("city,country\nOslo,NO\nLima,PE\n")


def run_node(node: str, engine: str, frames: dict[str, Any], params: dict[str, Any], sessions: Any,
             warnings: list[str] | None = None, notes: list[str] | None = None, arrow: bool = False) -> Any:
    """Run ``node`` on ``engine`` as a step does: parameters resolved and checked, input frames moved to the
    engine (Arrow tables kept as they are with ``arrow``, for a node that takes them); the output frame is
    returned on the engine, an Arrow table in pandas, as the next step gets it unless that takes Arrow. The
    step's warnings and notes (the end of its progress line) are added to ``warnings`` and ``notes``."""
    from emberflow.engine.api import is_arrow, to_engine, to_pandas
    from emberflow.engine.context import RunState, StepContext
    from emberflow.engine.params import resolve_params
    from emberflow.engine.registry import default_registry

    node_class = default_registry().get(node)
    resolved = resolve_params(node_class.params, params, engine, node)
    node_class.check_params(resolved, engine)
    state = RunState(run_id="test", workflow=None, store=None, sessions=sessions)
    inputs = {port: to_engine(frame, engine, sessions, arrow=arrow) for port, frame in frames.items()}
    result = node_class().run(StepContext(step_id="step", engine=engine, run=state), inputs, resolved)
    if warnings is not None:
        warnings.extend(state.warnings)
    if notes is not None:
        notes.extend(state.notes.get("step", []))
    result = result if not isinstance(result, dict) else result[node_class.default_output()]
    return to_pandas(result) if is_arrow(result) else result


def run_case(case: Case, engine: str, sessions: Any) -> pd.DataFrame:
    frames = {port: FRAMES[name]() for port, name in case.inputs.items()}
    return as_pandas(run_node(case.node, engine, frames, case.params, sessions))


def as_pandas(frame: Any) -> pd.DataFrame:
    """A frame of any engine in pandas, an H2O frame's text read as text (the engine's conversion reads it as
    CSV, where text such as "+4" or ".5" becomes a number)."""
    import io

    from emberflow.engine.api import frame_engine, to_pandas

    data = to_pandas(frame)
    if frame_engine(frame) == "h2o":
        text = [name for name, kind in frame.types.items() if kind in ("enum", "string")]
        exact = pd.read_csv(io.StringIO(frame.get_frame_data()), dtype=dict.fromkeys(text, "str"),
                            skip_blank_lines=False)
        for name in text:
            data[name] = exact[name]
    return data


def plain(value: Any) -> str | None:
    """A value as text that is the same whichever engine held it: missing values are None; numbers, booleans,
    dates and timestamps written one way (an engine may turn text such as "12" or "true" into a number or a
    boolean on its way back to pandas: the types are checked apart)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{float(value):.10g}"
    if isinstance(value, datetime.date):
        return pd.Timestamp(value).isoformat()
    text = str(value)
    return text.lower() if text.lower() in ("true", "false") else text


def rows(frame: pd.DataFrame, ordered: bool = True) -> list[tuple]:
    found = [tuple(plain(v) for v in row) for row in frame.itertuples(index=False)]
    return found if ordered else sorted(found, key=repr)


def assert_same_rows(expected: pd.DataFrame, actual: pd.DataFrame, case: Case) -> None:
    assert [str(c) for c in actual.columns] == [str(c) for c in expected.columns], case
    assert rows(actual, case.ordered) == rows(expected, case.ordered), case
