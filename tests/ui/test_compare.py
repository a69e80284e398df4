"""The web UI's comparison of two versions (``/models/NAME/compare``): the entries ``emberflow models diff``
prints, from the same function, escaped, and its JSON under ``/api/``."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape

import pytest
from emberflow.engine.compare import compare_versions, evaluation
from emberflow.engine.models import save_to_store
from emberflow.engine.store import ModelStore
from emberflow.engine.ui.app import create_app
from fastapi.testclient import TestClient

from .conftest import TrainedStore


def rows_of(html: str) -> dict[str, tuple[list[str], bool]]:
    """The page's rows by section and key: their three cells' text, and whether the row is marked changed."""
    rows = {}
    for table in re.finditer(r'<table class="list compare" id="section-([^"]+)">(.*?)</table>', html, re.S):
        for row in re.finditer(r'<tr data-key="([^"]*)"( class="changed")?>(.*?)</tr>', table.group(2), re.S):
            cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", row.group(3), re.S)]
            rows[f"{table.group(1)} {unescape(row.group(1))}"] = (cells[1:3], bool(row.group(2)))
    return rows


def shown(value) -> str:
    return "—" if value is None else value if isinstance(value, str) else json.dumps(value)


def expected(store: ModelStore, a: str, b: str) -> dict:
    manifests = [store.manifest(store.resolve(ref)) for ref in (a, b)]
    return compare_versions(*manifests, *(evaluation(store, m) for m in manifests))


@pytest.fixture(scope="module")
def with_other(trained: TrainedStore, tmp_path_factory: pytest.TempPathFactory) -> ModelStore:
    """The trained store and a model ``other`` of other features and classes, whose one parameter holds markup."""
    from reliability.helpers import lr_model

    root = tmp_path_factory.mktemp("compare") / "models"
    shutil.copytree(trained.root, root)
    store = ModelStore(root)
    model = lr_model()
    model.params = {"note": "<script>alert('x')</script>"}
    save_to_store(store, model, "other", "joblib", {})
    return store


@pytest.fixture(scope="module")
def other_client(with_other: ModelStore) -> TestClient:
    return TestClient(create_app(with_other.root, []))


def test_the_page_shows_every_entry_of_the_comparison(client: TestClient, trained: TrainedStore):
    store = ModelStore(trained.root)
    page = client.get("/models/diabetes-lr/compare")
    assert page.status_code == 200 and "<h1>diabetes-lr@1 and diabetes-lr@2</h1>" in page.text
    rows = rows_of(page.text)
    sections = expected(store, "diabetes-lr@1", "diabetes-lr@2")
    assert list(rows) == [f"{s} {e['key']}" for s, entries in sections.items() for e in entries]
    for section, entries in sections.items():
        for entry in entries:
            assert rows[f"{section} {entry['key']}"] == ([shown(entry["a"]), shown(entry["b"])], entry["changed"])
    assert "evaluation score.accuracy" in rows, "the metrics Score measured in the run that saved the version"
    model_page = client.get("/models/diabetes-lr").text
    assert 'id="compare-versions" href="/models/diabetes-lr/compare"' in model_page


def test_another_models_version_is_compared_and_changes_are_marked(other_client: TestClient,
                                                                   with_other: ModelStore):
    page = other_client.get("/models/diabetes-lr/compare", params={"a": "prod", "b": "other@1"})
    assert page.status_code == 200 and "<h1>diabetes-lr@1 and other@1</h1>" in page.text
    rows = rows_of(page.text)
    sections = expected(with_other, "diabetes-lr@1", "other@1")
    for section, entries in sections.items():
        for entry in entries:
            assert rows[f"{section} {entry['key']}"] == ([shown(entry["a"]), shown(entry["b"])], entry["changed"])
    assert rows["schema label"] == (["class", "c"], True) and rows["format format"] == (["joblib", "joblib"], False)
    only = rows_of(other_client.get("/models/diabetes-lr/compare",
                                    params={"a": "1", "b": "other@1", "only": "changed"}).text)
    assert list(only) == [key for key, (_cells, changed) in rows.items() if changed]
    assert 'id="show-changed" href="?a=1&amp;b=other%401&amp;only=changed"' in page.text


def test_text_from_a_manifest_is_escaped(other_client: TestClient):
    page = other_client.get("/models/diabetes-lr/compare", params={"a": "1", "b": "other@1"})
    assert "<script>alert" not in page.text
    assert rows_of(page.text)["params note"] == (["—", "<script>alert('x')</script>"], True)


def test_the_json_is_the_same_comparison(other_client: TestClient, with_other: ModelStore):
    answer = other_client.get("/api/models/diabetes-lr/compare", params={"a": "1", "b": "other@1"}).json()
    assert answer["sections"] == expected(with_other, "diabetes-lr@1", "other@1")
    assert (answer["a"]["name"], answer["a"]["version"], answer["b"]["name"]) == ("diabetes-lr", 1, "other")
    assert answer["changed"] == sum(e["changed"] for entries in answer["sections"].values() for e in entries)


def test_an_unknown_version_or_model_is_not_found(client: TestClient):
    for params in ({"a": "9"}, {"b": "nope@1"}, {"a": "<x>"}, {"b": "@1"}):
        page = client.get("/models/diabetes-lr/compare", params=params)
        assert page.status_code == 404, params
        assert "<x>" not in page.text
    assert client.get("/models/nope/compare").status_code == 404
    assert client.get("/api/models/diabetes-lr/compare", params={"a": "9"}).status_code == 404
