"""The editing UI's guards, as ASGI middleware:

- ``TokenGuard``: on an address other than loopback, every request needs the token printed at start: the URL's
  ``?token=`` (which sets a cookie and redirects to the same URL without it), the cookie, or
  ``Authorization: Bearer TOKEN`` for scripts.
- ``OriginGuard``: every request that changes something (not GET, HEAD or OPTIONS) must carry an ``Origin``
  (or, lacking one, a ``Referer``) of the server's own origin, so that a page elsewhere cannot post to it (CSRF).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

COOKIE = "emberflow_token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _refuse(status: int, message: str):
    from starlette.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


class TokenGuard:
    def __init__(self, app, token: str):
        self.app, self.token = app, token

    def _matches(self, given: str | None) -> bool:
        return bool(given) and secrets.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        from starlette.requests import Request
        from starlette.responses import RedirectResponse

        request = Request(scope)
        bearer = request.headers.get("authorization", "")
        if self._matches(request.cookies.get(COOKIE)) or self._matches(bearer.removeprefix("Bearer ").strip()):
            await self.app(scope, receive, send)
            return
        if self._matches(request.query_params.get("token")) and request.method in SAFE_METHODS:
            query = "&".join(f"{k}={v}" for k, v in request.query_params.multi_items() if k != "token")
            response = RedirectResponse(request.url.path + (f"?{query}" if query else ""), status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
            await response(scope, receive, send)
            return
        await _refuse(401, "this UI needs its token: open the URL with ?token= that emberflow ui printed at "
                           "start")(scope, receive, send)


def own_origin(scope) -> str:
    from starlette.datastructures import Headers

    host = Headers(scope=scope).get("host", "")
    return f"{scope.get('scheme', 'http')}://{host}".lower()


class OriginGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            from starlette.datastructures import Headers

            headers = Headers(scope=scope)
            origin = headers.get("origin")
            if origin is None and headers.get("referer"):
                parts = urlsplit(headers["referer"])
                origin = f"{parts.scheme}://{parts.netloc}"
            if origin is None or origin.lower() != own_origin(scope):
                seen = "none" if origin is None else origin
                await _refuse(403, f"cross-origin request refused (Origin {seen}, expected {own_origin(scope)}); "
                                   "scripts send an Origin header equal to the server's address")(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)
