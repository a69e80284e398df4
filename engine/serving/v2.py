"""The Open Inference Protocol (V2, as KServe, Seldon and Triton clients speak it): tensors into rows, and the
answer and the model's metadata as tensors.

A request holds one input tensor per column, named as the column, of shape ``[rows]`` or ``[rows, 1]``, with its
``datatype`` and its ``data`` (flat, or one list per row); ``null`` is a missing value. The answer's outputs are
``prediction`` (``[rows]``) and, for a classifier, ``probabilities`` (``[rows, classes]``, the classes in its
``parameters``); a request's ``outputs`` may name the ones it wants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .payload import RequestError, check_row_count

if TYPE_CHECKING:
    from .holder import Served
    from .scoring import Scored

NUMBERS = ("INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "FP16", "FP32", "FP64")
DATATYPES = ("BOOL", *NUMBERS, "BYTES")
OUTPUTS = ("prediction", "probabilities")


def infer_request(data: Any, most_rows: int) -> tuple[dict[str, list[Any]], list[str] | None]:
    """An inference request: its columns and the outputs it asks for (None: all). Its ``parameters`` (and its
    inputs') are free-form in the protocol, and ignored."""
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), list) or not data["inputs"]:
        raise RequestError('expected a JSON object {"inputs": [{"name", "shape", "datatype", "data"}, ...]}, one '
                           "input per column")
    columns: dict[str, list[Any]] = {}
    for tensor in data["inputs"]:
        name, values = input_column(tensor, most_rows)
        if name in columns:
            raise RequestError(f"input '{name}' is given twice; give each column once")
        if columns and len(values) != len(next(iter(columns.values()))):
            raise RequestError(f"input '{name}' holds {len(values)} rows, and input '{next(iter(columns))}' "
                               f"{len(next(iter(columns.values())))}; give every column the same number of rows")
        columns[name] = values
    return columns, requested_outputs(data.get("outputs"))


def input_column(tensor: Any, most_rows: int) -> tuple[str, list[Any]]:
    """One input tensor as a column: its name and values, once its shape, datatype and data agree."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise RequestError('each input must be an object {"name", "shape", "datatype", "data"}')
    name, shape, datatype = tensor["name"], tensor.get("shape"), tensor.get("datatype")
    if not isinstance(shape, list) or not 1 <= len(shape) <= 2 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape) or shape[1:] not in ([], [1]):
        raise RequestError(f"input '{name}' has shape {shape!r}; a column's shape is [rows] or [rows, 1]")
    if datatype not in DATATYPES:
        raise RequestError(f"input '{name}' has datatype {datatype!r}; expected one of {', '.join(DATATYPES)}")
    check_row_count(shape[0], most_rows)
    values = flat(tensor.get("data"), name)
    if len(values) != shape[0]:
        raise RequestError(f"input '{name}' has shape {shape} and holds {len(values)} values; make them agree")
    check_datatype(name, datatype, values)
    return name, values


def flat(data: Any, name: str) -> list[Any]:
    """A tensor's data in row-major order: flat, or one list of one value per row."""
    if not isinstance(data, list):
        raise RequestError(f"input '{name}' needs its values as a list under data")
    if any(isinstance(v, list) for v in data):
        if not all(isinstance(v, list) and len(v) == 1 for v in data):
            raise RequestError(f"input '{name}' holds lists of other than one value; a column has one value per row")
        return [v[0] for v in data]
    return data


def check_datatype(name: str, datatype: str, values: list[Any]) -> None:
    """Each value of the datatype's kind, or null: BOOL true/false, a number type numbers, BYTES text."""
    if datatype == "BOOL":
        fits, kind = (lambda v: isinstance(v, bool)), "true or false"
    elif datatype == "BYTES":
        fits, kind = (lambda v: isinstance(v, str)), "text"
    elif datatype.startswith(("INT", "UINT")):
        fits, kind = (lambda v: isinstance(v, int) and not isinstance(v, bool) or _whole(v)), "whole numbers"
    else:
        fits, kind = (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)), "numbers"
    for row, value in enumerate(values, 1):
        if value is not None and not fits(value):
            raise RequestError(f"input '{name}' is {datatype} and holds {value!r:.60} in row {row}; a {datatype} "
                               f"input holds {kind} (or null for a missing value)")


def _whole(value: Any) -> bool:
    """A float read from a very long integer (infinite if too large) counts as a whole number."""
    return isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))
                                         or value.is_integer())


def requested_outputs(outputs: Any) -> list[str] | None:
    if outputs is None:
        return None
    names = [o.get("name") if isinstance(o, dict) else None for o in outputs] if isinstance(outputs, list) else None
    if names is None or not all(n in OUTPUTS for n in names):
        raise RequestError(f"outputs must be a list of objects {{\"name\"}} naming {' or '.join(OUTPUTS)}")
    return names


def infer_response(served: Served, scored: Scored, wanted: list[str] | None, request_id: Any) -> dict[str, Any]:
    """The answer: ``prediction`` and, for a classifier, ``probabilities`` (or the outputs asked for)."""
    rows = len(scored.predictions)
    outputs = []
    if wanted is None or "prediction" in wanted:
        outputs.append({"name": "prediction", "shape": [rows], "datatype": prediction_datatype(scored),
                        "data": scored.predictions})
    if scored.probabilities is not None and (wanted is None or "probabilities" in wanted):
        outputs.append({"name": "probabilities", "shape": [rows, len(scored.classes)], "datatype": "FP64",
                        "parameters": {"classes": scored.classes},
                        "data": [p for row in scored.probabilities for p in row]})
    answer = {"model_name": served.name, "model_version": str(served.ref.version), "outputs": outputs}
    if isinstance(request_id, str):
        answer["id"] = request_id
    return answer


def prediction_datatype(scored: Scored) -> str:
    if scored.task == "regression":
        return "FP64"
    return value_datatype(scored.classes)


def value_datatype(values: list[Any]) -> str:
    """The V2 datatype of the predicted classes (``class_type``'s rule)."""
    from ..model import class_type

    return {"bool": "BOOL", "int": "INT64", "float": "FP64"}.get(class_type(values), "BYTES")


def input_datatype(column: dict[str, Any]) -> str:
    """A column's datatype as the model saw it in training: numbers FP64 (INT64 when they were whole), a
    categorical column BYTES (BOOL, INT64 for booleans and integer codes). Any datatype whose values conform is
    taken."""
    dtype = str(column.get("dtype", ""))
    if dtype.startswith("bool"):
        return "BOOL"
    if dtype.startswith(("int", "uint")):
        return "INT64"
    return "BYTES" if column.get("kind") == "categorical" else "FP64"


def model_metadata(served: Served) -> dict[str, Any]:
    """``GET /v2/models/NAME``: the version, and the inputs the model takes and the outputs it gives."""
    model = served.model
    schema = model.input_schema or [{"name": f, "kind": "numeric"} for f in model.features]
    inputs = [{"name": c["name"], "datatype": input_datatype(c), "shape": [-1]} for c in schema]
    outputs = [{"name": "prediction", "shape": [-1],
                "datatype": "FP64" if model.is_regression else value_datatype(list(model.classes))}]
    if not model.is_regression:
        outputs.append({"name": "probabilities", "datatype": "FP64", "shape": [-1, len(model.classes)],
                        "parameters": {"classes": list(model.classes)}})
    return {"name": served.name, "versions": [str(served.ref.version)],
            "platform": f"emberflow_{model.engine}", "inputs": inputs, "outputs": outputs,
            "parameters": {"task": model.task, "algorithm": model.algorithm}}
