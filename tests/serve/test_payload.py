"""Request bodies into rows: MLflow's four JSON shapes, CSV bodies, and everything that is not a table."""

from __future__ import annotations

import math

import pytest
from emberflow.engine.serving.payload import (
    RequestError,
    csv_frame,
    decode_json,
    frame_of,
    mlflow_request,
    request_options,
)

COLUMNS = {"island": ["Dream", None], "bill_length_mm": [46.5, 39.0]}


@pytest.mark.parametrize("data", [
    {"dataframe_split": {"columns": ["island", "bill_length_mm"], "data": [["Dream", 46.5], [None, 39.0]]}},
    {"dataframe_split": {"columns": ["island", "bill_length_mm"], "data": [["Dream", 46.5], [None, 39.0]],
                         "index": [7, 8]}},
    {"dataframe_records": [{"island": "Dream", "bill_length_mm": 46.5}, {"island": None, "bill_length_mm": 39.0}]},
    {"dataframe_records": [{"island": "Dream", "bill_length_mm": 46.5}, {"bill_length_mm": 39.0}]},
    {"instances": [{"island": "Dream", "bill_length_mm": 46.5}, {"island": None, "bill_length_mm": 39.0}]},
    {"instances": COLUMNS},
    {"inputs": COLUMNS},
    {"inputs": [{"island": "Dream", "bill_length_mm": 46.5}, {"island": None, "bill_length_mm": 39.0}]},
])
def test_every_mlflow_shape_gives_the_same_columns(data):
    columns, options = mlflow_request(data)
    assert columns == COLUMNS and options == {}


@pytest.mark.parametrize(("data", "says"), [
    ([1, 2], "JSON object"),
    ({}, "exactly one of"),
    ({"dataframe_records": [], "inputs": {}}, "dataframe_records and inputs"),
    ({"dataframe_records": [{"a": 1}], "parms": {}}, "unexpected key 'parms'"),
    ({"dataframe_split": {"data": [[1]]}}, "dataframe_split must be"),
    ({"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [3]]}}, "row 2 of dataframe_split's data holds 1"),
    ({"dataframe_split": {"columns": ["a", "a"], "data": [[1, 2]]}}, "name 'a' twice"),
    ({"dataframe_split": {"columns": [["a"]], "data": [[1]]}}, "must be names"),
    ({"dataframe_records": {"a": [1]}}, "dataframe_records must be a list of objects"),
    ({"instances": [[1, 2], [3, 4]]}, "every value is named"),
    ({"inputs": {"a": [1, 2], "b": [3]}}, "all of one length"),
    ({"inputs": {"a": 1}}, "all of one length"),
])
def test_what_is_not_a_table_is_refused_saying_what_was_expected(data, says):
    with pytest.raises(RequestError, match=says) as caught:
        mlflow_request(data)
    assert caught.value.status == 400


def test_the_probabilities_option():
    assert request_options({"probabilities": True}) == {"probabilities": True}
    assert request_options({"probabilities": "false"}) == {"probabilities": False}
    assert request_options({"probabilities": "yes", "predict_method": "predict"}) == {"probabilities": True}
    with pytest.raises(RequestError, match="probabilities must be true or false"):
        request_options({"probabilities": 2})
    with pytest.raises(RequestError, match="params must be an object"):
        mlflow_request({"inputs": COLUMNS, "params": [True]})


@pytest.mark.parametrize(("body", "says"), [
    (b"{", "not valid JSON"),
    (b"", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
])
def test_bad_json_is_one_line(body, says):
    with pytest.raises(RequestError, match=says):
        decode_json(body)


def test_numbers_beyond_a_double_are_read_as_infinite_and_refused_naming_column_and_row():
    data = decode_json(b'{"inputs": {"a": [1, 1e999], "b": [-1e999, 2], "c": [NaN, 3], "d": [%s, %s]}}'
                       % (b"9" * 400, b"1" * 5000))
    assert data["inputs"]["a"][1] == math.inf and data["inputs"]["b"][0] == -math.inf
    assert math.isnan(data["inputs"]["c"][0])
    assert data["inputs"]["d"] == [math.inf, math.inf]  # never an int of thousands of digits
    assert decode_json(b"[123456789012345678, 1234567890123456789]") == [123456789012345678, 1.234567890123456789e18]
    with pytest.raises(RequestError, match="column 'a' holds a number beyond the range of a double .* in row 2"):
        frame_of({"a": data["inputs"]["a"]}, 10)


def test_frames_hold_plain_values_within_the_row_limit():
    frame = frame_of({"a": [1, None], "b": ["x", None], "c": [True, False]}, 2)
    assert list(frame["a"].isna()) == [False, True] and frame["b"].isna().tolist() == [False, True]
    assert frame["c"].dtype == bool
    with pytest.raises(RequestError, match="holds 3 rows, more than this server's limit of 2 per request"):
        frame_of({"a": [1, 2, 3]}, 2)
    with pytest.raises(RequestError, match="column 'b' holds a JSON object in row 2"):
        frame_of({"a": [1, 2], "b": ["x", {"y": 1}]}, 5)
    with pytest.raises(RequestError, match="no rows"):
        frame_of({"a": []}, 5)
    with pytest.raises(RequestError, match="no rows"):
        frame_of({}, 5)


def test_a_csv_body_reads_as_readcsv_reads_a_file(tmp_path):
    from emberflow.engine.frames import to_pandas
    from emberflow.engine.registry import default_registry

    body = b'island,bill_length_mm,sex,ok\nDream,46.5,NA,true\n"Bis,coe",,male,false\n'
    path = tmp_path / "rows.csv"
    path.write_bytes(body)
    reader = default_registry().get("ReadCSV")
    read = to_pandas(reader().run_sklearn(None, {}, {**{p.name: p.default for p in reader.params}, "path": str(path)}))
    frame = csv_frame(body, 10)
    assert frame.equals(read)
    assert frame["island"].tolist() == ["Dream", "Bis,coe"] and frame["sex"].isna().tolist() == [True, False]


def test_a_bad_csv_body_is_named_as_the_body_not_as_a_file():
    with pytest.raises(RequestError) as caught:
        csv_frame(b"a,b\n1,2\n3,4,5\n", 10)
    message = str(caught.value)
    assert "the CSV body" in message and "emberflow-serve-" not in message and "body.csv" not in message
    with pytest.raises(RequestError, match="more than this server's limit of 1"):
        csv_frame(b"a\n1\n2\n", 1)
    with pytest.raises(RequestError):
        csv_frame(b"", 10)
