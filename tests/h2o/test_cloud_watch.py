"""The watch on a joined H2O cloud, against a served ``/3/Cloud`` status and a stand-in for the client's connection
(no JVM): how a problem is read from the status, when the cloud is given up, and what the client's requests do
then. The real cloud that loses a node is in tests/h2o_cluster."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from emberflow.engine.engines.h2o import CloudLost, CloudWatch, cloud_problem
from emberflow.engine.errors import EngineUnavailable

NOW = 1_790_000_000_000  # the answering node's clock, in ms


def node(port: int, silent: float = 0.5, healthy: bool = True) -> dict:
    """A node of a cloud's status, last heard from ``silent`` seconds ago."""
    return {"ip_port": f"127.0.0.1:{port}", "healthy": healthy, "last_ping": NOW - int(silent * 1000)}


def cloud(*nodes: dict, healthy: bool = True) -> dict:
    return {"cloud_size": len(nodes), "cloud_healthy": healthy, "consensus": True, "nodes": list(nodes)}


class StatusServer:
    """Serves ``status`` at /3/Cloud on a free loopback port."""

    def __init__(self):
        self.status = cloud(node(1), node(2))
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(served.status).encode()
                self.send_response(200 if self.path == "/3/Cloud" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Connection:
    """What CloudWatch uses of the h2o client's connection; ``failure`` makes a request raise it."""

    def __init__(self, url: str):
        self.base_url, self.timeout_interval, self.failure = url, None, None
        self.sent: list[str] = []

    def request(self, endpoint, data=None, json=None, filename=None, save_to=None):
        self.sent.append(endpoint)
        if self.failure is not None:
            raise self.failure
        return {"answered": endpoint}

    def _request_args(self):
        return {"headers": {}, "timeout": self.timeout_interval, "auth": None, "verify": True,
                "proxies": {"http": None, "https": None}}


@pytest.fixture
def served():
    server = StatusServer()
    yield server
    server.close()


@pytest.fixture
def watched(served):
    """A connection watched with a 1 s limit; the watch is stopped and the connection released afterwards."""
    connection = Connection(served.url)
    watch = CloudWatch(connection, 1)
    watch.start()
    yield connection, watch
    watch.stop()
    watch.release()


def wait_until_lost(watch: CloudWatch) -> str:
    deadline = time.monotonic() + 30
    while watch.lost is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert watch.lost is not None, "the watch never gave the cloud up"
    return watch.lost


def test_a_healthy_cloud_is_passed_through_with_a_bounded_wait(watched, served):
    connection, watch = watched
    assert watch.size == 2
    assert connection.request("GET /3/Frames") == {"answered": "GET /3/Frames"}
    assert connection.timeout_interval == 1  # no answer is awaited longer than cluster_timeout
    time.sleep(1.5)  # more than the limit, with a healthy cloud: not given up
    assert watch.lost is None and connection.request("GET /3/Models") == {"answered": "GET /3/Models"}


def test_a_cloud_with_a_lost_node_is_given_up_and_requests_end(watched, served):
    connection, watch = watched
    served.status = cloud(node(1), node(2, silent=4.5))  # H2O still calls it healthy: it waits about 60 s
    reason = wait_until_lost(watch)
    assert reason.startswith(f"the H2O cloud at {served.url} failed: node 127.0.0.1:2 sent no heartbeat for 4 s")
    assert "cluster_timeout, 1 s" in reason
    sent = len(connection.sent)
    with pytest.raises(CloudLost, match="node 127.0.0.1:2"):
        connection.request("GET /3/Jobs/job1")
    assert len(connection.sent) == sent  # not sent to the cloud at all
    watch.stop()
    watch.release()
    assert connection.request("GET /") == {"answered": "GET /"} and connection.timeout_interval is None


def test_a_failed_request_on_a_cloud_with_a_problem_ends_at_once(watched, served):
    from h2o.exceptions import H2OConnectionError

    connection, watch = watched
    connection.failure = H2OConnectionError("Timeout after 1.000s")
    served.status = cloud(node(1), node(2), node(3))
    served.status["cloud_size"] = 1  # fewer nodes than when joined
    with pytest.raises(CloudLost, match="it has 1 of its 2 nodes") as raised:
        connection.request("GET /3/Jobs/job1")
    assert isinstance(raised.value.__cause__, H2OConnectionError)
    assert watch.lost is not None  # later requests end without waiting


def test_a_failed_request_on_a_healthy_cloud(watched, served):
    from h2o.exceptions import H2OConnectionError, H2OResponseError

    connection, _ = watched
    connection.failure = H2OResponseError("bad parameter")
    with pytest.raises(H2OResponseError):  # the cloud is fine: H2O's own error, for the step to report
        connection.request("POST /3/ModelBuilders/glm")
    connection.failure = H2OConnectionError("Timeout after 1.000s")
    with pytest.raises(CloudLost, match=f"H2O at {served.url} did not answer GET /3/Frames within 1 s"):
        connection.request("GET /3/Frames")


def test_a_cloud_that_is_unhealthy_when_joined_is_refused(served):
    served.status = cloud(node(1, silent=70.5, healthy=False), node(2), healthy=False)
    with pytest.raises(EngineUnavailable, match="is not usable: node 127.0.0.1:1 sent no heartbeat for 70 s"):
        CloudWatch(Connection(served.url), 5).start()


def test_a_cloud_whose_node_at_the_url_is_down(served):
    connection = Connection(served.url)
    watch = CloudWatch(connection, 5)
    served.close()
    problem, size = watch.status()
    assert problem == "it refuses connections (its node at that url is down)" and size == 0


def test_cloud_problems():
    assert cloud_problem(cloud(node(1), node(2, silent=3.5)), 2) is None  # a heartbeat is due every second
    assert cloud_problem(cloud(node(1), node(2, silent=4.5), node(3, silent=80.5, healthy=False)), 3) == (
        "node 127.0.0.1:2 sent no heartbeat for 4 s, node 127.0.0.1:3 sent no heartbeat for 80 s")
    assert cloud_problem(cloud(node(1), healthy=False), 1) == "H2O reports it unhealthy"
