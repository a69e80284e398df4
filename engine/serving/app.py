"""The server's routes (Starlette, which the web UI's FastAPI is made of), with its limits and guards.

- MLflow's scoring protocol: ``GET /ping``, ``/health``, ``/version``; ``POST /invocations``. Errors are
  ``{"error_code": ..., "message": ...}``: 400 ``BAD_REQUEST`` for a request the model cannot score.
- The Open Inference Protocol (V2): ``/v2``, ``/v2/health/live``, ``/v2/health/ready``, ``/v2/models/NAME``
  (``/ready``, ``/infer``, also under ``/versions/V``). Errors are ``{"error": ...}``.

A body is read up to ``Limits.max_body`` bytes (413 beyond, before reading when its length is declared) within
``Limits.timeout`` seconds (408), and parsed and scored on a pool of ``Limits.threads`` threads, the answer
waited for ``Limits.timeout`` seconds (503 after that), so the event loop only moves bytes. Any failure is an
answer in the protocol's shape, never a traceback: a request's fault 400, the server's 500 (and logged).
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..errors import UserError
from .payload import csv_frame, decode_json, flag, frame_of, mlflow_request

if TYPE_CHECKING:
    from .holder import ModelHolder, Served

# Paths answered without the token: they say only whether the server is up (load balancers probe them).
OPEN_PATHS = frozenset({"/ping", "/health", "/v2/health/live", "/v2/health/ready"})
ERROR_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "ENDPOINT_NOT_FOUND", 405: "BAD_REQUEST",
               408: "BAD_REQUEST", 413: "REQUEST_LIMIT_EXCEEDED", 415: "BAD_REQUEST",
               500: "INTERNAL_ERROR", 503: "TEMPORARILY_UNAVAILABLE"}


@dataclass(frozen=True)
class Limits:
    max_body: int = 16 * 1024 * 1024  # bytes of a request body
    max_rows: int = 10_000  # rows of a request
    timeout: float = 30.0  # seconds to receive a body, and to parse and score it
    threads: int = 16  # requests parsed at once (and waiting to be scored together: see ``batching``)
    poll: float = 1.0  # seconds between two looks at the aliases (when serving an alias)


class Failure(Exception):
    """An answer other than 200: its status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def create_app(holder: ModelHolder, limits: Limits = Limits(), token: str | None = None,
               allowed_hosts: list[str] | None = None, log: Callable[[str], None] = print):
    """The app serving ``holder``'s model; ``token`` (if any) is required as ``Authorization: Bearer TOKEN``
    but on the health checks; ``allowed_hosts`` (Host headers accepted) guards a loopback-bound server against
    DNS rebinding, as the web UI's does."""
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException

    from ..ui.hosts import HostGuard

    worker = Worker(holder, limits, log)
    app = Starlette(routes=mlflow_routes(worker) + v2_routes(worker), lifespan=worker.lifespan,
                    exception_handlers={HTTPException: not_found})
    app.state.worker = worker
    if token:
        app.add_middleware(TokenGuard, token=token)
    if allowed_hosts:
        app.add_middleware(HostGuard, allowed_hosts=allowed_hosts)
    return app


class Worker:
    """What the routes share: the holder, the limits and the threads that parse and score."""

    def __init__(self, holder: ModelHolder, limits: Limits, log: Callable[[str], None]):
        self.holder, self.limits, self.log = holder, limits, log
        self.pool = ThreadPoolExecutor(max_workers=limits.threads, thread_name_prefix="emberflow-serve")

    async def body(self, declared: str, chunks: AsyncIterator[bytes]) -> bytes:
        """A request's body from its ``chunks``, within the size limit (413; before reading when the declared
        length is beyond it) and the time limit (408)."""
        if declared.isdigit() and int(declared) > self.limits.max_body:
            raise self.too_large()
        parts, size = [], 0
        try:
            async with asyncio.timeout(self.limits.timeout):
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.limits.max_body:
                        raise self.too_large()
                    parts.append(chunk)
        except TimeoutError:
            raise Failure(408, f"the body did not arrive within {self.limits.timeout:g} s") from None
        return b"".join(parts)

    def too_large(self) -> Failure:
        return Failure(413, f"the body is larger than this server's limit of {self.limits.max_body} bytes "
                            "(--max-body); send fewer rows per request")

    async def run(self, work: Callable[..., Any], *args: Any) -> Any:
        """``work(*args)`` on the pool, its failures turned into answers; 503 after ``timeout`` seconds."""
        future = asyncio.get_running_loop().run_in_executor(self.pool, work, *args)
        try:
            async with asyncio.timeout(self.limits.timeout):
                return await future
        except TimeoutError:
            raise Failure(503, f"scoring took longer than this server's limit of {self.limits.timeout:g} s "
                               "(--timeout); send fewer rows per request") from None
        except Failure:
            raise
        except UserError as exc:  # RequestError, and the predictor's DataError (a missing column ...)
            raise Failure(getattr(exc, "status", 400), str(exc)) from None
        except (ValueError, TypeError) as exc:  # the model's own refusal of these rows
            raise Failure(400, f"the model could not score these rows: {type(exc).__name__}: {exc}") from None
        except Exception as exc:
            import traceback

            self.log(f"error: unexpected {type(exc).__name__} while scoring: {exc}\n{traceback.format_exc()}")
            raise Failure(500, f"unexpected {type(exc).__name__} while scoring; the server's log tells more") \
                from None

    def lifespan(self, app):
        """While the server runs: follow the alias (if one is served); at the end, let the threads go."""
        from contextlib import asynccontextmanager

        @asynccontextmanager
        async def running(app):
            watching = asyncio.create_task(self.follow_alias()) if self.holder.alias else None
            try:
                yield
            finally:
                if watching is not None:
                    watching.cancel()
                self.pool.shutdown(wait=False, cancel_futures=True)

        return running(app)

    async def follow_alias(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.limits.poll)
            try:
                await loop.run_in_executor(None, self.holder.refresh)  # a load must not stop the requests
            except Exception as exc:  # keep watching whatever happened to one look
                self.log(f"error: looking at the aliases failed: {type(exc).__name__}: {exc}")


def mlflow_routes(worker: Worker) -> list:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def ping(request):
        return PlainTextResponse("\n")

    async def version(request):
        return PlainTextResponse(__version__)

    return [Route("/ping", ping), Route("/health", ping), Route("/version", version),
            Route("/invocations", Invocations(worker), methods=["POST"])]


class Invocations:
    """``POST /invocations`` as a plain ASGI app: Starlette's request and response objects, and a task for each
    wait, cost about as much as parsing and scoring a row with a linear model (0.4-0.5 ms of CPU a request)."""

    def __init__(self, worker: Worker):
        self.worker = worker

    async def __call__(self, scope, receive, send) -> None:
        worker = self.worker
        served = worker.holder.current
        try:
            body = await worker.body(header(scope, b"content-length"), body_chunks(receive))
            kind = content_kind(header(scope, b"content-type"))
            asked = query_value(scope, "probabilities")
            status, answer = 200, await worker.run(mlflow_answer, served, body, kind, asked, worker.limits.max_rows)
        except Failure as failure:
            status, answer = failure.status, {"error_code": ERROR_CODES.get(failure.status, "BAD_REQUEST"),
                                              "message": failure.message}
        await send_json(send, status, answer)


def header(scope, name: bytes) -> str:
    """The first value of the header ``name`` (lower case, as ASGI gives the names), or ""."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return ""


def query_value(scope, name: str) -> str | None:
    """The (last) value of a query parameter, as Starlette's ``query_params.get`` gives it."""
    query = scope.get("query_string", b"")
    if not query:
        return None
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)).get(name)


async def body_chunks(receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Failure(400, "the client closed the connection before the whole body arrived")
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def send_json(send, status: int, content: Any) -> None:
    """``content`` as JSON, as Starlette's JSONResponse writes it."""
    import json

    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def content_kind(content_type: str) -> str:
    media = content_type.partition(";")[0].strip().lower()
    if media in ("application/json", "text/csv"):
        return media.partition("/")[2]
    raise Failure(415, f"the content type is {media or 'not given'}; send application/json (MLflow's JSON) or "
                       "text/csv")


def mlflow_answer(served: Served, body: bytes, kind: str, asked: str | None, most_rows: int) -> dict[str, Any]:
    """``/invocations``: the body's rows scored, as ``{"predictions": [...]}`` (with ``probabilities`` and
    ``classes`` when asked for, by ``?probabilities=true`` or ``params: {"probabilities": true}``)."""
    from .scoring import check_finite, score

    if kind == "csv":
        frame, options = csv_frame(body, most_rows), {}
        check_finite(frame, served.model.features)
    else:
        columns, options = mlflow_request(decode_json(body))
        frame = frame_of(columns, most_rows)
    wanted = flag(asked, "probabilities") if asked is not None else options.get("probabilities", False)
    scored = score(served, frame)
    answer: dict[str, Any] = {"predictions": scored.predictions}
    if wanted and scored.probabilities is not None:
        answer.update(probabilities=scored.probabilities, classes=scored.classes)
    return answer


def v2_routes(worker: Worker) -> list:
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from .v2 import model_metadata

    async def server_metadata(request):
        return JSONResponse({"name": "emberflow", "version": __version__, "extensions": []})

    async def live(request):
        return JSONResponse({"live": True})

    async def ready(request):
        return JSONResponse({"ready": True})

    async def metadata(request):
        try:
            return JSONResponse(model_metadata(v2_served(worker, request)))
        except Failure as failure:
            return JSONResponse({"error": failure.message}, status_code=failure.status)

    async def model_ready(request):
        try:
            v2_served(worker, request)
        except Failure as failure:
            return JSONResponse({"error": failure.message}, status_code=failure.status)
        return JSONResponse({"name": request.path_params["name"], "ready": True})

    async def infer(request):
        try:
            served = v2_served(worker, request)
            body = await worker.body(request.headers.get("content-length", ""), request.stream())
            answer = await worker.run(v2_answer, served, body, worker.limits.max_rows)
        except Failure as failure:
            return JSONResponse({"error": failure.message}, status_code=failure.status)
        return JSONResponse(answer)

    model = "/v2/models/{name}"
    routes = [Route("/v2", server_metadata), Route("/v2/health/live", live), Route("/v2/health/ready", ready)]
    for base in (model, model + "/versions/{version}"):
        routes += [Route(base, metadata), Route(base + "/ready", model_ready),
                   Route(base + "/infer", infer, methods=["POST"])]
    return routes


def v2_served(worker: Worker, request) -> Served:
    """The served version, if the path names it (and the version, when it names one); 404 otherwise."""
    served = worker.holder.current
    name, version = request.path_params["name"], request.path_params.get("version")
    if name != served.name:
        raise Failure(404, f"no model '{name}' here; this server serves '{served.name}'")
    if version is not None and version != str(served.ref.version):
        raise Failure(404, f"model '{name}' is served at version {served.ref.version}, not {version}")
    return served


def v2_answer(served: Served, body: bytes, most_rows: int) -> dict[str, Any]:
    from .scoring import score
    from .v2 import infer_request, infer_response

    data = decode_json(body)
    columns, wanted = infer_request(data, most_rows)
    scored = score(served, frame_of(columns, most_rows))
    return infer_response(served, scored, wanted, data.get("id"))


async def not_found(request, exc):
    """Starlette's 404 and 405, in the shape of the protocol the path belongs to."""
    from starlette.responses import JSONResponse

    message = f"no {request.method} {request.url.path} here" if exc.status_code == 404 else \
        f"{request.url.path} does not take {request.method}"
    if request.url.path.startswith("/v2"):
        return JSONResponse({"error": message}, status_code=exc.status_code)
    return JSONResponse({"error_code": ERROR_CODES.get(exc.status_code, "BAD_REQUEST"), "message": message},
                        status_code=exc.status_code)


class TokenGuard:
    """ASGI middleware answering 401 to a request without ``Authorization: Bearer TOKEN`` (but for the health
    checks); the token is compared in constant time."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] not in OPEN_PATHS:
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                from starlette.responses import JSONResponse

                message = "this server needs its token: send the header Authorization: Bearer TOKEN"
                body = {"error": message} if scope["path"].startswith("/v2") else {
                    "error_code": "UNAUTHENTICATED", "message": message}
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)
