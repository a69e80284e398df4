"""Summaries of what the store holds, for ``models list``, the web UI and its JSON API."""

from __future__ import annotations

from typing import Any

from .store import ModelStore


def list_models(store: ModelStore) -> list[dict[str, Any]]:
    models = []
    for name in store.names():
        versions = store.versions(name)
        latest = store.resolve(f"{name}@{versions[-1]}")
        manifest = store.manifest(latest)
        models.append({
            "name": name,
            "versions": versions,
            "latest": versions[-1],
            "aliases": store.aliases(name),
            "format": manifest.get("format"),
            "engine": manifest.get("engine"),
            "created": manifest.get("created"),
            "size": sum(f.get("size", 0) for f in (manifest.get("files") or {}).values()),
        })
    return models


def list_versions(store: ModelStore, name: str) -> list[dict[str, Any]]:
    """Every version of ``name``, oldest first: its manifest's summary and the aliases pointing at it."""
    store.resolve(name)
    aliases = store.aliases(name)
    rows = []
    for version in store.versions(name):
        manifest = store.manifest(store.resolve(f"{name}@{version}"))
        files = manifest.get("files") or {}
        rows.append({
            "version": version,
            "aliases": sorted(a for a, v in aliases.items() if v == version),
            "format": manifest.get("format"),
            "engine": manifest.get("engine"),
            "created": manifest.get("created"),
            "files": len(files),
            "size": sum(f.get("size", 0) for f in files.values()),
            "metrics": manifest.get("metrics") or {},
            "run_id": manifest.get("run_id"),
        })
    return rows


def list_runs(store: ModelStore, limit: int | None = None) -> list[dict[str, Any]]:
    """Recorded runs, newest first, without their steps' details."""
    runs = []
    for run_id in store.run_ids()[:limit]:
        try:
            record = store.read_run(run_id)
        except (OSError, ValueError):  # a record being written or damaged: list the others
            continue
        steps = record.get("steps") or []
        runs.append({
            "run_id": record.get("run_id", run_id),
            "status": record.get("status"),
            "workflow": (record.get("workflow") or {}).get("name"),
            "started": record.get("started"),
            "seconds": record.get("seconds"),
            "steps": len(steps),
            "failed_step": (record.get("error") or {}).get("step"),
            "models": [f"{m['name']}@{m['version']}" for m in record.get("models") or []],
        })
    return runs
