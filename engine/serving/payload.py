"""Request bodies into rows: JSON in MLflow's scoring shapes, or a CSV body read as ReadCSV reads a file.

Every refusal is a ``RequestError``: one line saying what was expected, what came and how to fix it, answered with
its HTTP status (400 unless said otherwise). A body never reaches the model unless it is a table of plain values:
numbers, text, true/false and null (missing). A number too large for a double (``1e999``, an integer of 400
digits) is read as infinite, and refused once the rows are a table, naming its column and row.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..errors import UserError

MLFLOW_SHAPES = ("dataframe_split", "dataframe_records", "instances", "inputs")
OPTIONS = ("probabilities",)
PLAIN_TYPES = frozenset({int, float, str, bool, type(None)})  # what JSON's scalars decode to
TRUE_TEXTS, FALSE_TEXTS = ("true", "1", "yes"), ("false", "0", "no")


class RequestError(UserError):
    """A request the server refuses, with the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def decode_json(body: bytes) -> Any:
    """The JSON of a body; ``NaN`` is a missing value, numbers beyond a double's range are infinite."""
    try:
        return json.loads(body, parse_int=_integer, parse_constant=_constant)
    except RecursionError:
        raise RequestError("the JSON is nested too deeply; send a table of values") from None
    except ValueError as exc:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise RequestError(f"the body is not valid JSON ({_short(exc)}); send a JSON object such as "
                           '{"dataframe_records": [{"column": value}]}') from None


def _integer(text: str) -> int | float:
    """A JSON integer: as a Python int while a float64 holds it exactly enough, else as a float (infinite when
    too large), so that no integer of thousands of digits is ever built or converted."""
    return int(text) if len(text) <= 18 else float(text)


def _constant(text: str) -> float:
    return math.nan if text == "NaN" else float(text.replace("Infinity", "inf"))


def _short(exc: Exception, most: int = 120) -> str:
    text = str(exc)
    return text if len(text) <= most else text[:most] + "..."


def _shown(value: Any, most: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= most else text[:most] + "..."


def mlflow_request(data: Any) -> tuple[dict[str, list[Any]], dict[str, Any]]:
    """MLflow's JSON: the rows as columns (name: values) and the request's options (``params``)."""
    if not isinstance(data, dict):
        raise RequestError(f"expected a JSON object holding one of {', '.join(MLFLOW_SHAPES)}, got a JSON "
                           f"{_json_type(data)}")
    given = [key for key in MLFLOW_SHAPES if key in data]
    if len(given) != 1:
        got = f"{' and '.join(given)}" if given else f"keys {', '.join(map(repr, data)) or 'none'}"
        raise RequestError(f"expected exactly one of {', '.join(MLFLOW_SHAPES)} in the JSON object, got {got}")
    unknown = [key for key in data if key not in (*MLFLOW_SHAPES, "params")]
    if unknown:
        raise RequestError(f"unexpected key {unknown[0]!r} in the JSON object; it holds one of "
                           f"{', '.join(MLFLOW_SHAPES)}, and params")
    shape = given[0]
    columns = split_columns(data[shape]) if shape == "dataframe_split" else named_columns(data[shape], shape)
    return columns, request_options(data.get("params"))


def split_columns(split: Any) -> dict[str, list[Any]]:
    """``dataframe_split``: ``{"columns": [...], "data": [[...], ...]}`` (an ``index`` is ignored)."""
    if not isinstance(split, dict) or not isinstance(split.get("columns"), list) or not isinstance(
            split.get("data"), list):
        raise RequestError('dataframe_split must be an object {"columns": [names], "data": [[values], ...]}')
    names = column_names(split["columns"], "dataframe_split's columns")
    rows = split["data"]
    for number, row in enumerate(rows, 1):
        if not isinstance(row, list) or len(row) != len(names):
            what = f"{len(row)} values" if isinstance(row, list) else f"a {_json_type(row)}"
            raise RequestError(f"row {number} of dataframe_split's data holds {what}, and there are {len(names)} "
                               "columns; send one list of values per row, a value per column")
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def column_names(names: list[Any], where: str) -> list[str]:
    if not all(isinstance(n, str) or (isinstance(n, int) and not isinstance(n, bool)) for n in names):
        raise RequestError(f"{where} must be names (text), got {_shown(names)}")
    names = [str(n) for n in names]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RequestError(f"{where} name {twice[0]!r} twice; name each column once")
    return names


def named_columns(value: Any, shape: str) -> dict[str, list[Any]]:
    """``dataframe_records`` (a list of objects), or ``instances``/``inputs`` as a list of objects or an object
    of columns (name: list of values)."""
    if isinstance(value, dict) and shape != "dataframe_records":
        return column_lists(value, shape)
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        allowed = "a list of objects" if shape == "dataframe_records" else \
            "a list of objects or an object of columns"
        raise RequestError(f"{shape} must be {allowed}: {{\"column\": value}} for each row, so that every value "
                           "is named")
    names: dict[str, None] = {}
    for row in value:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in value] for name in names}


def column_lists(value: dict[str, Any], shape: str) -> dict[str, list[Any]]:
    lengths = {len(v) for v in value.values() if isinstance(v, list)}
    if not all(isinstance(v, list) for v in value.values()) or len(lengths) > 1:
        raise RequestError(f"{shape} as an object must map each column to a list of values, all of one length")
    return dict(value)


def request_options(params: Any) -> dict[str, Any]:
    """The options a request may give (MLflow's ``params``): ``probabilities`` (true or false). Other parameters
    are ignored, as MLflow's server ignores those a model does not take, so that clients sending them still work."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise RequestError(f"params must be an object such as {{\"probabilities\": true}}, got a JSON "
                           f"{_json_type(params)}")
    return {key: flag(value, key) for key, value in params.items() if key in OPTIONS}


def flag(value: Any, name: str) -> bool:
    """true or false, as JSON or as the text of a query parameter (true/false, 1/0, yes/no)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_TEXTS + FALSE_TEXTS:
        return value.strip().lower() in TRUE_TEXTS
    raise RequestError(f"{name} must be true or false, got {_shown(value)}")


def frame_of(columns: dict[str, list[Any]], most_rows: int):
    """A pandas frame of the columns, once every value is plain and the rows are within the limit."""
    import pandas as pd

    rows = len(next(iter(columns.values()))) if columns else 0
    if rows == 0:
        raise RequestError("the request holds no rows; send at least one row")
    check_row_count(rows, most_rows)
    for name, values in columns.items():
        check_plain(name, values)
    return pd.DataFrame(columns)


def check_row_count(rows: int, most_rows: int) -> None:
    if rows > most_rows:
        raise RequestError(f"the request holds {rows} rows, more than this server's limit of {most_rows} per "
                           "request (--max-rows); send them in several requests")


def check_plain(name: str, values: list[Any]) -> None:
    """Every value a number, text, true/false or null: a list or object inside a cell is refused, and so is a
    number beyond a double's range (read as infinite)."""
    if set(map(type, values)) <= PLAIN_TYPES and math.inf not in values and -math.inf not in values:
        return  # the usual case, decided at C speed (a row at a time below cost 0.6 ms for 1,000 rows of 10)
    for row, value in enumerate(values, 1):
        if isinstance(value, (list, dict)):
            raise RequestError(f"column '{name}' holds a JSON {_json_type(value)} in row {row}; each value must "
                               "be a number, text, true/false or null")
        if isinstance(value, float) and math.isinf(value):
            raise RequestError(f"column '{name}' holds {beyond_double(row)}")


def beyond_double(row: int) -> str:
    return (f"a number beyond the range of a double (about 1.8e308) in row {row}; send finite numbers, or null "
            "for a missing value")


def csv_frame(body: bytes, most_rows: int):
    """A ``text/csv`` body read by ReadCSV with its defaults (header, comma, ``NA``/``null``/empty as missing,
    column types inferred), so that its rows are those a batch workflow would read from the same file."""
    import tempfile
    from pathlib import Path

    from ..frames import to_pandas
    from ..registry import default_registry

    reader = default_registry().get("ReadCSV")
    params = {param.name: param.default for param in reader.params}
    with tempfile.TemporaryDirectory(prefix="emberflow-serve-") as folder:
        path = Path(folder) / "body.csv"
        path.write_bytes(body)
        params["path"] = str(path)
        try:
            frame = to_pandas(reader().run_sklearn(None, {}, params))
        except UserError as exc:
            message = str(exc).replace(f"ReadCSV: {path}", "the CSV body").replace(str(path), "the CSV body")
            raise RequestError(message) from None
    if len(frame) == 0:
        raise RequestError("the CSV body holds no rows; send a header line and at least one row")
    check_row_count(len(frame), most_rows)
    return frame


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"
