"""Which Host headers a loopback-bound UI answers, so that a web page elsewhere cannot read the store through
DNS rebinding (its name, pointed at 127.0.0.1, arrives in the Host header and is refused)."""

from __future__ import annotations

import ipaddress

LOOPBACK_NAMES = ("127.0.0.1", "localhost")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str) -> list[str] | None:
    """Host names a UI listening on ``host`` accepts: the loopback names and ``host`` itself; None, meaning
    any, once the user has chosen to listen on another address."""
    return sorted({*LOOPBACK_NAMES, host}) if is_loopback(host) else None


def url_of(host: str, port: int) -> str:
    """The address to open: an IPv6 host goes in brackets."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def host_name(header: str) -> str:
    """The host of a Host header, lowercased, without its port: ``[::1]:8765`` is ``::1`` (an IPv6 address is
    written in brackets because it holds colons itself), ``LocalHost:8765`` is ``localhost``."""
    header = header.strip().lower()
    if header.startswith("["):
        inside, closed, _port = header[1:].partition("]")
        return inside if closed else ""
    return header.partition(":")[0]


def _same_form(host: str) -> str:
    """One spelling per address (``0:0:0:0:0:0:0:1`` and ``::1`` are the same), so they compare equal."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


class HostGuard:
    """ASGI middleware answering 400 to a request whose Host header names none of ``allowed_hosts``."""

    def __init__(self, app, allowed_hosts: list[str]):
        self.app = app
        self.allowed = {_same_form(h) for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            from starlette.datastructures import Headers
            from starlette.responses import PlainTextResponse

            if _same_form(host_name(Headers(scope=scope).get("host", ""))) not in self.allowed:
                await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)
