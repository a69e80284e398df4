"""The data-preparation nodes on the sklearn engine: what each case keeps, drops, fills and converts (rows written
out by hand), located errors for bad parameters, one-line errors naming the column, row or value for bad data,
and a workflow of them from a CSV file to a CSV file."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import pytest
from emberflow.engine.context import Sessions
from emberflow.engine.errors import DataError, WorkflowError
from emberflow.engine.workflow import parse_workflow

from .helpers import run_text
from .prep_cases import CASES, FRAMES, WORKFLOW, Case, people, rows, run_case, run_node, write_inputs


def case(node: str, name: str) -> Case:
    return next(c for c in CASES[node] if c.name == name)


def ids(frame: pd.DataFrame) -> list[int]:
    return [int(i) for i in frame["id"]]


def on_pandas(node: str, params: dict, **frames: pd.DataFrame):
    return run_node(node, "sklearn", frames or {"data": people()}, params, Sessions())


@pytest.mark.parametrize("name, kept", [
    (">=", [1, 3, 4, 5, 7, 9, 10, 11, 12]),
    ("!= skips missing", [2, 3, 5, 6, 7, 8, 9, 11, 12]),
    ("all", [1, 3, 9]),
    ("any", [4, 7, 8, 11]),
    ("not_in skips missing", [4, 7, 8, 11]),
    ("is_null", [3, 8]),
    ("not_null and boolean", [2, 6, 8, 9]),
    ("numbers in", [2, 4]),
])
def test_filter_keeps_the_matching_rows_in_order(name: str, kept: list[int]):
    filtered = run_case(case("Filter", name), "sklearn", Sessions())
    assert ids(filtered) == kept
    assert list(filtered.columns) == list(people().columns)


@pytest.mark.parametrize("name, kept", [
    ("any column", [1, 7, 9, 10]),
    ("one column", [1, 3, 4, 5, 7, 8, 9, 10, 11, 12]),
    ("all of two", list(range(1, 13))),
    ("any of two", [1, 2, 3, 6, 7, 8, 9, 10, 12]),
])
def test_drop_missing_drops_the_rows_missing_a_value(name: str, kept: list[int]):
    assert ids(run_case(case("DropMissing", name), "sklearn", Sessions())) == kept


def test_select_and_rename_columns():
    sessions = Sessions()
    assert list(run_case(case("SelectColumns", "keep"), "sklearn", sessions).columns) == ["name", "id", "age"]
    assert list(run_case(case("SelectColumns", "drop"), "sklearn", sessions).columns) == ["id", "name", "city"]
    renamed = run_case(case("RenameColumns", "rename"), "sklearn", sessions)
    assert list(renamed.columns) == ["key", "years", "name", "city", "member", "score"]
    swapped = run_case(case("RenameColumns", "swap"), "sklearn", sessions)
    assert list(swapped.columns) == ["id", "score", "name", "city", "member", "age"]
    assert rows(swapped) == rows(people())
    assert list(people().columns) == ["id", "age", "name", "city", "member", "score"]


def test_fill_missing_with_values_and_strategies():
    sessions = Sessions()
    mean = run_case(case("FillMissing", "mean"), "sklearn", sessions)
    assert mean["age"].tolist()[:2] == [34.0, 33.0] and mean["score"][2] == pytest.approx(2.525)
    assert mean["name"].isna().sum() == 1, "mean fills numeric columns only"
    median = run_case(case("FillMissing", "median"), "sklearn", sessions)
    assert median["age"][1] == 30.0 and median["score"][2] == 2.375  # the mean of the two middle values
    mode = run_case(case("FillMissing", "mode"), "sklearn", sessions)
    assert (mode["age"][1], mode["name"][3], mode["city"][11], mode["member"][4], mode["score"][2]) == (
        21.0, "Ann", "Oslo", True, 0.5)  # every score is there once: the smallest
    values = run_case(case("FillMissing", "values"), "sklearn", sessions)
    assert (values["age"][1], values["name"][3], values["member"][4], values["score"][7]) == (30, "nobody", False, 0.5)
    assert values["city"].isna().sum() == 1
    constant = run_case(case("FillMissing", "constant text"), "sklearn", sessions)
    assert (constant["name"][3], constant["city"][11]) == ("?", "?") and constant["age"].isna().sum() == 2
    widened = run_node("FillMissing", "sklearn", {"data": pd.DataFrame({"n": pd.array([1, None], dtype="Int64")})},
                       {"values": {"n": 2.5}}, sessions)
    assert widened["n"].tolist() == [1.0, 2.5]


def test_a_strategy_with_nothing_to_compute_from_warns_and_leaves_the_column():
    warnings: list[str] = []
    frame = pd.DataFrame({"empty": [float("nan")] * 3, "x": [1.0, None, 3.0]})
    filled = run_node("FillMissing", "sklearn", {"data": frame}, {"strategy": "mean"}, Sessions(), warnings)
    assert filled["x"].tolist() == [1.0, 2.0, 3.0] and filled["empty"].isna().all()
    assert warnings == ["step: FillMissing: column 'empty' has no value to compute a mean from; it stays as it is"]


def test_cast_text_to_every_type():
    cast = run_case(case("CastColumns", "text"), "sklearn", Sessions())
    assert str(cast["count"].dtype) == "Int64" and cast["count"].tolist()[:4] == [12, -3, 4, 0]
    assert cast["count"].isna().tolist() == [False] * 4 + [True, False]
    assert cast["amount"].tolist()[:5] == [2.5, 1000.0, -0.25, 0.5, 8.0] and pd.isna(cast["amount"][5])
    assert str(cast["flag"].dtype) == "boolean"
    assert cast["flag"].tolist()[:4] == [True, False, True, False] and cast["flag"][5]
    assert cast["day"].tolist()[:2] == [datetime.date(2024, 1, 31), datetime.date(2024, 2, 29)]
    assert cast["day"][2] is None
    assert cast["stamp"].tolist()[:3] == [pd.Timestamp("2024-01-31 10:11:12"), pd.Timestamp("2024-02-29 23:59"),
                                         pd.Timestamp("2023-03-15")]
    assert pd.isna(cast["stamp"][3])


def test_cast_text_to_integers_and_numbers_up_to_the_limits():
    frame = pd.DataFrame({"n": pd.Series(["+2", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
                                          "00000000000000000000000012", "1.5", None], dtype="str"),
                          "x": pd.Series(["+2", "5.", "1E-2", "1e400", ".5", "-0", None], dtype=object)})
    cast = run_node("CastColumns", "sklearn", {"data": frame}, {"types": {"n": "integer", "x": "float"},
                                                               "invalid": "null"}, Sessions())
    assert cast["n"].tolist()[:3] == [2, -2**63, 2**63 - 1] and cast["n"][4] == 12
    assert cast["n"].isna().tolist() == [False, False, False, True, False, True, True]
    assert cast["x"].tolist()[:5] == [2.0, 5.0, 0.01, float("inf"), 0.5] and pd.isna(cast["x"][6])
    repeated = frame.set_axis([3, 3, 3, 1, 1, 2, 2], axis="index")  # an index repeating labels: rows by position
    again = run_node("CastColumns", "sklearn", {"data": repeated}, {"types": {"n": "integer", "x": "float"},
                                                                     "invalid": "null"}, Sessions())
    assert rows(again) == rows(cast) and again.index.tolist() == [3, 3, 3, 1, 1, 2, 2]
    with pytest.raises(DataError, match="row 4, column 'n': '9223372036854775808' is not an integer"):
        run_node("CastColumns", "sklearn", {"data": repeated}, {"types": {"n": "integer"}}, Sessions())


def test_cast_numbers_booleans_and_dates():
    sessions = Sessions()
    cast = run_case(case("CastColumns", "numbers, booleans, dates"), "sklearn", sessions)
    assert cast["whole"].tolist()[:3] == [1, 0, 3] and pd.isna(cast["whole"][3])
    assert cast["binary"].tolist() == [True, False, True, False, True]
    assert cast["member"].tolist()[:2] == [1, 0] and pd.isna(cast["member"][2])
    assert cast["day"][0] == pd.Timestamp("2024-01-31")
    text = run_case(case("CastColumns", "to text"), "sklearn", sessions)
    assert text["binary"].tolist() == ["1", "0", "1", "0", "1"]
    assert text["member"].tolist()[:2] == ["true", "false"] and pd.isna(text["member"][2])
    dates = run_case(case("CastColumns", "fractions and dates to text"), "sklearn", sessions)
    assert dates["day"].tolist()[:2] == ["2024-01-31", "2023-03-15"] and pd.isna(dates["day"][2])
    assert dates["ratio"].tolist()[:2] == ["0.5", "1.25"]


def test_invalid_values_become_missing_when_asked():
    cast = run_case(case("CastColumns", "invalid to null"), "sklearn", Sessions())
    assert cast["count"].isna().tolist() == [False, False, True, True, True]
    assert [d is None for d in cast["day"]] == [False, True, True, True, False]
    assert cast["flag"].isna().tolist() == [False, True, False, True, False]


@pytest.mark.parametrize("types, message", [
    ({"count": "integer"}, "CastColumns: row 3, column 'count': 'x' is not an integer (2 values of the column do not "
                           "convert); fix the data, or set invalid: null to make such values missing"),
    ({"count": "integer", "day": "date", "flag": "boolean"},
     "CastColumns: row 2, column 'day': '2023-02-29' is not a date (YYYY-MM-DD) (3 values"),
    ({"flag": "boolean"}, "CastColumns: row 2, column 'flag': 'maybe' is not true or false;"),
])
def test_a_value_that_does_not_convert_is_named_with_its_row(types: dict, message: str):
    with pytest.raises(DataError) as caught:
        run_node("CastColumns", "sklearn", {"data": FRAMES["bad_texts"]()}, {"types": types}, Sessions())
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_join_keeps_the_rows_of_each_kind_of_join():
    sessions = Sessions()
    sizes = {how: len(run_case(case("Join", how), "sklearn", sessions)) for how in ("inner", "left", "right", "full")}
    assert sizes == {"inner": 10, "left": 15, "right": 12, "full": 17}
    full = run_case(case("Join", "full"), "sklearn", sessions)
    assert list(full.columns) == ["id", "age", "name", "city", "member", "score_left", "country", "score_right"]
    unmatched = full[full["id"].isna()]
    assert sorted(unmatched["country"]) == ["FR", "XX"], "a missing key matches nothing, not the missing key"
    assert full.loc[full["country"] == "FR", "city"].tolist() == ["Paris"], "the key comes from the side that has it"
    two = run_case(case("Join", "two keys, one side's missing key"), "sklearn", sessions)
    assert len(two) == 12 and two["id_right"].isna().sum() == 2  # rows 4 (no name) and 12 (no city) match nothing


def test_limit_and_sample():
    sessions = Sessions()
    assert ids(run_case(case("Limit", "3"), "sklearn", sessions)) == [1, 2, 3]
    assert len(run_case(case("Limit", "none"), "sklearn", sessions)) == 0
    assert len(run_case(case("Limit", "more than there are"), "sklearn", sessions)) == 12
    half = on_pandas("Sample", {"fraction": 0.5, "seed": 3})
    expected = people().sample(frac=0.5, random_state=3)["id"].sort_values().tolist()
    assert ids(half) == expected and len(expected) == 6
    assert ids(on_pandas("Sample", {"fraction": 0.5, "seed": 3})) == expected
    assert ids(on_pandas("Sample", {"fraction": 1.0})) == list(range(1, 13))


def test_the_input_frame_is_left_as_it_was():
    frame = people()
    before = frame.copy()
    sessions = Sessions()
    for cases in CASES.values():
        for each in cases:
            if each.inputs == {"data": "people"}:
                run_node(each.node, "sklearn", {"data": frame}, each.params, sessions)
    pd.testing.assert_frame_equal(frame, before)


def test_an_index_that_repeats_labels_changes_no_case():
    """Frames made by hand or by a plugin may repeat index labels; the nodes work by position."""
    sessions = Sessions()
    for cases in CASES.values():
        for each in cases:
            frames = {port: FRAMES[name]() for port, name in each.inputs.items()}
            repeated = {port: frame.set_axis([i // 2 for i in range(len(frame))], axis="index")
                        for port, frame in frames.items()}
            expected = run_node(each.node, "sklearn", frames, each.params, sessions)
            assert rows(run_node(each.node, "sklearn", repeated, each.params, sessions), each.ordered) == rows(
                expected, each.ordered), each


@pytest.mark.parametrize("node, params, message", [
    ("SelectColumns", {"columns": ["Age", "nam", "id"]},
     "SelectColumns: no columns 'Age', 'nam' in the data (did you mean 'age' for 'Age', 'name' for 'nam'?); columns: "
     "id, age, name, city, member, score"),
    ("SelectColumns", {"drop": ["id", "age", "name", "city", "member", "score"]},
     "SelectColumns: drop names every column of the data; keep at least one"),
    ("RenameColumns", {"mapping": {"agee": "years"}}, "RenameColumns: no column 'agee' in the data (did you mean "
                                                      "'age' for 'agee'?)"),
    ("RenameColumns", {"mapping": {"age": "score"}}, "RenameColumns: columns 'age', 'score' would both be named "
                                                     "'score'; rename or drop 'score' too"),
    ("DropMissing", {"columns": ["scor"]}, "DropMissing: no column 'scor' in the data (did you mean 'score' for"),
    ("FillMissing", {"values": {"Name": "x"}}, "FillMissing: no column 'Name' in the data (did you mean 'name'"),
    ("FillMissing", {"values": {"age": "x"}}, "FillMissing: column 'age' is a number column, and 'x' is not a number"),
    ("FillMissing", {"strategy": "mean", "columns": ["name"]}, "FillMissing: strategy mean needs numeric columns; "
                                                               "'name' is text"),
    ("Filter", {"conditions": [{"column": "citty", "op": "==", "value": "Oslo"}]},
     "Filter: no column 'citty' in the data (did you mean 'city' for 'citty'?)"),
    ("Filter", {"conditions": [{"column": "age", "op": "==", "value": "21"}]},
     "Filter: condition 1 compares number column 'age' with text '21'; give a number value"),
    ("Filter", {"conditions": [{"column": "city", "op": ">", "value": 3}]},
     "Filter: condition 1 compares text column 'city' with number 3"),
    ("CastColumns", {"types": {"member": "date"}}, "CastColumns: column 'member' is a boolean column, which does "
                                                   "not convert to date"),
])
def test_bad_data_is_one_line_naming_the_column(node: str, params: dict, message: str):
    with pytest.raises(DataError) as caught:
        on_pandas(node, params)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_join_refuses_keys_missing_or_of_two_kinds():
    other = pd.DataFrame({"city": [1, 2], "x": [3, 4]})
    with pytest.raises(DataError, match=r"Join: key 'city' is a text column on the left and a number column"):
        run_node("Join", "sklearn", {"left": people(), "right": other}, {"keys": ["city"]}, Sessions())
    with pytest.raises(DataError, match=r"Join: the right frame has no key column 'name' in the data; columns: "
                                        r"city, x"):
        run_node("Join", "sklearn", {"left": people(), "right": other}, {"keys": ["city", "name"]}, Sessions())


def step(node: str, params: str, inputs: str = "{data: read}") -> str:
    return f"""name: t
steps:
  - {{id: read, node: ReadCSV, params: {{path: data.csv}}}}
  - id: prep
    node: {node}
    inputs: {inputs}
    params:
{params}
"""


@pytest.mark.parametrize("node, params, location, message", [
    ("SelectColumns", "      columns: [a, b, a]", "8:23", "parameter 'columns' of SelectColumns names column 'a' "
                                                         "twice"),
    ("SelectColumns", "      columns: [a]\n      drop: [b]", "9:7", "SelectColumns needs one of 'columns'"),
    ("SelectColumns", "      columns: []", "8:7", "parameter 'columns' of SelectColumns is empty"),
    ("RenameColumns", "      mapping: {a: x, b: x}", "8:26", "RenameColumns: 'a' and 'b' are both renamed 'x'"),
    ("RenameColumns", "      mapping: {a: 3}", "8:20", "RenameColumns: the new name of 'a' must be text, got 3"),
    ("DropMissing", "      how: some", "8:7", "expected one of 'any', 'all', got 'some'"),
    ("FillMissing", "      strategy: constant", "8:7", "FillMissing's strategy constant needs 'value'"),
    ("FillMissing", "      values: {a: 1}\n      strategy: mean", "9:7", "FillMissing needs one of 'values'"),
    ("FillMissing", "      values: {a: [1]}", "8:19", "expected a number, text, true or false to fill with"),
    ("FillMissing", "      strategy: mean\n      value: 3", "9:7", "FillMissing's 'value' goes with strategy constant"),
    ("Filter", "      conditions:\n        - {column: a, op: '>', value: 1}\n        - {column: a, op: '=', value: 1}",
     "10:27", "Filter: condition 2 has op '=' (did you mean '=='?); expected one of ==, !=, <"),
    ("Filter", "      conditions:\n        - {column: a, op: in, value: []}", "9:38",
     "Filter: condition 1 (in) needs a list of values, got []"),
    ("Filter", "      conditions:\n        - {column: a, op: is_null, value: 1}", "9:36",
     "Filter: condition 1 (is_null) takes no value; remove it"),
    ("Filter", "      conditions:\n        - {colum: a, op: '=='}", "9:12",
     "Filter: unknown key 'colum' in condition 1 (did you mean 'column'?)"),
    ("Filter", "      conditions:\n        - {column: a, op: '<', value: x}", "9:39",
     "Filter: condition 1 (<) compares with 'x'; < needs a number"),
    ("Filter", "      conditions:\n        - {column: a, op: '==', value: null}", "9:40",
     "Filter: condition 1 compares with null; use op is_null or not_null"),
    ("Filter", "      conditions:\n        - {column: a, op: in, value: [1, x]}", "9:38",
     "Filter: the values of condition 1 mix numbers, text and true/false"),
    ("Filter", "      conditions: [{column: a, op: '=='}]", "8:20", "Filter: condition 1 (==) needs a value"),
    ("CastColumns", "      types: {a: int}", "8:18", "CastColumns: type 'int' of column 'a' (did you mean 'integer'?)"),
    ("Join", "      keys: [k]\n      how: outer", "9:7", "expected one of 'inner', 'left', 'right', 'full'"),
    ("Join", "      keys: [k]\n      suffixes: [_a]", "9:7", "parameter 'suffixes' of Join must be two different"),
    ("Sample", "      fraction: 0", "8:7", "parameter 'fraction' of Sample: expected a share above 0"),
    ("Limit", "      rows: -1", "8:7", "expected a value >= 0, got -1"),
])
def test_bad_parameters_are_located_errors_at_validation(node: str, params: str, location: str, message: str):
    inputs = "{left: read, right: read}" if node == "Join" else "{data: read}"
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(step(node, params, inputs), "wf.yaml")
    assert caught.value.location == f"wf.yaml:{location}", caught.value
    assert message in caught.value.message


@pytest.mark.parametrize("node, params, location", [
    ("FillMissing", "      values: {a: 9223372036854775807, b: " + "9" * 400 + "}", "8:43"),
    ("FillMissing", "      strategy: constant\n      value: -9223372036854775809", "9:7"),
    ("Filter", "      conditions: [{column: a, op: in, value: [1, 9223372036854775808]}]", "8:51"),
])
def test_an_integer_no_engine_holds_is_refused_at_its_place(node: str, params: str, location: str):
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(step(node, params), "wf.yaml")
    assert caught.value.location == f"wf.yaml:{location}"
    assert "expected a number from -2**63 to 2**63 - 1, got " in caught.value.message


def test_every_new_node_documents_its_parameters():
    from emberflow.engine.registry import default_registry

    for name in ("SelectColumns", "RenameColumns", "DropMissing", "FillMissing", "CastColumns", "Filter", "Join",
                 "Sample", "Limit"):
        definition = default_registry().get(name).definition()
        assert definition["engines"] == ["sklearn", "spark", "h2o"]
        assert definition["fields"] and all(field["doc"] for field in definition["fields"]), name
        assert "\n" not in definition["description"] and "  " not in definition["description"], name


def test_a_workflow_prepares_a_csv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_inputs(tmp_path)
    result = run_text(WORKFLOW, tmp_path / "store")
    assert result.ok, result.error
    expected = "code,salary,joined,country\n8,0.0,2023-05-06,PE\n9,200.0,2022-12-31,\n"
    assert (tmp_path / "out.csv").read_text() == expected
