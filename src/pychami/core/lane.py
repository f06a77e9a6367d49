"""The node lane: node-facing requests answered without the ASGI stack.

A boot storm is thousands of nodes each asking for a handful of small, cached documents: the boot script,
cloud-init meta-data and vendor-data, a Range of the kernel. Through uvicorn, Starlette and FastAPI every
one of them costs a task, a scope, a middleware chain and two ``send`` round trips, several times what
the answer itself costs. Service modules therefore publish *lane handlers*: plain synchronous functions
``(NodeRequest) -> Reply | None`` that answer from in-process caches, and for requests with a body (the
phone-home POST) *body handlers*, which take the body once it is in and answer at once or with a
:class:`Deferred` (an answer written when a write, e.g. a group commit, is done). They are reached two
ways:

* :class:`LaneHttpProtocol`, the HTTP protocol of ``pychami serve``, calls them as soon as a request's
  headers are parsed (its body, for a body handler) and writes the answer straight to the socket (request
  id, metrics, access log and keep-alive handled here, as :class:`~pychami.core.web.RequestContextMiddleware`
  and uvicorn would);
* :class:`LaneMiddleware` calls the same handlers inside the ASGI app, for any other server and for
  tests that drive the app in-process.

A handler returns ``None`` to decline (not its path, a cache that must be loaded from the database first,
a response to stream): the request then takes the ordinary route through the app, which gives the same
answer. An answer is byte for byte what the app would send (``tests/core/test_lane.py`` compares them).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
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
#: The same for requests with a body (:data:`BodyHandler`).
LANE_BODY_ROUTES = "lane_body_routes"


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


@dataclass(slots=True)
class Deferred:
    """An answer that waits for a write: ``reply`` once ``done`` succeeds, the error's answer if it fails.
    (``done`` is a :class:`concurrent.futures.Future`, e.g. from ``core.batch.GroupCommit``.)"""

    done: Future[Any]
    reply: Reply


LaneHandler = Callable[[NodeRequest], "Reply | None"]
#: What a body handler answers once the body is in.
BodyConsumer = Callable[[bytes], "Reply | Deferred"]
#: A handler for requests with a body (POST): called when the headers are in, it declines (None) or
#: returns the function that takes the body and answers.
BodyHandler = Callable[[NodeRequest], "BodyConsumer | None"]
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
        *,
        body_routes: Mapping[tuple[str, str], BodyHandler] | None = None,
        max_body: int = 1024 * 1024,
    ) -> None:
        self._routes = _Routes(routes)
        self._body_routes = _Routes(body_routes or {})
        self.methods = frozenset(m for m, _ in routes)
        self.body_methods = frozenset(m for m, _ in body_routes or {})
        self.on_error = on_error
        self.observe = observe
        #: Larger bodies go through the app (which answers 413).
        self.max_body = max_body

    def __bool__(self) -> bool:
        return bool(self._routes or self._body_routes)

    def answer(self, request: NodeRequest) -> tuple[Reply, str] | None:
        """The reply and its route label (for metrics), or None when no handler answers."""
        for handler, label in self._routes.candidates(request):
            try:
                reply = handler(request)
            except PychamiError as exc:
                reply = self.on_error(exc)
            if reply is not None:
                return reply, label
        return None

    def take_body(self, request: NodeRequest) -> tuple[BodyConsumer, str] | None:
        """For a request with a body: what answers it once the body is in, and its route label."""
        for handler, label in self._body_routes.candidates(request):
            try:
                consumer = handler(request)
            except PychamiError as exc:
                consumer = _failing(self.on_error(exc))
            if consumer is not None:
                return consumer, label
        return None

    def consume(self, consumer: BodyConsumer, body: bytes) -> Reply | Deferred:
        """``consumer``'s answer to ``body``, errors rendered as the app renders them."""
        try:
            return consumer(body)
        except PychamiError as exc:
            return self.on_error(exc)

    def settled(self, deferred: Deferred) -> Reply:
        """The answer of a deferred whose write is done (as the app answers a failed write)."""
        exc = deferred.done.exception()
        if exc is None:
            return deferred.reply
        if isinstance(exc, PychamiError):
            return self.on_error(exc)
        log.error("lane write failed", error=repr(exc))
        return Reply(500, b"Internal Server Error", "text/plain")


class _Routes:
    """Handlers by exact path, then by the longest matching prefix (``/a/*``)."""

    def __init__(self, routes: Mapping[tuple[str, str], Any]) -> None:
        self.exact: dict[tuple[str, str], tuple[Any, str]] = {}
        prefixes: list[tuple[str, str, Any, str]] = []
        for (method, path), handler in routes.items():
            if path.endswith("*"):
                prefixes.append((method, path[:-1], handler, path))
            else:
                self.exact[(method, path)] = (handler, path)
        prefixes.sort(key=lambda p: -len(p[1]))
        self.prefixes = prefixes

    def __bool__(self) -> bool:
        return bool(self.exact or self.prefixes)

    def candidates(self, request: NodeRequest) -> Iterable[tuple[Any, str]]:
        found = self.exact.get((request.method, request.path))
        if found is not None:
            return (found,)
        return [
            (h, label)
            for m, prefix, h, label in self.prefixes
            if m == request.method and request.path.startswith(prefix)
        ]


def _failing(reply: Reply) -> BodyConsumer:
    return lambda _body: reply


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
        if scope["type"] == "http":
            method = scope["method"]
            if method in self.lane.methods:
                found = self.lane.answer(node_request(Request(scope, receive)))
                if found is not None:
                    await self._send(scope, receive, send, *found)
                    return
            elif method in self.lane.body_methods:
                request = Request(scope, receive)
                taken = self.lane.take_body(node_request(request))
                if taken is not None:
                    consumer, label = taken
                    answer = self.lane.consume(consumer, await request.body())
                    if isinstance(answer, Deferred):
                        with contextlib.suppress(Exception):  # settled() answers a failed write
                            await asyncio.wrap_future(answer.done)
                        answer = self.lane.settled(answer)
                    await self._send(scope, receive, send, answer, label)
                    return
        await self.app(scope, receive, send)

    async def _send(self, scope: Scope, receive: Receive, send: Send, reply: Reply, label: str) -> None:
        route = self._labels.get(label)
        if route is None:
            route = self._labels[label] = _LaneRoute(label)
        scope["route"] = route
        await reply.response()(scope, receive, send)


#: Methods the protocol asks the lane handlers about (requests with a body go to the body handlers).
_LANE_METHODS = frozenset({b"GET", b"HEAD"})


class _Waiting:
    """Stands in for uvicorn's request cycle while a lane answer waits for its write: a request pipelined
    behind it is queued by uvicorn (it sees a response in progress), and a lost connection is noted."""

    __slots__ = ("disconnected", "keep_alive", "message_event", "response_complete")

    def __init__(self, keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.response_complete = False
        self.disconnected = False
        self.message_event = asyncio.Event()


class LaneHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with lane answers written by the protocol itself.

    ``GET``/``HEAD``: answered at ``on_headers_complete``. ``POST`` to a body route: the body is collected
    and answered at ``on_message_complete``, at once or, for a :class:`Deferred`, when its write is done
    (meanwhile a :class:`_Waiting` cycle makes uvicorn queue what follows on the connection). A request is
    taken by the lane only when nothing else is in flight on the connection (no response pending, nothing
    pipelined, the socket not pushing back), so answers never overtake one another; everything else, and
    whatever the lane declines, goes through uvicorn and the app as usual. Use :func:`lane_protocol`.

    This builds on uvicorn's protocol internals (the versions in ``ci/constraints.txt``);
    ``tests/core/test_lane.py`` checks its answers against uvicorn's own protocol byte for byte.
    """

    lane: Lane
    new_request_id: Callable[[], str]

    def on_message_begin(self) -> None:
        self._lane_answered = False
        self._lane_body: tuple[BodyConsumer, NodeRequest, str, float, bytearray] | None = None
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if self._answer_from_lane():
            self._lane_answered = True
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self._lane_body is not None:
            self._lane_body[4].extend(body)
        elif not self._lane_answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._lane_body is not None:
            consumer, request, label, start, body = self._lane_body
            self._lane_body = None
            self._consume(consumer, request, label, start, bytes(body))
        elif not self._lane_answered:
            super().on_message_complete()

    def _free(self) -> bool:
        """Nothing in flight on the connection, so a lane answer cannot overtake another."""
        cycle = self.cycle
        return (
            not self.pipeline
            and not self.flow.write_paused
            and (cycle is None or cycle.response_complete)
            and not self.parser.should_upgrade()
        )

    def _request(self, method: bytes) -> NodeRequest:
        url = httptools.parse_url(self.url)
        path = url.path.decode("ascii")
        if "%" in path:
            path = urllib.parse.unquote(path)
        return NodeRequest(
            method=method.decode("ascii"),
            path=strip_slashes(path),
            query=url.query or b"",
            headers=dict(reversed(self.headers)),
            client=self.client[0] if self.client else None,
        )

    def _answer_from_lane(self) -> bool:
        start = time.perf_counter()
        method = self.parser.get_method()
        if method in _LANE_METHODS:
            if not self._free():
                return False
            request = self._request(method)
            try:
                found = self.lane.answer(request)
            except Exception:  # a bug in a handler: let the app answer (and log) it
                log.exception("lane handler failed; answering through the app", path=request.path)
                return False
            if found is None:
                return False
            self._write(request, *found, self._keep_alive(), start)
            return True
        if self.lane.body_methods and method.decode("ascii") in self.lane.body_methods and self._free():
            request = self._request(method)
            length = request.headers.get(b"content-length", b"")
            if (
                not length.isdigit()
                or int(length) > self.lane.max_body
                or b"transfer-encoding" in request.headers
                or b"expect" in request.headers
            ):
                return False  # chunked, too large or 100-continue: the app's to answer
            try:
                taken = self.lane.take_body(request)
            except Exception:
                log.exception("lane handler failed; answering through the app", path=request.path)
                return False
            if taken is None:
                return False
            self._lane_body = (taken[0], request, taken[1], start, bytearray())
            return True
        return False

    def _keep_alive(self) -> bool:
        return self.parser.get_http_version() != "1.0" and self.parser.should_keep_alive()

    def _consume(
        self, consumer: BodyConsumer, request: NodeRequest, label: str, start: float, body: bytes
    ) -> None:
        keep_alive = self._keep_alive()
        try:
            answer = self.lane.consume(consumer, body)
        except Exception:  # the body is read: the app cannot take the request over any more
            log.exception("lane handler failed", path=request.path)
            answer = Reply(500, b"Internal Server Error", "text/plain")
        if isinstance(answer, Reply):
            self._write(request, answer, label, keep_alive, start)
            return
        waiting = _Waiting(keep_alive)
        self.cycle = waiting  # type: ignore[assignment]
        deferred = answer

        def settled(_done: object) -> None:
            waiting.response_complete = True
            if waiting.disconnected or self.transport.is_closing():
                return
            self._write(request, self.lane.settled(deferred), label, waiting.keep_alive, start, deferred=True)

        done = asyncio.wrap_future(deferred.done, loop=self.loop)
        done.add_done_callback(settled)

    def _write(
        self,
        request: NodeRequest,
        reply: Reply,
        label: str,
        keep_alive: bool,
        start: float,
        *,
        deferred: bool = False,
    ) -> None:
        """Write ``reply`` and finish the request as uvicorn finishes a response."""
        request_id = request.headers.get(b"x-request-id", b"")[:64] or self.new_request_id().encode("latin-1")
        out = [STATUS_LINE[reply.status]]
        for name, value in (*self.server_state.default_headers, *reply.raw_headers()):
            out += (name, b": ", value, b"\r\n")
        out += (b"x-request-id: ", request_id, b"\r\n")
        if not keep_alive:
            out.append(b"connection: close\r\n")
        out.append(b"\r\n")
        if request.method != "HEAD":
            out.append(reply.body)
        self.transport.write(b"".join(out))
        if not keep_alive:
            self.transport.close()
        if deferred:
            # As uvicorn ends a response: count it, start what was queued behind it or the keep-alive timer.
            self.on_response_complete()
        else:
            self.server_state.total_requests += 1
            if keep_alive and self.timeout_keep_alive_task is None:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self.timeout_keep_alive_handler
                )
        if self.lane.observe is not None:
            self.lane.observe(request, label, reply.status, time.perf_counter() - start)


def lane_protocol(lane: Lane, new_request_id: Callable[[], str]) -> type[asyncio.Protocol]:
    """A :class:`LaneHttpProtocol` class bound to ``lane`` (uvicorn's ``Config(http=...)``)."""
    attrs: dict[str, Any] = {"lane": lane, "new_request_id": staticmethod(new_request_id)}
    return type("PychamiHttpProtocol", (LaneHttpProtocol,), attrs)
