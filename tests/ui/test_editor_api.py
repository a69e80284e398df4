"""The editor's JSON API (engine/ui/editor_api.py): workflow files with etags, conflicts and confinement to the
workflows folders, validation with columns, runs in a separate process followed over Server-Sent Events, the
same-origin check, the token, and the read-only UI without any of it."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "workflows" / "data" / "diabetes.csv"
ORIGIN = {"Origin": "http://testserver"}
HAND_WRITTEN = f"""\
# Read, keep a few rows, write them. Written by hand.
name: few-rows
vars:
  data: {DATA}   # the Pima data
steps:
  - id: read
    node: ReadCSV
    params: {{path: "${{data}}"}}
  - id: few
    node: Limit
    inputs: {{data: read}}
    params: {{rows: 60}}  # enough for a preview
  - id: write
    node: WriteCSV
    inputs: {{data: few}}
    params: {{path: "OUT"}}
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "few.yaml").write_text(HAND_WRITTEN.replace("OUT", str(folder / "out" / "scored.csv")))
    return folder


def make_client(tmp_path: Path, folder: Path, **options):
    from emberflow.engine.ui.app import create_app
    from fastapi.testclient import TestClient

    return TestClient(create_app(tmp_path / "models", [folder], editor=True, **options))


@pytest.fixture()
def client(tmp_path: Path, folder: Path):
    with make_client(tmp_path, folder) as client:
        yield client


def test_open_change_one_parameter_save_and_the_diff_is_that_line(client, folder: Path):
    assert client.get("/api/editor/files").json() == [{"path": "flows/few.yaml", "folder": "flows"}]
    opened = client.get("/api/editor/file", params={"path": "flows/few.yaml"}).json()
    assert opened["text"] == (folder / "few.yaml").read_text()
    workflow = opened["workflow"]
    workflow["steps"][1]["params"]["rows"] = 70
    saved = client.put("/api/editor/file", json={"path": "flows/few.yaml", "workflow": workflow,
                                                 "etag": opened["etag"]}, headers=ORIGIN)
    assert saved.status_code == 200, saved.text
    assert saved.json()["problems"] == []
    after = (folder / "few.yaml").read_text()
    diff = [d for d in difflib.unified_diff(opened["text"].splitlines(), after.splitlines(), lineterm="", n=0)
            if d[:1] in "+-" and d[:3] not in ("+++", "---")]
    assert diff == ["-    params: {rows: 60}  # enough for a preview",
                    "+    params: {rows: 70}  # enough for a preview"]
    assert saved.json()["etag"] == client.get("/api/editor/file", params={"path": "flows/few.yaml"}).json()["etag"]
    assert [p.name for p in folder.iterdir()] == ["few.yaml"]  # no temporary file left


def test_a_file_changed_on_disk_since_it_was_opened_is_a_conflict(client, folder: Path):
    opened = client.get("/api/editor/file", params={"path": "flows/few.yaml"}).json()
    (folder / "few.yaml").write_text(opened["text"] + "# edited elsewhere\n")
    answer = client.put("/api/editor/file", json={"path": "flows/few.yaml", "workflow": opened["workflow"],
                                                  "etag": opened["etag"]}, headers=ORIGIN)
    assert answer.status_code == 409
    assert answer.json()["etag"] != opened["etag"] and "reload" in answer.json()["error"]
    assert (folder / "few.yaml").read_text().endswith("# edited elsewhere\n")
    new = client.put("/api/editor/file", json={"path": "flows/few.yaml", "workflow": opened["workflow"],
                                               "etag": None}, headers=ORIGIN)
    assert new.status_code == 409  # a new file does not overwrite one


def test_a_new_file_is_written_and_a_draft_with_problems_is_saved(client, folder: Path):
    workflow = {"name": "draft", "steps": [{"id": "train", "node": "TrainLR", "inputs": {}, "params": {}}],
                "layout": {"train": {"x": 5, "y": 6}}}
    saved = client.put("/api/editor/file", json={"path": "flows/sub/draft.yaml", "workflow": workflow,
                                                 "etag": None}, headers=ORIGIN)
    assert saved.status_code == 200, saved.text
    [problem] = saved.json()["problems"]
    assert problem["step"] == "train"
    assert (folder / "sub" / "draft.yaml").read_text() == saved.json()["text"]
    assert "layout:\n  train: {x: 5, y: 6}\n" in saved.json()["text"]


@pytest.mark.parametrize("path", ["../few.yaml", "flows/../../x.yaml", "/etc/passwd.yaml", "other/few.yaml",
                                  "flows/link/x.yaml", "flows/out.yaml", "flows/few.txt"])
def test_paths_outside_the_workflows_folders_are_refused(client, folder: Path, tmp_path: Path, path: str):
    (folder / "link").symlink_to(tmp_path)
    (folder / "out.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    body = {"path": path, "workflow": {"name": "x", "steps": []}, "etag": None}
    assert client.put("/api/editor/file", json=body, headers=ORIGIN).status_code == 403
    assert client.get("/api/editor/file", params={"path": path}).status_code == 403
    assert not (tmp_path / "x.yaml").exists() and not (tmp_path / "elsewhere.yaml").exists()


def test_a_failed_write_leaves_the_old_file_whole(client, folder: Path, monkeypatch):
    opened = client.get("/api/editor/file", params={"path": "flows/few.yaml"}).json()

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        client.put("/api/editor/file", json={"path": "flows/few.yaml", "workflow": {"name": "other", "steps": []},
                                             "etag": opened["etag"]}, headers=ORIGIN)
    assert (folder / "few.yaml").read_text() == opened["text"]
    assert [p.name for p in folder.iterdir()] == ["few.yaml"]


def test_validate_gives_problems_by_step_and_field_and_the_known_columns(client):
    text = HAND_WRITTEN.replace("{rows: 60}", "{rows: -1}")
    result = client.post("/api/editor/validate", json={"text": text}, headers=ORIGIN).json()
    assert not result["ok"]
    [problem] = result["problems"]
    assert (problem["step"], problem["field"], problem["line"]) == ("few", "rows", 12)
    header = DATA.read_text().splitlines()[0].split(",")
    assert result["columns"]["read.data"] == header == result["columns"]["few.data"]
    model = client.post("/api/editor/validate", json={"text": HAND_WRITTEN}, headers=ORIGIN).json()
    assert model["ok"] and model["problems"] == []


def test_node_definitions_are_those_of_nodes_list(client):
    nodes = {n["name"]: n for n in client.get("/api/nodes").json()}
    assert {"ReadCSV", "TrainLR", "Score"} <= set(nodes)
    assert nodes["SplitData"]["outputs"] == [{"name": "train", "type": "frame"}, {"name": "test", "type": "frame"}]


def test_changes_need_the_same_origin(client):
    body = {"text": HAND_WRITTEN}
    assert client.post("/api/editor/validate", json=body).status_code == 403
    assert client.post("/api/editor/validate", json=body, headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/api/editor/validate", json=body,
                       headers={"Referer": "http://evil.example/editor"}).status_code == 403
    assert client.post("/api/editor/validate", json=body,
                       headers={"Referer": "http://testserver/editor?file=x"}).status_code == 200
    assert client.get("/api/editor/files").status_code == 200  # reading needs no origin


def test_a_token_is_required_on_every_request_when_set(tmp_path: Path, folder: Path):
    with make_client(tmp_path, folder, token="s3cret") as client:
        assert client.get("/api/editor/files").status_code == 401
        assert client.get("/models").status_code == 401
        assert client.get("/api/editor/files", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/api/editor/files", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        first = client.get("/editor?file=flows/few.yaml&token=s3cret", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/editor?file=flows/few.yaml"
        assert client.get("/api/editor/files").status_code == 200  # the cookie now


def test_the_read_only_ui_has_no_editor(tmp_path: Path, folder: Path):
    from emberflow.engine.cli import build_parser
    from emberflow.engine.ui.app import create_app
    from fastapi.testclient import TestClient

    client = TestClient(create_app(tmp_path / "models", [folder]))
    assert client.get("/editor").status_code == 404
    assert client.get("/api/editor/files").status_code == 404
    assert client.put("/api/editor/file", json={}, headers=ORIGIN).status_code in (404, 405)
    assert "/api/editor/runs" not in client.get("/openapi.json").json()["paths"]
    assert build_parser("ui").parse_args(["ui", "--read-only"]).read_only
    assert build_parser("ui").parse_args(["ui", "--allow", "a", "b"]).allow == ["a", "b"]
    assert build_parser("ui").parse_args(["ui"]).allow is None


def test_the_editor_page_loads_the_built_files_or_says_how_to_build_them(client, tmp_path: Path, monkeypatch):
    from emberflow.engine.ui import editor_api

    monkeypatch.setattr(editor_api, "HERE", tmp_path)
    missing = client.get("/editor")
    assert missing.status_code == 503 and "npm ci" in missing.text and "npm run build" in missing.text
    (tmp_path / "static" / "editor").mkdir(parents=True)
    (tmp_path / "static" / "editor" / "editor.js").write_text("")
    page = client.get("/editor", params={"file": "flows/few.yaml"})
    assert page.status_code == 200
    assert '/static/editor/editor.js"' in page.text and '/static/editor/editor.css"' in page.text
    assert 'data-file="flows/few.yaml"' in page.text


def events_of(client, run_id: str) -> list[dict]:
    with client.stream("GET", f"/api/editor/runs/{run_id}/events") as stream:
        return [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]


def test_a_run_streams_its_steps_and_lands_in_the_runs_list(client, tmp_path: Path):
    started = client.post("/api/editor/runs", json={"path": "flows/few.yaml"}, headers=ORIGIN)
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    events = events_of(client, run_id)
    assert events[0]["type"] == "run" and events[-1] == {**events[-1], "type": "run", "status": "succeeded"}
    done = {e["step"]: e for e in events if e["type"] == "step" and e["status"] == "done"}
    assert list(done) == ["read", "few", "write"]
    assert done["read"]["rows"] == 700 and done["few"]["rows"] == 60
    assert {e["step"] for e in events if e.get("status") == "queued"} == {"read", "few", "write"}
    preview = client.get(done["few"]["outputs"]["data"]["preview"]).json()
    assert len(preview["rows"]) == 50 and preview["total_rows"] == 60
    assert preview["columns"] == DATA.read_text().splitlines()[0].split(",")
    record = client.get(f"/api/runs/{run_id}").json()
    assert record["status"] == "ok" and record["text"] == (Path(tmp_path / "flows" / "few.yaml")).read_text()
    assert (tmp_path / "flows" / "out" / "scored.csv").is_file()


def test_a_workflow_with_problems_is_not_run(client, folder: Path):
    (folder / "bad.yaml").write_text(HAND_WRITTEN.replace("Limit", "Limitt"))
    answer = client.post("/api/editor/runs", json={"path": "flows/bad.yaml"}, headers=ORIGIN)
    assert answer.status_code == 400
    assert answer.json()["problems"][0]["step"] == "few"


def test_the_editor_api_is_in_openapi(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/nodes", "/api/editor/files", "/api/editor/file", "/api/editor/validate", "/api/editor/runs",
            "/api/editor/runs/{run_id}/events", "/api/editor/runs/{run_id}/cancel"} <= set(paths)
    assert set(paths["/api/editor/file"]) == {"get", "put"}


@pytest.mark.parametrize(("host", "read_only", "needs_token"), [("127.0.0.1", False, False),
                                                                 ("0.0.0.0", False, True), ("0.0.0.0", True, False)])
def test_ui_on_another_address_prints_a_url_with_its_token(monkeypatch, capsys, host, read_only, needs_token):
    from emberflow.engine.ui import server

    made = {}

    class Server:
        def run(self):
            made["ran"] = True

    def make_server(store_root, host, port, workflows, read_only, token, allow):
        made.update(read_only=read_only, token=token, allow=allow)
        return Server()

    monkeypatch.setattr(server, "make_server", make_server)
    server.serve("store", host=host, port=8765, read_only=read_only, allow=["data"])
    err = capsys.readouterr().err
    assert made["ran"] and made["read_only"] is read_only and made["allow"] == ["data"]
    if needs_token:
        assert made["token"] and f"http://{host}:8765/?token={made['token']}" in err
    else:
        assert made["token"] is None and "token=" not in err


def test_unreadable_huge_and_broken_files_are_one_line_errors(client, folder: Path):
    (folder / "latin.yaml").write_bytes(b"name: caf\xe9\nsteps: []\n")
    answer = client.get("/api/editor/file", params={"path": "flows/latin.yaml"})
    assert answer.status_code == 400 and "UTF-8" in answer.json()["error"]
    huge = {"text": "#" * (5 * 1024 * 1024 + 1)}
    assert client.post("/api/editor/validate", json=huge, headers=ORIGIN).status_code == 413
    broken = "name: [unclosed\n"
    result = client.post("/api/editor/validate", headers=ORIGIN, json={
        "workflow": {"name": "fresh", "steps": [{"id": "a", "node": "ReadCSV", "params": {"path": "x.csv"}}]},
        "base_text": broken}).json()
    assert result["ok"] and result["text"].startswith("name: fresh\n")


def test_a_cancelled_run_shows_as_cancelled_on_the_run_pages(tmp_path: Path, folder: Path):
    from emberflow.engine.store import ModelStore

    with make_client(tmp_path, folder) as client:
        record = {"run_id": "20261201T000000Z-cancel01", "status": "cancelled", "workflow": {"name": "few-rows"},
                  "started": "2026-12-01T00:00:00+00:00", "seconds": 1.0, "steps": [
                      {"id": "read", "node": "ReadCSV", "engine": "sklearn", "status": "cancelled"},
                      {"id": "few", "node": "Limit", "engine": "sklearn", "status": "skipped"}],
                  "edges": [{"from": "read", "to": "few", "port": "data"}], "models": [], "metrics": {}}
        ModelStore(tmp_path / "models").write_run(record)
        assert 'status-cancelled">cancelled' in client.get("/runs").text
        page = client.get(f"/runs/{record['run_id']}").text
        assert 'class="node status-cancelled" data-step="read"' in page and "#6b3fa0" in page


def test_runs_may_not_reach_files_outside_the_folders(tmp_path: Path, folder: Path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (folder / "link").symlink_to(outside)
    (folder / "d.csv").write_bytes(DATA.read_bytes())
    text = (folder / "few.yaml").read_text().replace(str(DATA), str(folder / "d.csv"))
    cases = {"read.yaml": text.replace(str(folder / "d.csv"), str(outside / "d.csv")),
             "linked.yaml": text.replace(str(folder / "out" / "scored.csv"), str(folder / "link" / "scored.csv")),
             "url.yaml": text.replace(str(folder / "out" / "scored.csv"), f"file://{outside}/scored.csv")}
    for name, body in cases.items():
        (folder / name).write_text(body)
    with make_client(tmp_path, folder, allow=[]) as client:
        for name in cases:
            answer = client.post("/api/editor/runs", json={"path": f"flows/{name}"}, headers=ORIGIN)
            assert answer.status_code == 400, name
            [problem] = answer.json()["problems"]
            assert problem["field"] == "path" and "--allow" in problem["message"], name
        checked = client.post("/api/editor/validate", json={"text": cases["read.yaml"]}, headers=ORIGIN).json()
        assert not checked["ok"] and (checked["problems"][0]["step"], checked["problems"][0]["line"]) == ("read", 8)
    with make_client(tmp_path, folder, allow=[outside]) as client:
        checked = client.post("/api/editor/validate", json={"text": cases["linked.yaml"]}, headers=ORIGIN).json()
        assert checked["ok"], checked["problems"]
