"""What the model page and a version's page show, from manifests and run records (both untrusted text: every
value is shown as what it is, whatever its type, and never breaks the page).

- A version's page: the manifest's facts, its libraries (the H2O version of older manifests too), its training
  parameters and metrics, and its evaluation: the manifest's ``evaluation`` section when it has one, else the
  metrics that the Score steps of the run which saved it measured (``engine.compare.evaluation``).
- The model page: every version with its key metrics (those that are single numbers), and a chart of one of
  them across versions.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ..compare import evaluation as run_evaluation
from ..compare import libraries
from ..errors import IntegrityError
from ..store import ModelStore
from .chart import metric_chart

FACT_KEYS = ("format", "engine", "loads_with", "model_class", "task", "algorithm", "created", "python", "label")
H2O_KEYS = ("model_id", "algorithm", "prefer", "binary", "mojo", "mojo_refused")
MAX_METRIC_COLUMNS = 8
MAX_EVALUATED_VERSIONS = 100  # the newest versions whose runs are read for their evaluation
MAX_CHARTED_VERSIONS = 500
MAX_MATRIX = 50  # rows and columns of a matrix (a confusion matrix) drawn as a table


@dataclass(frozen=True)
class Cell:
    """One value as shown: its text, whether it is a number (right-aligned), or a small matrix: its rows, and
    the class labels of a confusion matrix (rows the true class, columns the predicted one)."""

    text: str
    number: bool = False
    matrix: list[list[str]] | None = None
    labels: list[str] | None = None


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_text(value: Any, digits: int = 4) -> str:
    """How the pages write a value: floats to ``digits`` decimals, mappings and lists as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(", ", ": "), default=str)
    return str(value)


def exact_text(value: Any) -> str:
    """A value as the manifest writes it (a parameter such as ``tol: 1e-06`` is not rounded)."""
    return value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "), default=str)


def cell(value: Any, exact: bool = False) -> Cell:
    text = exact_text(value) if exact else number_text(value)
    if isinstance(value, dict) and set(value) == {"labels", "matrix"}:
        labels, matrix = value["labels"], value["matrix"]
        if isinstance(labels, list) and _is_matrix(matrix) and len(labels) == len(matrix) == len(matrix[0]):
            return Cell(text, matrix=_rows(matrix), labels=[number_text(label) for label in labels])
    if _is_matrix(value):
        return Cell(text, matrix=_rows(value))
    return Cell(text, number=is_number(value))


def _rows(matrix: list[list[Any]]) -> list[list[str]]:
    return [[number_text(v) for v in row] for row in matrix]


def _is_matrix(value: Any) -> bool:
    return (isinstance(value, list) and 0 < len(value) <= MAX_MATRIX
            and all(isinstance(row, list) and 0 < len(row) <= MAX_MATRIX for row in value)
            and all(is_number(v) or isinstance(v, str) for row in value for v in row))


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def evaluation_of(store: ModelStore, manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest's own ``evaluation`` section, else what the saving run's Score steps measured, by step."""
    own = manifest.get("evaluation")
    return own if isinstance(own, dict) else run_evaluation(store, manifest)


def evaluation_rows(evaluation: dict[str, Any]) -> list[tuple[str, str, Cell]]:
    """(step, metric, value) rows; a value directly under the section (no step) has an empty step."""
    rows = []
    for key, value in evaluation.items():
        if isinstance(value, dict):
            rows += [(str(key), str(metric), cell(v)) for metric, v in value.items()]
        else:
            rows.append(("", str(key), cell(value)))
    return rows


def version_details(manifest: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, Any]:
    """Everything a version's page lists, each value already a ``Cell`` or text."""
    features = manifest.get("features") if isinstance(manifest.get("features"), list) else []
    classes = manifest.get("classes") if isinstance(manifest.get("classes"), list) else []
    return {
        "facts": [(key, number_text(manifest[key])) for key in FACT_KEYS if manifest.get(key) is not None],
        "features": [(number_text(f.get("name")), number_text(f.get("dtype"))) if isinstance(f, dict)
                     else (number_text(f), "") for f in features],
        "classes": [number_text(c) for c in classes],
        "libraries": [(str(k), number_text(v)) for k, v in _libraries(manifest).items() if v is not None],
        "h2o": [(key, number_text(value)) for key, value in _mapping(manifest.get("h2o")).items()
                if key in H2O_KEYS and value is not None],
        "params": [(str(k), cell(v, exact=True)) for k, v in _mapping(manifest.get("params")).items()],
        "metrics": [(str(k), cell(v)) for k, v in _mapping(manifest.get("metrics")).items()],
        "evaluation": evaluation_rows(evaluation),
        "workflow": {k: number_text(v) for k, v in _mapping(manifest.get("workflow")).items()},
        "imported_from": {k: number_text(v) for k, v in _mapping(manifest.get("imported_from")).items()},
    }


def _libraries(manifest: dict[str, Any]) -> dict[str, Any]:
    """Python's and each library's version (an older H2O manifest's too), from a ``libraries`` that is a mapping."""
    return libraries({**manifest, "libraries": _mapping(manifest.get("libraries"))})


def key_metrics(manifest: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, float]:
    """A version's metrics that are single finite numbers, by name: the evaluation's first (as
    ``step.metric``, what was measured on rows kept out of training), then the training metrics."""
    found: dict[str, float] = {}
    for key, value in evaluation.items():
        nested = value.items() if isinstance(value, dict) else [(None, value)]
        for metric, number in nested:
            if is_number(number) and math.isfinite(number):
                found[f"{key}.{metric}" if metric is not None else str(key)] = number
    for key, value in _mapping(manifest.get("metrics")).items():
        if is_number(value) and math.isfinite(value):
            found.setdefault(str(key), value)
    return found


def model_overview(store: ModelStore, rows: list[dict[str, Any]], name: str, metric: str) -> dict[str, Any]:
    """``rows`` (``inventory.list_versions``) with each version's key metrics, the metric columns, the metrics
    to choose from, the chosen one (``metric`` if some version has it, else the first) and its chart."""
    for index, row in enumerate(rows):
        row["numbers"] = {}
        if row.get("problem"):
            continue
        recent = index >= len(rows) - MAX_EVALUATED_VERSIONS
        try:
            manifest = store.manifest(store.ref(name, row["version"]))
        except IntegrityError:
            continue
        row["numbers"] = key_metrics(manifest, evaluation_of(store, manifest) if recent else {})
    names = list(dict.fromkeys(key for row in rows for key in row["numbers"]))
    names.sort(key=lambda n: not _is_measure(n, rows))  # measures first, counts of rows after: the columns are few
    chosen = metric if metric in names else _default_metric(names, rows)
    charted = rows[-MAX_CHARTED_VERSIONS:]
    chart = metric_chart(chosen, [(r["version"], r["numbers"].get(chosen)) for r in charted]) if chosen else None
    return {"versions": rows, "columns": names[:MAX_METRIC_COLUMNS], "metrics": names, "metric": chosen,
            "asked": metric if metric and metric != chosen else None, "chart": chart,
            "charted_all": len(charted) == len(rows)}


def _is_measure(name: str, rows: list[dict[str, Any]]) -> bool:
    """Whether a metric is a measure (a float somewhere) rather than a count of rows."""
    return any(isinstance(r["numbers"].get(name), float) for r in rows)


def _default_metric(names: list[str], rows: list[dict[str, Any]]) -> str | None:
    """The first metric that is a measure rather than a count of rows, else the first."""
    return next((n for n in names if _is_measure(n, rows)), names[0] if names else None)
