"""The task-aware predictor: a model's predictions for raw rows in a pandas frame, whatever the task.

Score uses it on the embedded engine (and for scikit-learn and portable models on Spark, batch by batch), and so
will anything else that scores rows outside an engine's own frames. It checks the rows against the model's input
schema first, so that a missing column, a text value in a numeric column or (with ``unknown_category: error``) a
category the model never saw is one clear error, not the library's message, and it conforms the columns to what
the preparation inside the model was fitted on: numeric columns as float64, categorical ones as text.

Categories are compared as text, the same text on every engine: ``true``/``false`` for booleans, ``3`` for the
whole number 3 (read as 3.0 where a column has gaps), and a string as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DataError
from .suggest import did_you_mean_each

if TYPE_CHECKING:
    from .model import Model


class Prediction:
    """What a model predicted for each row: ``values`` (classes or numbers) and, for a classifier, ``proba``
    (one column per class, in the order of ``classes``)."""

    def __init__(self, task: str, values: Any, proba: Any = None, classes: list[Any] | None = None):
        self.task, self.values, self.proba, self.classes = task, values, proba, list(classes or [])


# Below this many rows a model is fitted and applied on one thread: OpenMP's threads (HistGradientBoosting's,
# BLAS's) cost more than they save on small data, and on a busy machine a hundred boosting rounds on 240 rows
# took 11 s with two threads against 0.15 s with one.
FEW_ROWS = 20_000


def threads_for(rows: int):
    """A context in which the native thread pools (OpenMP, BLAS) use one thread when ``rows`` is small."""
    from contextlib import nullcontext

    if rows >= FEW_ROWS:
        return nullcontext()
    return thread_pools().limit(limits=1)


_controller = None


def thread_pools():
    """threadpoolctl's view of the native thread pools, found once: finding them (threadpool_limits does it on
    every call) reads every loaded library's symbols, 0.9 ms, most of a served row's time besides the model's.
    Found on the first prediction, once the model (and the libraries it uses) is loaded."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller


def predict(model: Model, frame) -> Prediction:
    """Predict for ``frame``'s rows with a scikit-learn or portable model."""
    estimator, inputs = estimator_and_inputs(model, frame)
    if model.is_regression:
        with threads_for(len(inputs)):
            return Prediction("regression", estimator.predict(inputs).astype("float64"))
    with threads_for(len(inputs)):
        proba = estimator.predict_proba(inputs)
    classes = list(model.classes) or list(getattr(model.obj, "classes_", []))
    return Prediction("classification", predicted_labels(proba, classes, model.params.get("threshold", 0.5)),
                      proba, classes)


def predicted_labels(proba, classes: list[Any], threshold: float = 0.5):
    """The predicted class: above ``threshold`` for the second of two classes, else the most probable."""
    import numpy as np

    labels = np.asarray(classes)
    if proba.shape[1] == 2:
        return np.where(proba[:, 1] > threshold, labels[1], labels[0])
    return labels[proba.argmax(axis=1)]


def estimator_and_inputs(model: Model, frame):
    """What to call and on what: the model's object and its input columns; or, for a model that carries a NumPy
    preparation (``engine.numpy_preparation``: a linear pipeline, when a server loads it), the pipeline's last
    step and the columns that preparation makes of the conformed rows, equal to those of the pipeline's own."""
    fast = model.numpy_preparation
    if fast is None:
        return model.obj, model_inputs(model, frame)
    check_features(model, frame.columns)
    columns = conformed_columns(frame, model.input_schema, model.params.get("unknown_category", "ignore"))
    return fast.estimator, fast.model_columns(columns)


def model_inputs(model: Model, frame):
    """The model's input columns of ``frame``, in the model's order, as the model expects them."""
    check_features(model, frame.columns)
    if model.input_schema:
        return conform(frame, model.input_schema, model.params.get("unknown_category", "ignore"))
    X = frame[model.features]
    if model.engine == "portable":
        return X.to_numpy(dtype="float64")
    if not hasattr(model.obj, "feature_names_in_"):  # fitted on arrays: its columns are LoadModel's features
        return X.to_numpy()
    return X


def check_features(model: Model, columns) -> None:
    columns = [str(c) for c in columns]
    missing = [f for f in model.features if f not in columns]
    if missing:
        raise DataError(f"the data lacks the model's feature columns {missing}"
                        f"{did_you_mean_each(missing, columns)}; columns: {', '.join(columns)}")


def conform(frame, schema: list[dict[str, Any]], unknown_category: str = "ignore"):
    """A frame of the schema's columns: numeric ones as float64 (text in them is an error naming the row),
    categorical ones as text with NaN for missing values. With ``unknown_category: error`` a category not among
    the column's levels is an error naming the column, the value and its row."""
    import pandas as pd

    columns = conformed_columns(frame, schema, unknown_category)
    return pd.DataFrame({name: values if isinstance(values, pd.Series) else  # an array keeps its dtype (object)
                         pd.Series(values, index=frame.index, dtype=values.dtype) for name, values in columns.items()},
                        index=frame.index)


def conformed_columns(frame, schema: list[dict[str, Any]], unknown_category: str = "ignore") -> dict[str, Any]:
    """``conform``'s columns by name, before they are made a frame: NumPy arrays for a few rows, Series for more."""
    import pandas as pd

    if len(frame) <= FEW_VALUES:
        small = conform_small(frame, schema)
        if small is not None:
            if unknown_category == "error":
                for column in (c for c in schema if c.get("kind") == "categorical"):
                    check_known(pd.Series(small[column["name"]]), column["name"], column.get("levels") or [])
            return small
    columns = {}
    for column in schema:
        name = column["name"]
        if column.get("kind") == "categorical":
            columns[name] = category_text(frame[name])
            if unknown_category == "error":
                check_known(columns[name], name, column.get("levels") or [])
        else:
            columns[name] = numeric_values(frame[name], name)
    return columns


# Up to this many rows (a served request's, mostly), ``conform`` converts the values one by one in Python: pandas'
# column operations cost about 30 us each whatever the rows, 0.9 ms for a row of ten columns against 0.25 ms.
FEW_VALUES = 64


def conform_small(frame, schema: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``conformed_columns`` of a few rows, value by value, as NumPy arrays of the same values and dtypes as the
    column operations give; None when a column is of a type this does not convert (text in a numeric column,
    dates ...): they are then converted column by column, which says what is wrong."""
    import numpy as np

    columns = {}
    for column in schema:
        values = frame[column["name"]]
        dtype = values.dtype
        if column.get("kind") == "categorical":
            texts = category_texts(values)
            if texts is None:
                return None
            array = np.empty(len(texts), dtype=object)
            array[:] = texts
            columns[column["name"]] = array
        elif isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            columns[column["name"]] = values.to_numpy().astype("float64")
        elif (numbers := plain_numbers(values)) is not None:
            columns[column["name"]] = numbers
        else:
            return None
    return columns


def plain_numbers(values):
    """A few values of an object column (a JSON column with a null: ``[null]``, ``[1, null]``) as float64, when
    each is a number or None; None otherwise (booleans, text)."""
    import numpy as np

    if values.dtype != object:
        return None
    listed = values.tolist()
    if not all(v is None or type(v) in (int, float) for v in listed):
        return None
    return np.array([np.nan if v is None else v for v in listed], dtype="float64")


def category_texts(values) -> list[Any] | None:
    """``category_text`` of a few values, one by one (None for a column of another type than text, numbers,
    booleans and Python objects)."""
    import numpy as np
    import pandas as pd

    dtype = values.dtype
    plain = isinstance(dtype, np.dtype) and dtype.kind in "fiubO"
    if not plain and not (pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, np.dtype)):
        return None
    as_is = not plain  # a string dtype's values are texts already
    return [np.nan if is_missing(v) else v if as_is else value_text(v) for v in values.tolist()]


def is_missing(value: Any) -> bool:
    """Whether a single value is what pandas' ``notna`` calls missing: None, NaN, NA, NaT."""
    import pandas as pd

    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)


def numeric_values(values, name: str):
    """A column as float64; a value that is not a number is an error naming it and its row."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        row = bad.to_numpy().nonzero()[0][0]
        raise DataError(f"column '{name}' holds {values.iloc[row]!r} in row {row + 1} of the scored data, and the "
                        "model takes numbers there; fix or drop such rows (CastColumns with invalid: null makes "
                        "them missing)")
    return numbers.astype("float64")


def category_text(values):
    """A column's values as the text categories are compared in, NaN where missing (see the module's doc)."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_bool_dtype(values):
        return values.map({True: "true", False: "false"}).astype(object)
    if pd.api.types.is_numeric_dtype(values):
        return values.map(number_text, na_action="ignore").astype(object).where(values.notna(), np.nan)
    if pd.api.types.is_string_dtype(values) and not pd.api.types.is_object_dtype(values):
        # one conversion, not astype and where (215 us against 77 us for 1,000 texts)
        return pd.Series(values.to_numpy(dtype=object, na_value=np.nan), index=values.index, dtype=object,
                         name=values.name)
    return values.map(value_text, na_action="ignore").astype(object).where(values.notna(), np.nan)


def number_text(value: Any) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def value_text(value: Any) -> str:
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "true" if value else "false"
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        return number_text(value)
    return str(value)


def check_known(texts, name: str, levels: list[Any]) -> None:
    """With ``unknown_category: error``: every category among the levels seen in training."""
    known = set(map(str, levels))
    unseen = texts.notna() & ~texts.isin(known)
    if unseen.any():
        row = unseen.to_numpy().nonzero()[0][0]
        raise DataError(f"column '{name}' holds {texts.iloc[row]!r} in row {row + 1} of the scored data, a category "
                        f"the model never saw (it knows {', '.join(sorted(known)[:10])}); drop such rows, or train "
                        "with unknown_category: ignore")
