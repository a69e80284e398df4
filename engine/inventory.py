"""Summaries of what the store holds, for ``models list``, the web UI and its JSON API."""

from __future__ import annotations

from typing import Any

from .errors import IntegrityError
from .store import ModelStore


def list_models(store: ModelStore) -> list[dict[str, Any]]:
    """Every model's summary; a damaged model is listed too, with what is wrong in its ``problems``."""
    return [summary for name in store.names() if (summary := _model_summary(store, name))]


def _model_summary(store: ModelStore, name: str) -> dict[str, Any] | None:
    """The latest version's format, engine, creation time and size, the versions and the usable aliases; one
    line per problem (an unreadable latest manifest, a damaged aliases.json) instead of failing the listing."""
    versions = store.versions(name)
    if not versions:  # its last version deleted meanwhile
        return None
    aliases, alias_problems = store.alias_report(name)
    summary: dict[str, Any] = {"name": name, "versions": versions, "latest": versions[-1], "aliases": aliases,
                               "format": None, "engine": None, "created": None, "size": None,
                               "problems": [f"{name} aliases: {p}" for p in alias_problems]}
    try:
        manifest = store.manifest(store.ref(name, versions[-1]))
    except IntegrityError as exc:
        summary["problems"].insert(0, str(exc))
        return summary
    summary.update(format=manifest.get("format"), engine=manifest.get("engine"), created=manifest.get("created"),
                   size=_total_size(manifest.get("files") or {}))
    return summary


def _total_size(files: dict[str, dict[str, Any]]) -> int:
    return sum(meta["size"] for meta in files.values() if type(meta.get("size")) is int)


def list_versions(store: ModelStore, name: str) -> list[dict[str, Any]]:
    """Every version of ``name``, oldest first: its manifest's summary and the aliases pointing at it. A version
    whose manifest cannot be used is listed with the reason in ``problem`` (None for the others)."""
    store.resolve(name)
    aliases = store.alias_report(name)[0]
    rows = []
    for version in store.versions(name):
        row: dict[str, Any] = {"version": version, "aliases": sorted(a for a, v in aliases.items() if v == version),
                               "format": None, "engine": None, "created": None, "files": 0, "size": None,
                               "metrics": {}, "run_id": None, "problem": None}
        try:
            manifest = store.manifest(store.ref(name, version))
        except IntegrityError as exc:
            row["problem"] = str(exc)
        else:
            files = manifest.get("files") or {}
            row.update(format=manifest.get("format"), engine=manifest.get("engine"), created=manifest.get("created"),
                       files=len(files), size=_total_size(files), metrics=manifest.get("metrics") or {},
                       run_id=manifest.get("run_id"))
        rows.append(row)
    return rows


def list_runs(store: ModelStore, limit: int | None = None) -> list[dict[str, Any]]:
    """Recorded runs, newest first, without their steps' details. A damaged record is left out, not fatal:
    records are files anyone may have edited."""
    runs = []
    for run_id in store.run_ids()[:limit]:
        try:
            record = store.read_run(run_id)
        except (OSError, IntegrityError):  # a record being written or damaged: list the others
            continue
        runs.append(_run_row(run_id, record))
    return runs


def _run_row(run_id: str, record: dict[str, Any]) -> dict[str, Any]:
    steps, models = record.get("steps"), record.get("models")
    return {
        "run_id": record.get("run_id", run_id),
        "status": record.get("status"),
        "workflow": _mapping(record.get("workflow")).get("name"),
        "started": record.get("started"),
        "seconds": record.get("seconds") if isinstance(record.get("seconds"), int | float) else None,
        "steps": len(steps) if isinstance(steps, list) else 0,
        "failed_step": _mapping(record.get("error")).get("step"),
        "models": [f"{m.get('name')}@{m.get('version')}" for m in models if isinstance(m, dict)]
        if isinstance(models, list) else [],
    }


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
