"""What the serve benchmarks share on the server side: a free local port, and a server started in the background
that is handed over only once it answers /ping (its start is not timed)."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request

from .harness import BenchError

START_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def started(b, name: str, command: list, log: str | None = None,
            env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """``command`` with a free port appended, run in ``b.work`` with ``env`` (``b.env`` by default), its output in
    ``<log>.log`` (``log`` defaults to ``name``); returns the server and its URL once it answers /ping. ``name``
    is the server in the error raised if it exits or does not answer within START_SECONDS."""
    port = free_port()
    log_path = b.work / f"{log or name}.log"
    output = open(log_path, "wb")  # noqa: SIM115 - kept open for the server's life
    server = subprocess.Popen([*map(str, command), str(port)], cwd=b.work, env=b.env if env is None else env,
                              stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BenchError(f"{name} exited with {server.returncode}: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise BenchError(f"{name} did not answer /ping within {START_SECONDS} s")
