"""Fixtures of the web UI's tests: a store holding a trained model and its run, the app on it, and the app
served by uvicorn on a free loopback port."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class TrainedStore:
    root: Path
    workflows: Path
    run: dict

    @property
    def model(self) -> str:
        return self.run["models"][0]["name"]


def train_into(store_root: Path, out: Path) -> dict:
    """Run workflows/train.yaml into ``store_root``; return the run record."""
    from emberflow.engine.runner import Reporter, run_workflow
    from emberflow.engine.store import ModelStore
    from emberflow.engine.workflow import load_workflow

    workflow = load_workflow(ROOT / "workflows" / "train.yaml", {
        "data": str(ROOT / "workflows" / "data" / "diabetes.csv"), "out": str(out)})
    result = run_workflow(workflow, ModelStore(store_root), reporter=Reporter(None))
    assert result.ok, result.error
    return result.record


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedStore:
    """A store with diabetes-lr@1 and @2 (alias prod -> 1) and their runs, shared by a module's tests."""
    from emberflow.engine.store import ModelStore

    base = tmp_path_factory.mktemp("ui-store")
    train_into(base / "models", base / "out")
    record = train_into(base / "models", base / "out")
    ModelStore(base / "models").set_alias("diabetes-lr", 1, "prod")
    return TrainedStore(base / "models", ROOT / "workflows", record)


@pytest.fixture(scope="module")
def client(trained: TrainedStore):
    from emberflow.engine.ui.app import create_app
    from fastapi.testclient import TestClient

    return TestClient(create_app(trained.root, [trained.workflows]))


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve():
    """Start the UI (the same server ``emberflow ui`` runs) in a thread; returns its base URL, as printed.
    ``options`` go to make_server (``read_only=False`` turns the editor on)."""
    from emberflow.engine.ui.server import make_server, url_of

    servers = []

    def start(store_root: Path, workflows: list[Path], host: str = "127.0.0.1", **options) -> str:
        port = free_port(host)
        server = make_server(store_root, host, port, [str(w) for w in workflows], **options)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the UI server did not start"
            time.sleep(0.05)
        return url_of(host, port).rstrip("/")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=30)


CHROMIUM = Path(os.environ.get("EMBERFLOW_CHROMIUM", "/usr/bin/chromium"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def browser(tmp_path: Path):
    """A fresh Chromium with an empty profile; every request that is not to the loopback UI is refused and
    recorded, so a page that needed the internet fails the test."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "profile"
    profile.mkdir()
    outside: list[str] = []

    def only_loopback(route):
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=FLAGS, accept_downloads=True,
            viewport={"width": 1280, "height": 900})
        context.route("**/*", only_loopback)
        context.set_default_timeout(30_000)
        try:
            yield context, outside
        finally:
            context.close()
