"""``emberflow ui`` as a user starts it: a fresh process serving the store on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from .conftest import TrainedStore, free_port


def test_ui_command_serves_the_store_on_loopback(trained: TrainedStore, tmp_path: Path):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emberflow.engine.cli", "ui", "--store", str(trained.root), "--port", str(port),
         "--workflows", str(trained.workflows)],
        cwd=tmp_path, env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        models = None
        deadline = time.monotonic() + 60
        while models is None:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "the UI did not answer within a minute"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=5) as response:
                    models = json.load(response)
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert [m["name"] for m in models] == [trained.model]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/workflows", timeout=5) as response:
            assert "workflows/train.yaml" in response.read().decode()
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in err and "editor at /editor" in err and "token" not in err


def test_ui_on_a_busy_port_is_one_clear_error(cli, trained: TrainedStore):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("ui", "--store", trained.root, "--port", port)
    assert result.code == 2
    assert result.err.startswith(f"error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.err
