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
