"""Two saved model versions side by side, for ``emberflow models diff`` and the web UI's comparison page.

``compare_versions`` takes two manifests (two versions of one model, or of two models) and lines up what they
record: the format and engine, the training parameters, the training metrics, the evaluation metrics (when the
caller gives them: ``evaluation`` reads them from the run that saved a version), the schema (label, classes,
features and their types) and the library versions. Every section is a list of entries ``{key, a, b, changed}``;
a value one side does not record is None.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .errors import EmberflowError
from .formats import recorded_libraries

if TYPE_CHECKING:
    from .store import ModelStore

FORMAT_KEYS = ("format", "engine", "loads_with", "model_class")


def compare_versions(a: dict[str, Any], b: dict[str, Any], evaluation_a: dict[str, Any] | None = None,
                     evaluation_b: dict[str, Any] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The sections ``format``, ``params``, ``metrics``, ``evaluation`` (only when either side has one),
    ``schema`` and ``libraries``, each a list of ``{key, a, b, changed}`` in the order the manifests record
    them."""
    sections = {
        "format": _entries({k: a.get(k) for k in FORMAT_KEYS}, {k: b.get(k) for k in FORMAT_KEYS}),
        "params": _entries(_mapping(a.get("params")), _mapping(b.get("params"))),
        "metrics": _entries(_mapping(a.get("metrics")), _mapping(b.get("metrics"))),
        "evaluation": _entries(_flat(evaluation_a), _flat(evaluation_b)),
        "schema": _entries(schema(a), schema(b)),
        "libraries": _entries(libraries(a), libraries(b)),
    }
    if not sections["evaluation"]:
        del sections["evaluation"]
    return sections


def changed_count(sections: dict[str, list[dict[str, Any]]]) -> tuple[int, int]:
    """How many entries differ, and how many there are."""
    entries = [entry for rows in sections.values() for entry in rows]
    return sum(entry["changed"] for entry in entries), len(entries)


def schema(manifest: dict[str, Any]) -> dict[str, Any]:
    """The label, the classes, the features in order, and each feature's type (``feature NAME``)."""
    features = [f if isinstance(f, dict) else {"name": f} for f in manifest.get("features") or []]
    described: dict[str, Any] = {"label": manifest.get("label"), "classes": manifest.get("classes"),
                                 "features": [f.get("name") for f in features]}
    described.update({f"feature {f.get('name')}": f.get("dtype", "unknown") for f in features})
    return described


def libraries(manifest: dict[str, Any]) -> dict[str, Any]:
    """Python's version, then every library's the manifest records (an older H2O manifest's too)."""
    return {"python": manifest.get("python"), **recorded_libraries(manifest)}


def evaluation(store: ModelStore, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The metrics that steps of the run which saved this version recorded for the model it saved, by step id:
    the steps (Score) whose model input came from the step that SaveModel's did. Empty when the run's record is
    gone, or the version was imported from another store (its run is that store's). A run record is not signed:
    these numbers are what the record says."""
    run_id, saved_by = manifest.get("run_id"), manifest.get("step")
    if not run_id or not saved_by or manifest.get("imported_from"):
        return {}
    try:
        record = store.read_run(str(run_id))
    except (EmberflowError, OSError, ValueError):
        return {}
    edges = [e for e in record.get("edges") or [] if isinstance(e, dict) and e.get("port") == "model"]
    producers = {e.get("from") for e in edges if e.get("to") == saved_by}
    scorers = {e.get("to") for e in edges if e.get("from") in producers and e.get("to") != saved_by}
    return {step["id"]: step["metrics"] for step in record.get("steps") or []
            if isinstance(step, dict) and step.get("id") in scorers and isinstance(step.get("metrics"), dict)}


def _entries(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    keys = list(dict.fromkeys([*a, *b]))
    return [{"key": key, "a": a.get(key), "b": b.get(key), "changed": not _same(a.get(key), b.get(key))}
            for key in keys]


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    if isinstance(x, bool) != isinstance(y, bool):  # True == 1 in Python, not in a manifest
        return False
    return x == y


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _flat(evaluation: dict[str, Any] | None) -> dict[str, Any]:
    """``{step: {metric: value}}`` as ``{"step.metric": value}``."""
    return {f"{step}.{metric}": value for step, metrics in _mapping(evaluation).items()
            for metric, value in _mapping(metrics).items()}
