"""The node lane: node-facing requests answered without the ASGI stack.

A boot storm is thousands of nodes each asking for a handful of small, cached documents: the boot script,
cloud-init meta-data and vendor-data, a Range of the kernel. Through uvicorn, Starlette and FastAPI every
one of them costs a task, a scope, a middleware chain and two ``send`` round trips, several times what
the answer itself costs. Service modules therefore publish *lane handlers*: plain synchronous functions
``(NodeRequest) -> Reply | None`` that answer from in-process caches. They are reached two ways:

* :class:`LaneHttpProtocol`, the HTTP protocol of ``pychami serve``, calls them as soon as a ``GET`` or
  ``HEAD`` request's headers are parsed and writes the answer straight to the socket (request id,
  metrics and keep-alive handled here, as :class:`~pychami.core.web.RequestContextMiddleware` and
  uvicorn would);
* :class:`LaneMiddleware` calls the same handlers inside the ASGI app, for any other server and for
  tests that drive the app in-process.

A handler returns ``None`` to decline (not its path, a cache that must be loaded from the database first,
a response to stream): the request then takes the ordinary route through the app, which gives the same
answer. An answer is byte for byte what the app would send (``tests/core/test_lane.py`` compares them).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httptools
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from pychami.core.errors import PychamiError
from pychami.core.logs import get_logger

log = get_logger("pychami.lane")

#: ``AppContext.registry`` key where service modules publish lane handlers:
#: ``(method, path) -> handler`` for one path, ``(method, prefix + "*") -> handler`` for every path under
#: ``prefix`` (the longest prefix is asked first).
LANE_ROUTES = "lane_routes"


@dataclass(slots=True)
class NodeRequest:
    """What a lane handler sees of a request."""

    method: str
    #: Percent-decoded path, trailing slash stripped (chi's StripSlashes, as the app does).
    path: str
    query: bytes
    #: Lower-case names; the first value of a repeated header (as Starlette's ``Headers.get``).
    headers: Mapping[bytes, bytes]
    #: The peer's address (the proxy's, behind a reverse proxy).
    client: str | None

    def header(self, name: bytes) -> str:
        return self.headers.get(name, b"").decode("latin-1")


@dataclass(slots=True)
class Reply:
    """A complete small answer, rendered the way :class:`starlette.responses.Response` renders it."""

    status: int = 200
    body: bytes = b""
    media_type: str | None = None
    #: Extra headers (lower-case names) in order, before the length and type.
    headers: list[tuple[str, str]] = field(default_factory=list)

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Starlette's ``Response.init_headers``: given headers, then content-length unless given (not for
        1xx, 204, 304), then content-type unless given (``; charset=utf-8`` added to ``text/*``)."""
        raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        names = {k for k, _ in raw}
        if b"content-length" not in names and not (self.status < 200 or self.status in (204, 304)):
            raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        media = self.media_type
        if media is not None and b"content-type" not in names:
            if media.startswith("text/") and "charset=" not in media.lower():
                media += "; charset=utf-8"
            raw.append((b"content-type", media.encode("latin-1")))
        return raw

    def response(self) -> Response:
        """The same answer as a Starlette response (the ASGI path)."""
        response = Response(self.body, status_code=self.status)
        response.raw_headers = self.raw_headers()
        return response


LaneHandler = Callable[[NodeRequest], "Reply | None"]
#: Turns a :class:`PychamiError` into the app's answer (``core.web.error_reply``).
ErrorRenderer = Callable[[PychamiError], Reply]
#: Called after each answer written by the protocol: ``(request, route label, status, seconds)``
#: (``core.web.lane_observer``: metrics and the access log).
Observer = Callable[[NodeRequest, str, int, float], None]


class Lane:
    """The lane handlers of one app, looked up by method and path."""

    def __init__(
        self,
        routes: Mapping[tuple[str, str], LaneHandler],
        on_error: ErrorRenderer,
        observe: Observer | None = None,
    ) -> None:
        self.exact: dict[tuple[str, str], tuple[LaneHandler, str]] = {}
        prefixes: list[tuple[str, str, LaneHandler, str]] = []
        for (method, path), handler in routes.items():
            if path.endswith("*"):
                prefixes.append((method, path[:-1], handler, path))
            else:
                self.exact[(method, path)] = (handler, path)
        prefixes.sort(key=lambda p: -len(p[1]))
        self.prefixes = prefixes
        self.methods = frozenset(m for m, _ in routes)
        self.on_error = on_error
        self.observe = observe

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)

    def answer(self, request: NodeRequest) -> tuple[Reply, str] | None:
        """The reply and its route label (for metrics), or None when no handler answers."""
        found = self.exact.get((request.method, request.path))
        candidates: Iterable[tuple[LaneHandler, str]]
        if found is not None:
            candidates = (found,)
        else:
            candidates = [
                (h, label)
                for m, prefix, h, label in self.prefixes
                if m == request.method and request.path.startswith(prefix)
            ]
        for handler, label in candidates:
            try:
                reply = handler(request)
            except PychamiError as exc:
                reply = self.on_error(exc)
            if reply is not None:
                return reply, label
        return None


def node_request(request: Request) -> NodeRequest:
    """The lane's view of a Starlette request (routes that share a lane handler's code)."""
    scope = request.scope
    client = scope.get("client")
    return NodeRequest(
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b""),
        headers=dict(reversed(scope.get("headers") or ())),
        client=client[0] if client else None,
    )


def strip_slashes(path: str) -> str:
    """chi's StripSlashes, as the app applies it before routing."""
    if len(path) > 1 and path.endswith("/"):
        return path.rstrip("/") or "/"
    return path


class _LaneRoute:
    """What ``scope["route"]`` holds for a lane answer (the metrics label reads ``.path``)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


class LaneMiddleware:
    """The lane inside an ASGI app (inside ``RequestContextMiddleware``, which adds the request id and
    counts the request): for servers other than ``pychami serve`` and for in-process tests."""

    def __init__(self, app: ASGIApp, lane: Lane) -> None:
        self.app = app
        self.lane = lane
        self._labels: dict[str, _LaneRoute] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in self.lane.methods:
            found = self.lane.answer(node_request(Request(scope, receive)))
            if found is not None:
                reply, label = found
                route = self._labels.get(label)
                if route is None:
                    route = self._labels[label] = _LaneRoute(label)
                scope["route"] = route
                await reply.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


#: Methods the protocol answers from the lane (requests with a body always take the ASGI path).
_LANE_METHODS = frozenset({b"GET", b"HEAD"})


class LaneHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with lane answers written at ``on_headers_complete``.

    A request is answered from the lane only when nothing else is in flight on the connection (no ASGI
    response pending, nothing pipelined, the socket not pushing back), so answers never overtake one
    another. Everything else, and whatever the lane declines, goes through uvicorn and the app as usual.
    Use :func:`lane_protocol` to bind a lane.
    """

    lane: Lane
    new_request_id: Callable[[], str]

    def on_message_begin(self) -> None:
        self._lane_answered = False
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if self._answer_from_lane():
            self._lane_answered = True
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._lane_answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._lane_answered:
            super().on_message_complete()

    def _answer_from_lane(self) -> bool:
        start = time.perf_counter()
        parser = self.parser
        method = parser.get_method()
        if method not in _LANE_METHODS or parser.should_upgrade() or self.pipeline or self.flow.write_paused:
            return False
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            return False
        url = httptools.parse_url(self.url)
        raw_path = url.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        headers = dict(reversed(self.headers))
        text_method = method.decode("ascii")
        request = NodeRequest(
            method=text_method,
            path=strip_slashes(path),
            query=url.query or b"",
            headers=headers,
            client=self.client[0] if self.client else None,
        )
        try:
            found = self.lane.answer(request)
        except Exception:  # a bug in a handler: let the app answer (and log) it
            log.exception("lane handler failed; answering through the app", path=request.path)
            return False
        if found is None:
            return False
        reply, label = found
        http_version = parser.get_http_version()
        keep_alive = http_version != "1.0" and parser.should_keep_alive()
        request_id = headers.get(b"x-request-id", b"")[:64] or self.new_request_id().encode("latin-1")
        out = [STATUS_LINE[reply.status]]
        for name, value in (*self.server_state.default_headers, *reply.raw_headers()):
            out += (name, b": ", value, b"\r\n")
        out += (b"x-request-id: ", request_id, b"\r\n")
        if not keep_alive:
            out.append(b"connection: close\r\n")
        out.append(b"\r\n")
        if text_method != "HEAD":
            out.append(reply.body)
        self.transport.write(b"".join(out))
        self.server_state.total_requests += 1
        if not keep_alive:
            self.transport.close()
        elif self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )
        if self.lane.observe is not None:
            self.lane.observe(request, label, reply.status, time.perf_counter() - start)
        return True


def lane_protocol(lane: Lane, new_request_id: Callable[[], str]) -> type[asyncio.Protocol]:
    """A :class:`LaneHttpProtocol` class bound to ``lane`` (uvicorn's ``Config(http=...)``)."""
    attrs: dict[str, Any] = {"lane": lane, "new_request_id": staticmethod(new_request_id)}
    return type("PychamiHttpProtocol", (LaneHttpProtocol,), attrs)
