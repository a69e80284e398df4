"""Downloads and file views never leave the store (nor the workflow folders): every route that takes a name
or a path answers 404 to ``..``, absolute paths and symbolic links that point outside, and never leaks the
bytes of the file they aim at."""

from __future__ import annotations

import http.client
import shutil
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from emberflow.engine.store import ModelStore
from emberflow.engine.ui.app import create_app
from fastapi.testclient import TestClient

from .conftest import TrainedStore

SECRET = b"TOP-SECRET-CONTENT"

# Every route that serves a stored file or takes a path, with the model name, version and path to fill in.
FILE_ROUTES = [
    "/models/{name}/versions/{which}/download",
    "/models/{name}/versions/{which}/files/{rel}",
    "/models/{name}/versions/{which}/view/{rel}",
    "/api/models/{name}/versions/{which}",
]


@pytest.fixture
def hostile(trained: TrainedStore, tmp_path: Path) -> dict:
    """A copy of the trained store, with secrets beside it and symbolic links that point at them:

    - version 2's model file replaced by a link to a secret outside the store,
    - an unlisted link ``leak.txt`` in version 1,
    - a version folder ``9`` that is a link to a complete version outside the store,
    - a workflow folder holding a link to a workflow file outside it.
    """
    root = tmp_path / "models"
    shutil.copytree(trained.root, root, symlinks=True)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(SECRET)
    store = ModelStore(root)
    v1, v2 = store.resolve("diabetes-lr@1"), store.resolve("diabetes-lr@2")
    listed = next(iter(store.manifest(v2)["files"]))
    (v2.path / listed).unlink()
    (v2.path / listed).symlink_to(secret)
    (v1.path / "leak.txt").symlink_to(secret)
    outside_version = tmp_path / "elsewhere" / "9"
    shutil.copytree(v1.path, outside_version)
    shutil.copy(secret, outside_version / listed)
    (root / "diabetes-lr" / "9").symlink_to(outside_version, target_is_directory=True)
    workflows = tmp_path / "workflows"
    workflows.mkdir()
    shutil.copy(trained.workflows / "train.yaml", workflows / "train.yaml")
    (tmp_path / "secret.yaml").write_bytes(b"name: " + SECRET + b"\nsteps: []\n")
    (workflows / "leak.yaml").symlink_to(tmp_path / "secret.yaml")
    return {"root": root, "workflows": workflows, "secret": secret, "listed": listed,
            "client": TestClient(create_app(root, [workflows]))}


def enc(part: str) -> str:
    """Percent-encode every '/' and '.', so no client normalizes a '..' away: the server decodes them back,
    and the route receives the hostile value as written."""
    return quote(part, safe="").replace(".", "%2E")


def attacks(hostile: dict) -> list[str]:
    """URLs aiming outside a version, the store or the workflow folder, on every route that takes a path."""
    secret, listed = hostile["secret"], hostile["listed"]
    rels = ["../../../secret.txt", f"../2/{listed}", "../aliases.json", "../../diabetes-lr/1/manifest.json",
            str(secret), f"/{listed}", "leak.txt", "./../1/manifest.json", f"{listed}/../../2/{listed}"]
    urls = []
    for route in FILE_ROUTES:
        if "{rel}" in route:
            urls += [route.format(name="diabetes-lr", which="1", rel=enc(rel)) for rel in rels]
        urls.append(route.format(name="diabetes-lr", which="9", rel=enc(listed)))  # the folder is a link out
        if route != "/api/models/{name}/versions/{which}":  # version 2's manifest itself is in the store
            urls.append(route.format(name="diabetes-lr", which="2", rel=enc(listed)))  # its file is a link out
        for name, which in [("..", "1"), ("../diabetes-lr", "1"), (str(secret.parent), "1"),
                            ("diabetes-lr", "../1"), ("diabetes-lr", "1/../2"), ("runs", "1"), (".", "1")]:
            urls.append(route.format(name=enc(name), which=enc(which), rel=enc(listed)))
    for key in ["../secret.yaml", "workflows/../../secret.yaml", "workflows/leak.yaml", "leak.yaml",
                str(hostile["workflows"] / "leak.yaml"), str(hostile["workflows"] / "train.yaml")]:
        urls.append(f"/workflows/{enc(key)}")
    for run_id in ["../../secret", "..", str(hostile["secret"]), "../models/diabetes-lr/aliases"]:
        urls += [f"/runs/{enc(run_id)}", f"/api/runs/{enc(run_id)}"]
    return urls


def test_the_routes_serve_what_is_inside(hostile: dict):
    """The control: the same routes, aimed inside, answer 200; so a 404 below is the guard at work."""
    client, listed = hostile["client"], quote(hostile["listed"], safe="")
    for route in FILE_ROUTES:
        response = client.get(route.format(name="diabetes-lr", which="1", rel=listed))
        assert response.status_code == 200, route
    assert client.get("/workflows/workflows/train.yaml").status_code == 200


def test_traversal_absolute_paths_and_symlinks_out_answer_404(hostile: dict):
    client = hostile["client"]
    answered = {url: client.get(url) for url in attacks(hostile)}
    wrong = {url: r.status_code for url, r in answered.items() if r.status_code != 404}
    assert wrong == {}, f"not 404: {wrong}"
    leaked = [url for url, r in answered.items() if SECRET in r.content]
    assert leaked == [], f"the secret was served by: {leaked}"
    listing = client.get("/workflows").text
    assert "leak.yaml" not in listing and client.get("/api/workflows").json() == ["workflows/train.yaml"]


def test_literal_dot_dot_sent_as_is_to_the_real_server_answers_404(hostile: dict, serve):
    """Clients normalize a literal '/../' away, so this sends raw request lines to the uvicorn server."""
    base = urlsplit(serve(hostile["root"], [hostile["workflows"]]))
    raw = [
        "/models/diabetes-lr/versions/1/files/../../../secret.txt",
        "/models/diabetes-lr/versions/1/view/../../../secret.txt",
        "/models/diabetes-lr/versions/1/files/../../diabetes-lr/2/manifest.json",
        f"/models/diabetes-lr/versions/1/files/{hostile['secret']}",
        "/models/diabetes-lr/versions/1/files//etc/passwd",
        "/models/../../secret.txt/versions/1/download",
        "/models/diabetes-lr/versions/../../../secret/download",
        "/workflows/../secret.yaml",
        "/workflows/workflows/../../secret.yaml",
        "/static/../../secret.txt",
        "/static/../app.py",
        "/docs-assets/../../secret.txt",
    ]
    for path in raw:
        connection = http.client.HTTPConnection(base.hostname, base.port, timeout=30)
        connection.putrequest("GET", path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 404, (path, response.status)
        assert SECRET not in body and b"import" not in body, path


ROUTES = [*FILE_ROUTES, "/models/{name}", "/models/{name}/versions/{which}", "/api/models/{name}", "/runs/{name}",
          "/api/runs/{name}", "/workflows/{name}"]
ODD_VALUES = ["a\0b", "\0", "a" * 8000, "1" * 8000, "\u00b2", "01", "0", "-1", "+1", " 1", "1 ", "1\n", "\uff11",
              "\u0661", "latest\n", "1.0", "1e3"]


def test_odd_names_versions_and_paths_answer_404(client: TestClient):
    """A NUL byte, a name the file system finds too long, and a version that is not written 1, 2, 3 ...
    (digits of other scripts, a leading zero, 8,000 digits) are simply not there: 404, never 500."""
    urls = []
    for route in ROUTES:
        for odd in ODD_VALUES:
            urls.append(route.format(name=enc(odd), which="1", rel=enc(odd)))
            if "{which}" in route:
                urls.append(route.format(name="diabetes-lr", which=enc(odd), rel="model.joblib"))
    answered = {url[:80]: client.get(url).status_code for url in urls}
    assert {url: code for url, code in answered.items() if code != 404} == {}
    assert client.get("/models/diabetes-lr/versions/1").status_code == 200


def test_a_manifest_listing_a_name_no_file_can_have_is_refused_not_a_500(trained: TrainedStore, tmp_path: Path):
    import json

    root = tmp_path / "models"
    shutil.copytree(trained.root, root, symlinks=True)
    path = root / "diabetes-lr" / "1" / "manifest.json"
    manifest = json.loads(path.read_text())
    odd = {"a\0b": {"sha256": "0" * 64, "size": 3}, "x" * 300: {"sha256": "0" * 64, "size": 3}}
    for name, meta in odd.items():
        path.write_text(json.dumps({**manifest, "files": {**manifest["files"], name: meta}}))
        client = TestClient(create_app(root))
        assert client.get("/models/diabetes-lr/versions/1").status_code == 200
        download = client.get("/models/diabetes-lr/versions/1/download")
        assert download.status_code == 409 and "lists a file name no file can have" in download.text
        for route in ("files", "view"):  # the manifest lists it: the version is damaged, not the file missing
            page = client.get(f"/models/diabetes-lr/versions/1/{route}/{enc(name)}")
            assert page.status_code == 409 and "lists a file name no file can have" in page.text
