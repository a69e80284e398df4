"""The Open Inference Protocol's tensors into columns, and predictions into its answer."""

from __future__ import annotations

import pytest
from emberflow.engine.serving.payload import RequestError
from emberflow.engine.serving.scoring import Scored
from emberflow.engine.serving.v2 import infer_request, infer_response, input_datatype, value_datatype


def tensor(name, data, datatype="FP64", shape=None):
    return {"name": name, "datatype": datatype, "shape": shape or [len(data)], "data": data}


def test_one_tensor_per_column_flat_or_one_list_per_row():
    columns, wanted = infer_request({
        "inputs": [tensor("a", [1.5, None]), tensor("b", [["x"], ["y"]], "BYTES", [2, 1]),
                   tensor("c", [True, False], "BOOL"), tensor("d", [3, 4], "INT32")],
        "parameters": {"content_type": "pd"}, "outputs": [{"name": "prediction"}]}, 10)
    assert columns == {"a": [1.5, None], "b": ["x", "y"], "c": [True, False], "d": [3, 4]}
    assert wanted == ["prediction"]


@pytest.mark.parametrize(("data", "says"), [
    ([], "expected a JSON object"),
    ({"inputs": []}, "expected a JSON object"),
    ({"inputs": [5]}, "each input must be an object"),
    ({"inputs": [tensor("a", [1, 2], shape=[2, 2])]}, r"shape \[2, 2\]; a column's shape is \[rows\]"),
    ({"inputs": [tensor("a", [1, 2], shape=[3])]}, r"has shape \[3\] and holds 2 values"),
    ({"inputs": [tensor("a", [1], datatype="FP128")]}, "datatype 'FP128'; expected one of"),
    ({"inputs": [tensor("a", [1, "x"])]}, "input 'a' is FP64 and holds 'x' in row 2"),
    ({"inputs": [tensor("a", [1, 2.5], "INT64")]}, "input 'a' is INT64 and holds 2.5 in row 2"),
    ({"inputs": [tensor("a", ["x", 1], "BYTES")]}, "input 'a' is BYTES and holds 1 in row 2"),
    ({"inputs": [tensor("a", [1], "BOOL")]}, "input 'a' is BOOL and holds 1 in row 1"),
    ({"inputs": [tensor("a", [1]), tensor("a", [2])]}, "input 'a' is given twice"),
    ({"inputs": [tensor("a", [1]), tensor("b", [2, 3])]}, "input 'b' holds 2 rows, and input 'a' 1"),
    ({"inputs": [tensor("a", [[1, 2]], shape=[1])]}, "lists of other than one value"),
    ({"inputs": [tensor("a", 5, shape=[1])]}, "needs its values as a list"),
    ({"inputs": [tensor("a", [1])], "outputs": [{"name": "proba"}]}, "outputs must be a list of objects"),
    ({"inputs": [tensor("a", [1] * 11)]}, "holds 11 rows, more than this server's limit of 10"),
])
def test_tensors_that_are_not_columns_are_refused(data, says):
    with pytest.raises(RequestError, match=says):
        infer_request(data, 10)


def test_the_answer_gives_the_prediction_and_probabilities_as_tensors(lr_holder):
    served = lr_holder.current
    scored = Scored(["Adelie", "Gentoo"], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], ["Adelie", "Chinstrap", "Gentoo"],
                    "classification")
    answer = infer_response(served, scored, None, "r-1")
    assert answer["model_name"] == "species-lr" and answer["model_version"] == "1" and answer["id"] == "r-1"
    prediction, probabilities = answer["outputs"]
    assert prediction == {"name": "prediction", "shape": [2], "datatype": "BYTES", "data": ["Adelie", "Gentoo"]}
    assert probabilities["shape"] == [2, 3] and probabilities["data"] == [0.7, 0.2, 0.1, 0.1, 0.1, 0.8]
    assert probabilities["parameters"] == {"classes": ["Adelie", "Chinstrap", "Gentoo"]}
    assert [o["name"] for o in infer_response(served, scored, ["probabilities"], None)["outputs"]] == ["probabilities"]


def test_datatypes():
    assert [value_datatype(v) for v in ([True, False], [0, 1], [0, 1.5], ["a", 1], [])] == [
        "BOOL", "INT64", "FP64", "BYTES", "BYTES"]
    assert [input_datatype(c) for c in ({"kind": "numeric", "dtype": "float64"}, {"kind": "numeric", "dtype": "int64"},
                                        {"kind": "categorical", "dtype": "str"},
                                        {"kind": "categorical", "dtype": "bool"})] == ["FP64", "INT64", "BYTES", "BOOL"]
