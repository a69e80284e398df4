"""``emberflow serve`` as users run it: one server process on a free loopback port, asked over HTTP by the same
rows batch Score scored, by 200 clients at once, while its alias moves; and the command's refusals."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from .conftest import NEW_ROWS, new_rows, records


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    store: Path
    log: Path

    def ask(self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json",
            timeout: float = 30) -> tuple[int, dict | str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body, {"Content-Type": content_type} if body is not None else {})
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        return response.status, json.loads(text) if text.startswith(("{", "[")) else text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    store = trained.copy(tmp_path_factory.mktemp("served") / "models")
    port, log = free_port(), store.parent / "serve.log"
    with open(log, "wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "emberflow.engine.cli", "serve", "species-lr@prod",
                                    "--store", str(store), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=err,
                                   env={k: v for k, v in os.environ.items() if k != "EMBERFLOW_SERVE_TOKEN"})
    up = Server(process, port, store, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if up.ask("GET", "/ping", timeout=1)[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    assert process.poll() is None, log.read_text()
    yield up
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_answers_equal_batch_score_over_http(server, trained):
    batch = trained.batch("species-lr@1")
    probability_columns = [c for c in batch.columns if c.startswith("probability")]
    status, by_csv = server.ask("POST", "/invocations?probabilities=true", NEW_ROWS.read_bytes(), "text/csv")
    assert status == 200 and by_csv["predictions"] == batch["prediction"].tolist()
    np.testing.assert_allclose(by_csv["probabilities"], batch[probability_columns].to_numpy(), rtol=1e-12)
    body = json.dumps({"dataframe_records": records(new_rows())}).encode()
    assert server.ask("POST", "/invocations?probabilities=true", body) == (200, by_csv)


def test_200_concurrent_clients_are_all_answered(server, trained):
    """200 clients, started together, each sending 2 single-row requests on its own connection; the loop ends
    by itself (each request has a 60 s timeout)."""
    rows = records(new_rows())
    expected = trained.batch("species-lr@1")["prediction"].tolist()
    start = threading.Barrier(200)
    answers: list[tuple[int, object, object]] = []

    def client(number: int) -> None:
        row = number % len(rows)
        body = json.dumps({"dataframe_records": [rows[row]]}).encode()
        start.wait(timeout=60)
        for _ in range(2):
            try:
                status, answer = server.ask("POST", "/invocations", body, timeout=60)
                answers.append((status, answer["predictions"] if status == 200 else answer, [expected[row]]))
            except OSError as exc:
                answers.append((0, str(exc), None))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    seconds = time.perf_counter() - began
    failed = [a for a in answers if a[0] != 200 or a[1] != a[2]]
    assert len(answers) == 400 and failed == [], failed[:3]
    assert server.ask("GET", "/ping")[0] == 200 and server.process.poll() is None
    print(f"400 requests from 200 concurrent clients in {seconds:.2f} s")


def test_the_server_follows_its_alias_and_logs_it(server):
    """``models alias`` moves prod to version 2: the running server serves it within its one-second look."""
    status, metadata = server.ask("GET", "/v2/models/species-lr")
    assert status == 200 and metadata["versions"] == ["1"]
    moved = subprocess.run([sys.executable, "-m", "emberflow.engine.cli", "models", "alias", "species-lr", "2", "prod",
                            "--store", str(server.store)], capture_output=True, text=True, timeout=60)
    assert moved.returncode == 0, moved.stderr
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and metadata["versions"] != ["2"]:
        time.sleep(0.2)
        metadata = server.ask("GET", "/v2/models/species-lr")[1]
    assert metadata["versions"] == ["2"]
    assert "alias 'prod' moved: now serving species-lr@2 (was species-lr@1)" in server.log.read_text()


def test_sigterm_stops_it_cleanly(server):
    """uvicorn finishes the requests in flight, then ends the process by the signal it was sent."""
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
    assert "Traceback" not in server.log.read_text()


@pytest.mark.parametrize(("args", "says"), [
    (["serve", "nope", "--store", "{store}"], "error: no model 'nope' in the store at"),
    (["serve", "species-lr@7", "--store", "{store}"], "error: model 'species-lr' has no version 7; versions: 1, 2"),
    (["serve", "species-lr@staging", "--store", "{store}"], "error: model 'species-lr' has no alias 'staging'"),
    (["serve", "species-lr", "--store", "{tmp}/none"], "(models: the store is empty)"),
    (["serve", "species-lr", "--store", "{store}", "--host", "0.0.0.0"],
     "error: listening on 0.0.0.0 lets other machines reach the model; set EMBERFLOW_SERVE_TOKEN"),
    (["serve", "species-lr", "--store", "{store}", "--max-rows", "0"], "must be above 0"),
])
def test_bad_model_refs_and_stores_exit_2_with_one_line(cli, trained, tmp_path, monkeypatch, args, says):
    monkeypatch.delenv("EMBERFLOW_SERVE_TOKEN", raising=False)
    result = cli(*[a.format(store=trained.store, tmp=tmp_path) for a in args])
    assert result.code == 2 and says in result.err and len(result.err.strip().splitlines()) == 1, result.err


@pytest.mark.parametrize("heap", ["4 GB", "0", "12MB", "1.5G"])
def test_a_java_heap_that_java_would_refuse_is_a_usage_error(capsys: pytest.CaptureFixture, heap: str):
    from emberflow.engine.cli import main

    with pytest.raises(SystemExit) as ended:
        main(["serve", "species-lr", "--java-heap", heap])
    assert ended.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"emberflow serve: error: argument --java-heap: expected a size such as 512M or 4G, got {heap!r}")


def test_a_port_in_use_exits_2_with_one_line(cli, trained):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = cli("serve", "species-lr", "--store", trained.store, "--port", taken.getsockname()[1])
    assert result.code == 2 and "cannot listen on 127.0.0.1:" in result.err and len(result.err.splitlines()) == 1


def test_help_imports_nothing_heavy():
    probe = ("import sys\nfrom emberflow.engine.cli import main\ntry:\n    main(['serve', '--help'])\n"
             "except SystemExit:\n    pass\nheavy = [m for m in ('pandas', 'numpy', 'sklearn', 'starlette', "
             "'uvicorn') if m in sys.modules]\nprint('HEAVY', heavy)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "NAME[@VERSION|@ALIAS]" in done.stdout and "HEAVY []" in done.stdout, done.stdout + done.stderr
