"""The helpers both serve benchmarks share, without a JVM or a model: a server is handed over once it answers
/ping (and a server that exits says so, with its log), and a request is posted to /invocations as JSON, its answer
returned, a refusal stopping the client."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from bench.harness import BenchError
from bench.serve_client import post as post_frame
from bench.serve_load import post
from bench.serve_server import free_port, started

PING_SERVER = """
import http.server, sys
class Ping(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/ping" else 404)
        self.end_headers()
    def log_message(self, *args):
        pass
print("serving", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[-1])), Ping).serve_forever()
"""


def test_a_free_port_can_be_bound():
    port = free_port()
    server = http.server.HTTPServer(("127.0.0.1", port), http.server.BaseHTTPRequestHandler)
    server.server_close()
    assert 0 < port < 65536


def test_a_started_server_is_handed_over_once_it_answers_ping(tmp_path: Path):
    bench = SimpleNamespace(work=tmp_path, env=dict(os.environ))
    server, url = started(bench, "ping server", [sys.executable, "-c", PING_SERVER], log="ping")
    try:
        port = int(url.rsplit(":", 1)[1])
        assert url == f"http://127.0.0.1:{port}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/ping")
        assert connection.getresponse().status == 200
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert (tmp_path / "ping.log").read_text().startswith("serving")


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path):
    bench = SimpleNamespace(work=tmp_path, env=dict(os.environ))
    failing = [sys.executable, "-c", "import sys; print('no model', sys.argv[-1]); sys.exit(3)"]
    with pytest.raises(BenchError, match=r"^failing server exited with 3: no model \d+"):
        started(bench, "failing server", failing)
    assert (tmp_path / "failing server.log").exists()


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers POSTs with ``status`` and a JSON echo of what came; remembers the last request."""

    status = 200
    seen: dict = {}

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.seen = {"path": self.path, "type": self.headers["Content-Type"], "body": json.loads(body)}
        answer = json.dumps({"got": Recorder.seen["body"]}).encode()
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def connection():
    server = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Recorder.status = 200
    try:
        yield http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    finally:
        server.shutdown()
        server.server_close()


def test_post_sends_json_to_invocations_and_returns_the_answer(connection):
    body = {"dataframe_split": {"columns": ["x"], "data": [[1.5]]}}
    answer = post(connection, json.dumps(body).encode())
    assert json.loads(answer) == {"got": body}
    assert Recorder.seen == {"path": "/invocations", "type": "application/json", "body": body}


def test_post_stops_the_client_when_the_server_refuses(connection):
    Recorder.status = 400
    with pytest.raises(SystemExit, match="the server answered 400"):
        post(connection, b"{}")


def test_the_h2o_client_posts_a_frame_asking_for_probabilities(connection):
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    answer = post_frame(connection, frame)
    expected = {"dataframe_split": {"columns": ["a", "b"], "data": [[1.0, "x"], [2.0, "y"]]},
                "params": {"probabilities": True}}
    assert answer == {"got": expected}
    assert Recorder.seen["path"] == "/invocations"
