"""HTTP plumbing shared by every service: JSON and problem responses, error mapping, auth dependency,
request ids, metrics, body size limit, health.

This is the one place where :class:`~pychami.core.errors.PychamiError` becomes an HTTP answer.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pychami.core.auth import Authorizer, Principal
from pychami.core.errors import PychamiError
from pychami.core.lane import NodeRequest, Reply

PROBLEM_TYPE = "application/problem+json"
log = structlog.get_logger("pychami.http")

#: Request ids: a random per-process prefix plus a counter. ``uuid4()`` per request costs a
#: ``getrandom`` syscall, which dominated the boot-script path in a sandboxed kernel.
_ID_PREFIX = uuid.uuid4().hex[:16]
_ID_COUNTER = itertools.count()


def new_request_id() -> str:
    """A request id for a request that brought none."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


def dumps(content: Any) -> bytes:
    """Encode like Go's ``json.Encoder``: compact, UTF-8, trailing newline."""
    return (json.dumps(content, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


class GoJSONResponse(JSONResponse):
    """JSON the way the upstream Go services write it."""

    def render(self, content: Any) -> bytes:
        return dumps(content)


def problem_reply(status: int, detail: str, headers: dict[str, str] | None = None) -> Reply:
    """An RFC 7807 problem document as upstream writes it (lower-case keys, ``instance`` omitted)."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "detail": detail, "status": status}
    extra = [(k.lower(), v) for k, v in (headers or {}).items()]
    return Reply(status, dumps(body), PROBLEM_TYPE, extra)


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    """:func:`problem_reply` as a response."""
    return problem_reply(status, detail, headers).response()


def message(text: str, status: int = 200) -> Response:
    """Upstream's success body ``{"code":0,"message":...}``."""
    return GoJSONResponse({"code": 0, "message": text}, status_code=status)


def error_reply(exc: PychamiError) -> Reply:
    if exc.status == 401:
        # Upstream's jwtauth middleware answers 401 in plain text.
        return Reply(401, (exc.detail + "\n").encode(), "text/plain", [("www-authenticate", "Bearer")])
    return problem_reply(exc.status, exc.detail)


def error_response(exc: PychamiError) -> Response:
    return error_reply(exc).response()


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = ".".join(loc)
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            return f"error decoding JSON: {ctx.get('error', msg)}"
        parts.append(f"{where}: {msg}" if where else msg)
    return "invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to a problem document in one place."""

    async def on_pychami(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, PychamiError)
        return error_response(exc)

    async def on_validation(_req: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem(400, _validation_detail(exc))

    async def on_http(req: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return PlainTextResponse("404 page not found\n", status_code=404)
        if exc.status_code == 405:
            allow = (exc.headers or {}).get("Allow", "")
            return problem(405, f"allow {allow.replace(', ', ',')}", headers={"Allow": allow})
        return problem(exc.status_code, str(exc.detail))

    app.add_exception_handler(PychamiError, on_pychami)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def bearer_token(request: Request) -> str | None:
    """The token from ``Authorization: Bearer`` or, as upstream's jwtauth allows, the ``jwt`` cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return request.cookies.get("jwt")


def require(scope: str) -> Callable[[Request], Awaitable[Principal | None]]:
    """A FastAPI dependency demanding a valid token with ``scope`` (401 / 403 otherwise)."""

    async def dependency(request: Request) -> Principal | None:
        authorizer: Authorizer = request.app.state.authorizer
        return authorizer.authorize(bearer_token(request), scope)

    dependency.__name__ = f"require_{scope.replace(':', '_').replace('-', '_')}"
    return dependency


class Metrics:
    """The Prometheus collectors of one process (its own registry, so tests can build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "pychami_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "pychami_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.db_pool = Gauge("pychami_db_pool_connections", "DB pool", ["state"], registry=self.registry)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request; label children are looked up once per (method, route, status)."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def access_line(method: str, path: str, status: int, seconds: float, client: str | None) -> None:
    """The access log line of one request (log level DEBUG)."""
    log.info(
        "request", method=method, path=path, status=status, ms=round(seconds * 1000, 2), client=client or ""
    )


def lane_observer(metrics: Metrics, access_log: bool) -> Callable[[NodeRequest, str, int, float], None]:
    """What the lane protocol does after each answer: what :class:`RequestContextMiddleware` does."""

    def observe(request: NodeRequest, route: str, status: int, seconds: float) -> None:
        metrics.observe(request.method, route, status, seconds)
        if access_log:
            access_line(request.method, request.path, status, seconds, request.client)

    return observe


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM = b"application/x-www-form-urlencoded"
_JSON_ONLY_PREFIXES = ("/hsm/", "/boot/")


class RequestContextMiddleware:
    """Request id, body-size limit, access log and metrics, as plain ASGI (no per-request task)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body: int, access_log: bool = False) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if len(path) > 1 and path.endswith("/"):
            # chi's StripSlashes: upstream clients call e.g. /hsm/v2/Inventory/EthernetInterfaces/
            scope = {**scope, "path": path.rstrip("/") or "/"}
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"")
        if (
            scope.get("method") in _BODY_METHODS
            and (not ctype or ctype.startswith(_FORM))
            and path.startswith(_JSON_ONLY_PREFIXES)
        ):
            # Upstream's SMD and BSS decode JSON whatever the content type (curl -d sends a form type).
            # Not for cloud-init, whose phone-home really is a form post.
            headers[b"content-type"] = b"application/json"
            scope = {**scope, "headers": list(headers.items())}
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or new_request_id()
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self._too_large(send, request_id)
            return
        received = 0
        limit = self.max_body

        async def limited_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return msg

        status = 500

        async def send_wrapper(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
                msg["headers"] = [*msg.get("headers", []), (b"x-request-id", request_id.encode("latin-1"))]
            await send(msg)

        start = time.perf_counter()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, limited_receive, send_wrapper)
        except _BodyTooLarge:
            await self._too_large(send, request_id)
            status = 413
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.observe(method, template, status, elapsed)
            if self.access_log:
                access_line(
                    method, scope.get("path", ""), status, elapsed, (scope.get("client") or ("", 0))[0]
                )
            structlog.contextvars.unbind_contextvars("request_id")

    async def _too_large(self, send: Send, request_id: str) -> None:
        resp = problem(413, f"request body exceeds the limit of {self.max_body} bytes")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [*resp.raw_headers, (b"x-request-id", request_id.encode("latin-1"))],
            }
        )
        await send({"type": "http.response.body", "body": resp.body})


class _BodyTooLarge(Exception):
    pass


def metrics_response(metrics: Metrics) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
