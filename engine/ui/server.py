"""``emberflow ui``: serve the web UI with uvicorn, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from ..errors import UserError
from .hosts import allowed_hosts, url_of

__all__ = ["allowed_hosts", "make_server", "serve", "url_of"]


def make_server(store_root: str | Path, host: str = "127.0.0.1", port: int = 8765,
                workflows: list[str] | None = None, log_level: str = "warning", read_only: bool = True,
                token: str | None = None, allow: list[str] | None = None):
    """A uvicorn server for the UI, not started yet (``.run()`` serves until ``.should_exit`` is set).
    Without ``read_only`` the editor is on; ``token`` is then required on every request."""
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        raise UserError(f"the web UI needs {exc.name}, which is not installed; install it with: "
                        "pip install 'emberflow[ui]'") from None
    _check_port(host, port)
    app = create_app(store_root, workflows, allowed_hosts=allowed_hosts(host), editor=not read_only, token=token,
                     allow=allow)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False)
    return uvicorn.Server(config)


def _check_port(host: str, port: int) -> None:
    """Fail with one clear line (not a server traceback) when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or "
                            "--host") from None


def serve(store_root: str | Path, host: str = "127.0.0.1", port: int = 8765,
          workflows: list[str] | None = None, read_only: bool = False, allow: list[str] | None = None) -> int:
    """Serve the UI. On an address other than loopback, the editor needs a token, printed in the URL to open
    (as Jupyter does); the read-only UI keeps today's warning instead."""
    from .security import new_token

    remote = allowed_hosts(host) is None
    token = new_token() if remote and not read_only else None
    server = make_server(store_root, host, port, workflows, read_only=read_only, token=token, allow=allow)
    url = url_of(host, port)
    shown = f"{url}?token={token}" if token else url
    mode = "read-only" if read_only else "editor at /editor"
    print(f"emberflow UI for the store at {store_root}: {shown} ({mode}; Ctrl+C stops it)", file=sys.stderr)
    if remote:
        who = "read this store's models" if read_only else "holding the token edit and run workflows"
        print(f"warning: listening on {host}, so other machines {who}", file=sys.stderr)
    server.run()
    return 0
