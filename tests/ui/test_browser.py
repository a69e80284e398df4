"""End to end in a real browser: Debian's headless Chromium, driven by Playwright, against the UI served by
uvicorn on a free loopback port. ``make test`` installs the browser (target ``browser``)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from emberflow.engine.store import ModelStore


def shoot(page, folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000, f"the screenshot of the {name} page is empty"
    return path


def test_browse_a_trained_model_download_it_and_see_the_run_graph(cli, project: Path, serve, browser, tmp_path):
    assert cli("run", "workflows/train.yaml", "--quiet").code == 0
    store = ModelStore(project / "models")
    manifest = store.manifest(store.resolve("diabetes-lr@1"))
    record = store.read_run(store.run_ids()[0])
    base = serve(project / "models", [project / "workflows"])
    context, outside = browser
    shots = tmp_path / "screenshots"
    page = context.new_page()

    page.goto(f"{base}/models")
    assert page.locator('tr[data-model="diabetes-lr"]').count() == 1
    shoot(page, shots, "models")
    page.click("a.model-link:text-is('diabetes-lr')")
    page.wait_for_url(f"{base}/models/diabetes-lr")
    chart = page.locator("#chart svg.metric-chart")
    assert chart.locator("circle.point").count() == 1
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100, "the chart is drawn at a visible size"
    page.select_option("#metric", "train_accuracy")
    page.click("#chart-form button")
    page.wait_for_url(f"{base}/models/diabetes-lr?metric=train_accuracy")
    assert page.locator("#chart svg circle.point title").text_content() == \
        f"version 1: train_accuracy {manifest['metrics']['train_accuracy']:.4g}"
    shoot(page, shots, "model")
    page.goto(f"{base}/models/diabetes-lr")
    page.click('tr[data-version="1"] a.version-link')
    page.wait_for_url(f"{base}/models/diabetes-lr/versions/1")
    assert page.locator("section.version h2").inner_text() == "Version 1"
    assert manifest["metrics"]
    for key, value in manifest["metrics"].items():
        shown = page.locator(f'#metrics tr[data-metric="{key}"] td').inner_text()
        assert shown == (f"{value:.4f}" if isinstance(value, float) else str(value))
    shoot(page, shots, "version")

    with page.expect_download() as download_info:
        page.click("#download-version")
    saved = tmp_path / "download" / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.name == "diabetes-lr-1.zip"
    with zipfile.ZipFile(saved) as archive:
        archive.extractall(tmp_path / "unzipped")
    folder = tmp_path / "unzipped" / "diabetes-lr-1"
    found = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert found == sorted(["manifest.json", *manifest["files"]])
    assert json.loads((folder / "manifest.json").read_text()) == manifest
    for rel, meta in manifest["files"].items():
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == meta["sha256"]

    page.goto(f"{base}/runs")
    shoot(page, shots, "runs")
    page.click(f'tr[data-run="{record["run_id"]}"] a.run-link')
    page.wait_for_url(f"{base}/runs/{record['run_id']}")
    graph = page.locator("#graph svg.workflow-graph")
    assert graph.count() == 1
    nodes = graph.locator("g.node")
    assert nodes.count() == len(record["steps"]) == 6
    assert sorted(nodes.evaluate_all("els => els.map(e => e.dataset.step)")) == sorted(s["id"] for s in record["steps"])
    assert set(nodes.evaluate_all("els => els.map(e => e.dataset.status)")) == {"ok"}
    assert graph.locator("g.edge").count() == len(record["edges"])
    box = graph.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 50, "the graph is drawn at a visible size"
    shoot(page, shots, "run")

    page.goto(f"{base}/workflows")
    page.click('a[href="/workflows/workflows/train.yaml"]')
    assert page.locator("#graph svg g.node").count() == 6
    shoot(page, shots, "workflow")

    page.goto(f"{base}/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock").count() >= 5
    shoot(page, shots, "api-docs")

    assert outside == [], f"pages asked for something beyond the local UI: {outside}"
    assert sorted(p.name for p in shots.iterdir()) == sorted(
        f"{n}.png" for n in ["models", "model", "version", "runs", "run", "workflow", "api-docs"])
