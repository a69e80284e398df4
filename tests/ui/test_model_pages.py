"""The model page (every version with its key metrics, a chart of one metric across versions) and a version's
page (training parameters, libraries with the H2O version, metrics, evaluation), on manifests as saved and as
edited by hand: every value from a manifest is text to show, escaped, never a reason to fail."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path

import pytest
from emberflow.engine.compare import evaluation
from emberflow.engine.store import ModelStore
from emberflow.engine.ui.app import create_app
from emberflow.engine.ui.versions import number_text
from fastapi.testclient import TestClient

from .conftest import TrainedStore

SVG = "{http://www.w3.org/2000/svg}"


def section(html: str, element_id: str) -> str:
    """The element with ``element_id`` (a table, a figure ...), up to its closing tag."""
    start = html.index(f'id="{element_id}"')
    tag = html[:start].rsplit("<", 1)[1].split()[0]
    return html[start:html.index(f"</{tag}>", start)]


def cells(html: str, element_id: str, attribute: str) -> dict[str, str]:
    """``attribute`` -> the text of the row's last cell, in the element ``element_id``."""
    rows = re.findall(rf'<tr {attribute}="([^"]*)">(.*?)</tr>', section(html, element_id), re.S)
    return {unescape(key): unescape(re.sub(r"<[^>]+>", " ", row.rsplit("<td", 1)[1].split(">", 1)[1])).strip()
            for key, row in rows}


@pytest.fixture
def edited(trained: TrainedStore, tmp_path: Path):
    """A copy of the trained store and a function that edits a version's manifest there."""
    root = tmp_path / "models"
    shutil.copytree(trained.root, root, symlinks=True)

    def edit(version: int, change) -> None:
        path = root / trained.model / str(version) / "manifest.json"
        manifest = json.loads(path.read_text())
        change(manifest)
        path.write_text(json.dumps(manifest))

    return root, edit


def test_version_page_shows_params_libraries_metrics_and_the_runs_evaluation(client: TestClient,
                                                                             trained: TrainedStore):
    store = ModelStore(trained.root)
    manifest = store.manifest(store.resolve("diabetes-lr@1"))
    html = client.get("/models/diabetes-lr/versions/1").text
    params = cells(html, "params", "data-param")
    assert params == {k: v if isinstance(v, str) else json.dumps(v) for k, v in manifest["params"].items()}
    assert cells(html, "libraries", "data-library") == {"python": manifest["python"], **manifest["libraries"]}
    assert cells(html, "metrics", "data-metric") == {k: number_text(v) for k, v in manifest["metrics"].items()}
    measured = evaluation(store, manifest)
    assert list(measured) == ["score"] and measured["score"]["accuracy"]
    shown = cells(html, "evaluation", "data-evaluation")
    scalars = {f"score.{k}": number_text(v) for k, v in measured["score"].items() if k != "confusion_matrix"}
    assert {k: v for k, v in shown.items() if k in scalars} == scalars
    matrix = section(html, "evaluation").split('data-evaluation="score.confusion_matrix"')[1]
    labels, counts = measured["score"]["confusion_matrix"]["labels"], measured["score"]["confusion_matrix"]["matrix"]
    header = re.findall(r'<th scope="col">([^<]*)</th>', matrix)
    assert header == [str(label) for label in labels]
    assert re.findall(r'<td class="num">(\d+)</td>', matrix) == [str(n) for row in counts for n in row]


def test_version_page_shows_the_h2o_version_of_an_older_manifest_and_its_own_evaluation(edited):
    root, edit = edited

    def older_h2o(manifest):
        manifest.update(libraries={}, h2o={"version": "3.46.0.11", "model_id": "GLM_1", "algorithm": "glm"},
                        evaluation={"holdout": {"auc": 0.91}, "note": "by hand"})

    edit(2, older_h2o)
    html = TestClient(create_app(root)).get("/models/diabetes-lr/versions/2").text
    assert cells(html, "libraries", "data-library")["h2o"] == "3.46.0.11"
    facts = unescape(re.sub(r"<[^>]+>", " ", section(html, "facts")))
    assert "H2O model_id GLM_1" in " ".join(facts.split())
    assert "As the manifest records it" in html
    assert cells(html, "evaluation", "data-evaluation") == {"holdout.auc": "0.9100", ".note": "by hand"}


def test_model_page_lists_every_version_with_its_key_metrics_and_charts_one(edited):
    root, edit = edited
    edit(1, lambda m: m["metrics"].update(train_accuracy=0.5, recall=0.25))
    edit(2, lambda m: m["metrics"].update(train_accuracy=0.75))
    client = TestClient(create_app(root))
    html = client.get("/models/diabetes-lr").text
    rows = re.findall(r'<tr data-version="(\d+)">(.*?)</tr>', section(html, "versions"), re.S)
    assert [version for version, _ in rows] == ["1", "2"]
    store = ModelStore(root)
    for version, row in rows:
        manifest = store.manifest(store.resolve(f"diabetes-lr@{version}"))
        text = unescape(re.sub(r"<[^>]+>", " ", row))
        for key in ("created", "format", "engine"):
            assert manifest[key] in text
        assert re.search(rf'data-metric="train_accuracy">{number_text(manifest["metrics"]["train_accuracy"])}<', row)
    options = re.findall(r'<option value="([^"]+)"( selected)?>', html)
    assert {"score.accuracy", "train_accuracy", "train_rows", "recall"} <= {name for name, _ in options}
    assert [name for name, selected in options if selected] == ["score.accuracy"]

    chosen = client.get("/models/diabetes-lr", params={"metric": "recall"}).text
    assert re.findall(r'<option value="([^"]+)" selected>', chosen) == ["recall"]
    chart = ET.fromstring(section(chosen, "chart").split(">", 1)[1].split("<figcaption")[0].strip())
    assert [(c.get("data-version"), c.find(f"{SVG}title").text) for c in chart.iter(f"{SVG}circle")] == \
        [("1", "version 1: recall 0.25")], "version 2 records no recall: no point for it"
    trend = ET.fromstring(section(client.get("/models/diabetes-lr", params={"metric": "train_accuracy"}).text,
                                  "chart").split(">", 1)[1].split("<figcaption")[0].strip())
    assert [c.find(f"{SVG}title").text for c in trend.iter(f"{SVG}circle")] == \
        ["version 1: train_accuracy 0.5", "version 2: train_accuracy 0.75"]
    unknown = client.get("/models/diabetes-lr", params={"metric": "<nope>"})
    assert unknown.status_code == 200 and "No version records a metric “&lt;nope&gt;”" in unknown.text


def test_odd_values_in_a_manifest_are_shown_escaped_and_never_fail_a_page(edited):
    root, edit = edited
    hostile = "<script>alert(1)</script>"

    def odd(manifest):
        manifest.update(params={hostile: hostile, "nested": {"a": [1, 2]}}, metrics={hostile: 0.5, "list": [1]},
                        libraries=["not", "a", "mapping"], features={"not": "a list"}, classes=hostile,
                        workflow=hostile, evaluation={hostile: {hostile: hostile}}, h2o="junk", run_id=7,
                        created={"when": hostile})

    edit(2, odd)
    client = TestClient(create_app(root))
    for url in ["/models/diabetes-lr", "/models/diabetes-lr/versions/2", f"/models/diabetes-lr?metric={hostile}",
                "/api/models/diabetes-lr/versions/2", "/models"]:
        page = client.get(url)
        assert page.status_code == 200, url
        if page.headers["content-type"].startswith("text/html"):
            assert "<script>" not in page.text, url
    html = client.get("/models/diabetes-lr/versions/2").text
    assert cells(html, "params", "data-param")[hostile] == hostile
    assert f'<option value="{hostile.replace("<", "&lt;").replace(">", "&gt;")}"' in \
        client.get("/models/diabetes-lr").text


def test_file_sizes_that_are_not_numbers_and_files_in_another_shape(edited):
    root, edit = edited
    edit(1, lambda m: m["files"].update({"odd.bin": {"sha256": "0" * 64, "size": "big"}}))
    edit(2, lambda m: m["files"].update({"odd.bin": "no meta"}))
    client = TestClient(create_app(root))
    odd_size = client.get("/models/diabetes-lr/versions/1")
    assert odd_size.status_code == 200 and 'data-file="odd.bin"' in odd_size.text
    damaged = client.get("/models/diabetes-lr/versions/2")
    assert damaged.status_code == 409 and "Damaged model" in damaged.text
    listing = client.get("/models/diabetes-lr")
    assert listing.status_code == 200 and "diabetes-lr@2: manifest.json lists its files" in listing.text
