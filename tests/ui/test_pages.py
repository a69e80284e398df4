"""The web UI's pages and JSON API, through FastAPI's test client, on a store holding a trained model."""

from __future__ import annotations

import hashlib
import io
import json
import re
import urllib.request
import zipfile
from html import unescape
from pathlib import Path

from emberflow.engine.store import ModelStore
from emberflow.engine.ui.app import create_app
from emberflow.engine.ui.server import allowed_hosts
from fastapi.testclient import TestClient

from .conftest import ROOT, TrainedStore

TRAIN = ROOT / "workflows" / "train.yaml"


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def shown(value) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def test_models_page_lists_and_searches(client: TestClient, trained: TrainedStore):
    page = client.get("/models")
    assert page.status_code == 200
    assert 'href="/models/diabetes-lr"' in page.text
    assert "prod → 1" in text_of(page.text)
    stored_format = ModelStore(trained.root).manifest(ModelStore(trained.root).resolve("diabetes-lr"))["format"]
    assert 'data-model="diabetes-lr"' in client.get("/models", params={"q": f"diabetes {stored_format}"}).text
    missed = client.get("/models", params={"q": "no-such-model"})
    assert 'data-model="diabetes-lr"' not in missed.text and "No model matches" in missed.text
    assert client.get("/").url.path == "/models"


def test_model_page_shows_versions_aliases_manifest_metrics_and_files(client: TestClient, trained: TrainedStore):
    store = ModelStore(trained.root)
    manifest = store.manifest(store.resolve("diabetes-lr@1"))
    page = client.get("/models/diabetes-lr/versions/prod")
    assert page.status_code == 200
    html = page.text
    assert 'data-version="1"' in html and 'data-version="2"' in html
    assert 'id="version-1"' in html, "the alias opens the version it points to"
    text = text_of(html)
    assert manifest["metrics"]
    for key, value in manifest["metrics"].items():
        assert f"{key} {shown(value)}" in text
    assert f"model_class {manifest['model_class']}" in text
    for rel, meta in manifest["files"].items():
        assert f'data-file="{rel}"' in html and f'title="{meta["size"]:,} bytes"' in html
        assert f'/models/diabetes-lr/versions/1/files/{rel}"' in html
    assert 'href="/models/diabetes-lr/versions/1/download"' in html
    latest = client.get("/models/diabetes-lr/versions/latest")
    assert 'id="version-2"' in latest.text


def test_downloads_are_the_version_zip_and_single_files(client: TestClient, trained: TrainedStore):
    store = ModelStore(trained.root)
    ref = store.resolve("diabetes-lr@2")
    manifest = store.manifest(ref)
    response = client.get("/models/diabetes-lr/versions/2/download")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert 'filename="diabetes-lr-2.zip"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = set(archive.namelist())
        assert names == {"diabetes-lr-2/manifest.json"} | {f"diabetes-lr-2/{r}" for r in manifest["files"]}
        for rel, meta in manifest["files"].items():
            assert hashlib.sha256(archive.read(f"diabetes-lr-2/{rel}")).hexdigest() == meta["sha256"]
    for rel, meta in manifest["files"].items():
        single = client.get(f"/models/diabetes-lr/versions/2/files/{rel}")
        assert single.status_code == 200 and hashlib.sha256(single.content).hexdigest() == meta["sha256"]
        assert "attachment" in single.headers["content-disposition"]
    view = client.get("/models/diabetes-lr/versions/2/view/manifest.json")
    assert view.status_code == 200 and manifest["files"][next(iter(manifest["files"]))]["sha256"] in view.text


def test_run_pages_show_steps_and_a_graph_node_per_step(client: TestClient, trained: TrainedStore):
    runs = client.get("/runs")
    assert runs.status_code == 200 and f'data-run="{trained.run["run_id"]}"' in runs.text
    page = client.get(f"/runs/{trained.run['run_id']}")
    assert page.status_code == 200
    html = page.text
    nodes = re.findall(r'<g class="node status-(\w+)" data-step="([^"]+)"', html)
    assert [step for _, step in nodes] == [s["id"] for s in trained.run["steps"]]
    assert {status for status, _ in nodes} == {"ok"}
    assert len(re.findall(r'<g class="edge"', html)) == len(trained.run["edges"])
    text = text_of(html)
    score = next(s for s in trained.run["steps"] if s["id"] == "score")
    assert f"accuracy {score['metrics']['accuracy']:.4f}" in text
    assert f"{score['rows']:,}" in text


def test_workflow_pages_draw_valid_files_and_explain_invalid_ones(trained: TrainedStore, tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nsteps:\n  - id: read\n    node: ReadCSV\n    params: {path: x.csv}\n"
                      "  - id: train\n    node: TrainLR\n    inputs: {data: read}\n    params: {lable: y}\n")
    client = TestClient(create_app(trained.root, [trained.workflows, broken]))
    listing = client.get("/workflows")
    assert 'data-workflow="workflows/train.yaml"' in listing.text
    assert 'data-workflow="broken.yaml"' in listing.text and "invalid" in listing.text
    train = client.get("/workflows/workflows/train.yaml")
    assert train.status_code == 200
    steps = re.findall(r'<g class="node status-planned" data-step="([^"]+)"', train.text)
    assert steps == ["read", "split", "train", "save", "score", "write"]
    bad = client.get("/workflows/broken.yaml")
    assert bad.status_code == 200
    assert "does not validate" in bad.text and "lable" in text_of(bad.text)
    assert 'class="line error-line" id="L9"' in bad.text, "the line the loader names is highlighted"
    assert re.findall(r'data-step="([^"]+)"', bad.text.split('id="graph"')[1].split("</svg>")[0]) == \
        ["read", "train"]


def test_json_api(client: TestClient, trained: TrainedStore):
    models = client.get("/api/models").json()
    assert [m["name"] for m in models] == ["diabetes-lr"]
    assert models[0]["versions"] == [1, 2] and models[0]["aliases"] == {"prod": 1}
    model = client.get("/api/models/diabetes-lr").json()
    assert [v["version"] for v in model["versions"]] == [1, 2] and model["versions"][0]["aliases"] == ["prod"]
    version = client.get("/api/models/diabetes-lr/versions/prod").json()
    store = ModelStore(trained.root)
    assert version["manifest"] == store.manifest(store.resolve("diabetes-lr@1"))
    runs = client.get("/api/runs").json()
    assert len(runs) == 2 and runs[0]["run_id"] == trained.run["run_id"]
    assert client.get("/api/runs", params={"limit": 1}).json() == runs[:1]
    record = client.get(f"/api/runs/{trained.run['run_id']}").json()
    assert record["steps"] == trained.run["steps"]  # as the runner wrote it, a step's rows: null included
    assert record == store.read_run(trained.run["run_id"])
    keys = client.get("/api/workflows").json()
    assert {"workflows/score.yaml", "workflows/train.yaml"} <= set(keys)
    assert all(k.startswith("workflows/") for k in keys)
    missing = client.get("/api/models/nope")
    assert missing.status_code == 404 and "no model 'nope'" in missing.json()["detail"]


def test_openapi_page_works_offline(client: TestClient):
    schema = client.get("/openapi.json").json()
    assert {"/api/models", "/api/models/{name}", "/api/models/{name}/versions/{version}", "/api/runs",
            "/api/runs/{run_id}"} <= set(schema["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/") for s in sources), f"the docs page loads from elsewhere: {sources}"
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_the_loopback_server_refuses_foreign_host_names(trained: TrainedStore):
    """A page on another site that rebinds its DNS name to 127.0.0.1 cannot read the store."""
    client = TestClient(create_app(trained.root, allowed_hosts=allowed_hosts("127.0.0.1")))
    assert client.get("/api/models", headers={"host": "127.0.0.1:8765"}).status_code == 200
    assert client.get("/api/models", headers={"host": "localhost"}).status_code == 200
    assert client.get("/api/models", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/api/models", headers={"host": "127.0.0.1.attacker.example"}).status_code == 400
    assert allowed_hosts("0.0.0.0") is None and allowed_hosts("192.168.1.5") is None


def test_the_server_on_ipv6_loopback_answers_at_the_address_it_prints(trained: TrainedStore, serve):
    """The Host header of ``http://[::1]:PORT/`` is ``[::1]:PORT``: its host is everything in the brackets."""
    base = serve(trained.root, [trained.workflows], host="::1")
    assert base.startswith("http://[::1]:")
    with urllib.request.urlopen(f"{base}/api/models", timeout=30) as response:
        assert [m["name"] for m in json.load(response)] == [trained.model]
    client = TestClient(create_app(trained.root, allowed_hosts=allowed_hosts("::1")))
    for host in ["[::1]:8765", "[::1]", "[0:0:0:0:0:0:0:1]:8765", "LOCALHOST:8765", "127.0.0.1"]:
        assert client.get("/api/models", headers={"host": host}).status_code == 200, host
    for host in ["[::2]:8765", "[::1", "::1", "attacker.example", "[attacker.example]:8765", ""]:
        assert client.get("/api/models", headers={"host": host}).status_code == 400, host


def test_every_route_only_reads(client: TestClient):
    methods = {m for route in client.app.routes for m in getattr(route, "methods", None) or ()}
    assert methods <= {"GET", "HEAD"}, methods
    assert client.post("/models").status_code == 405
    assert client.delete("/models/diabetes-lr/versions/1/files/model.joblib").status_code == 405


def failed_and_running_runs(root: Path, out: Path) -> list[dict]:
    """Two run records: the train workflow failing at its first step (reading a missing file, so every later
    step is skipped), and the same run as it looked while its second step was still running."""
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.workflow import load_workflow

    workflow = load_workflow(TRAIN, {"data": str(out / "missing.csv"), "out": str(out)})
    store = ModelStore(root)
    failed = run_workflow(workflow, store, reporter=Reporter(None)).record
    assert [s["status"] for s in failed["steps"]] == ["failed"] + ["skipped"] * 5
    running = {**failed, "run_id": f"{failed['run_id']}-live", "status": "running", "seconds": None}
    del running["error"]
    running["steps"] = [{**failed["steps"][0], "status": "ok", "rows": 768, "error": None},
                        {**failed["steps"][1], "status": "running"}]
    store.write_run(running)
    return [failed, running]


def test_pages_of_runs_with_failed_skipped_and_running_steps(tmp_path: Path):
    records = failed_and_running_runs(tmp_path / "models", tmp_path)
    client = TestClient(create_app(tmp_path / "models", [tmp_path]))
    listing = client.get("/runs")
    assert listing.status_code == 200
    for record in records:
        assert f'data-run="{record["run_id"]}"' in listing.text
        for url in (f"/runs/{record['run_id']}", f"/api/runs/{record['run_id']}"):
            assert client.get(url).status_code == 200, url
        page = client.get(f"/runs/{record['run_id']}").text
        drawn = re.findall(r'<g class="node status-(\w+)" data-step="([^"]+)"', page)
        assert drawn == [(s["status"], s["id"]) for s in record["steps"]]
        for step in record["steps"]:
            row = page.split(f'<tr data-step="{step["id"]}">')[1].split("</tr>")[0]
            assert f">{step['status']}<" in row
    failed_page = text_of(client.get(f"/runs/{records[0]['run_id']}").text)
    assert "Failed at step read: ReadCSV: no such file" in failed_page
    assert "768" in text_of(client.get(f"/runs/{records[1]['run_id']}").text)
