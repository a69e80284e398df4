"""A damaged entry does not take the models list down: /api/models and /models answer 200, list every model and
say what is wrong with the damaged one; a model folder linked from outside the store is not listed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from emberflow.engine.ui.app import create_app
from fastapi.testclient import TestClient

from .conftest import TrainedStore


def damaged(trained: TrainedStore, tmp_path: Path, damage) -> TestClient:
    """The app on a copy of the trained store, beside a second model 'other', after ``damage(root)``."""
    root = tmp_path / "models"
    shutil.copytree(trained.root, root, symlinks=True)
    shutil.copytree(root / trained.model, root / "other")
    for version in ("1", "2"):
        manifest = json.loads((root / "other" / version / "manifest.json").read_text())
        manifest["name"] = "other"
        (root / "other" / version / "manifest.json").write_text(json.dumps(manifest))
    (root / "other" / "aliases.json").unlink()
    damage(root)
    return TestClient(create_app(root, [trained.workflows]))


def bad_aliases(root: Path) -> None:
    (root / "diabetes-lr" / "aliases.json").write_text(json.dumps({"name": "diabetes-lr", "aliases": {"prod": "abc"}}))


def truncated_manifest(root: Path) -> None:
    manifest = root / "diabetes-lr" / "2" / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:50])


@pytest.mark.parametrize("damage, problem", [
    (bad_aliases, "diabetes-lr aliases: alias 'prod' is 'abc' in aliases.json, not a version number"),
    (truncated_manifest, "diabetes-lr@2: manifest.json is not readable JSON"),
])
def test_the_models_list_answers_with_a_damaged_model(trained: TrainedStore, tmp_path: Path, damage, problem: str):
    client = damaged(trained, tmp_path, damage)
    api = client.get("/api/models")
    assert api.status_code == 200
    models = {m["name"]: m for m in api.json()}
    assert list(models) == ["diabetes-lr", "other"]
    assert models["other"]["problems"] == [] and models["other"]["format"]
    assert len(models["diabetes-lr"]["problems"]) == 1 and models["diabetes-lr"]["problems"][0].startswith(problem)
    page = client.get("/models")
    assert page.status_code == 200
    assert 'data-model="diabetes-lr"' in page.text and 'data-model="other"' in page.text


def test_a_model_folder_linked_from_outside_is_not_listed(trained: TrainedStore, tmp_path: Path):
    outside = tmp_path / "outside"
    shutil.copytree(trained.root / trained.model, outside / trained.model)
    client = damaged(trained, tmp_path, lambda root: (root / "ext").symlink_to(outside / trained.model))
    assert [m["name"] for m in client.get("/api/models").json()] == ["diabetes-lr", "other"]
    assert 'data-model="ext"' not in client.get("/models").text
    assert client.get("/api/models/ext/versions/1").status_code == 404
