"""``emberflow serve``: the served model loaded and verified, then the app run by uvicorn (as the web UI is), on
127.0.0.1 unless told otherwise; on any other address only with a token."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import UserError
from ..ui.hosts import allowed_hosts, is_loopback, url_of
from .app import Limits

TOKEN_VARIABLE = "EMBERFLOW_SERVE_TOKEN"
MAX_CONNECTIONS = 1024  # open connections and requests at once; uvicorn answers 503 beyond


def serve(store_root: str | Path, reference: str, host: str = "127.0.0.1", port: int = 5000,
          limits: Limits | None = None, java_heap: str | None = None) -> int:
    """Serve ``reference`` from the store until interrupted (Ctrl+C, SIGTERM: requests in flight finish)."""
    server, holder = make_server(store_root, reference, host, port, limits or Limits(), java_heap)
    served = holder.current
    following = f", following alias '{holder.alias}'" if holder.alias else ""
    numpy = ", rows prepared with NumPy" if served.model.numpy_preparation is not None else ""
    log(f"serving {served.ref} ({served.model.task}"
        f"{', ' + served.model.algorithm if served.model.algorithm else ''}{numpy}{following}) from the store at "
        f"{store_root}: {url_of(host, port)}invocations and {url_of(host, port)}v2/models/{served.name}/infer "
        "(Ctrl+C stops it)")
    server.run()
    return 0


def make_server(store_root: str | Path, reference: str, host: str, port: int, limits: Limits,
                java_heap: str | None = None):
    """The uvicorn server, not started yet, and the holder of the served version (loaded and verified)."""
    try:
        import starlette  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise UserError(f"emberflow serve needs {exc.name}, which is not installed; install it with: "
                        "pip install 'emberflow[ui]'") from None
    from ..store import ModelStore
    from ..ui.server import _check_port
    from .app import create_app
    from .holder import ModelHolder

    token = required_token(host)
    _check_port(host, port)
    holder = ModelHolder(ModelStore(store_root), reference, log, java_heap)
    app = create_app(holder, limits, token=token, allowed_hosts=allowed_hosts(host), log=log)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            limit_concurrency=MAX_CONNECTIONS, timeout_graceful_shutdown=int(limits.timeout) + 1)
    return uvicorn.Server(config), holder


def required_token(host: str) -> str | None:
    """The token clients must send: ``$EMBERFLOW_SERVE_TOKEN``; required to listen on any but a loopback
    address, so that other machines cannot score (or probe the model) without it."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip() or None
    if token is None and not is_loopback(host):
        raise UserError(f"listening on {host} lets other machines reach the model; set {TOKEN_VARIABLE} to a "
                        "secret that clients send as Authorization: Bearer TOKEN, or listen on 127.0.0.1")
    return token


def log(message: str) -> None:
    """One line on stderr, with the time: the server's log (loads, alias moves, failures)."""
    import time

    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} {message}", file=sys.stderr, flush=True)
