"""The node lane: answers written by the HTTP protocol are the app's answers, byte for byte.

Two real uvicorn servers serve one app: one with uvicorn's own httptools protocol (every request through
ASGI, where :class:`LaneMiddleware` and the routes answer), one with :class:`LaneHttpProtocol` (what
``pychami serve`` runs). The same raw requests, from the same node addresses, must get the same bytes
from both (but for the date and the generated request id), and the lane server must not have handed
the lane's requests to the app at all.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from pychami.core.errors import Unavailable
from pychami.core.lane import (
    LANE_ROUTES,
    Deferred,
    Lane,
    LaneHttpProtocol,
    NodeRequest,
    Reply,
    lane_protocol,
    strip_slashes,
)
from pychami.core.settings import load_settings
from pychami.core.storage import LocalObjectStore
from pychami.core.web import Metrics, error_reply, lane_observer, new_request_id
from pychami.server import http_protocol
from tests.cloudinit.conftest import (
    LiveServer,
    compute_group,
    loopback_of,
    make_app,
    scenario_defaults,
    serve,
)
from tests.conftest import issue

KEY = "efi-images/compute/debug/vmlinuz-6.1.0-lane"
MAC = "52:54:00:be:ef:01"
NODE = loopback_of(1)
UNKNOWN = "127.0.1.99"


class CountingApp:
    """The app, counting the requests that reach it (the lane server should not pass lane requests on)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


@pytest.fixture
def servers(tmp_path: Path, db: Any) -> Iterator[tuple[LiveServer, LiveServer, CountingApp, FastAPI]]:
    app = make_app(tmp_path, db)
    counting = CountingApp(app)
    data = bytes(range(256)) * 400
    blob = tmp_path / "blob"
    blob.write_bytes(data)
    LocalObjectStore(app.state.ctx.settings.data_dir / "objects", "boot-images").put_file(KEY, blob)
    with (
        serve(app) as plain,
        serve(counting, http=lane_protocol(app.state.lane, new_request_id), lifespan="off") as lane,
    ):
        token = issue(app, "admin")
        with TestClient(app) as admin:
            admin.headers["Authorization"] = f"Bearer {token}"
            defaults = admin.post("/cloud-init/admin/cluster-defaults", json=scenario_defaults())
            assert defaults.status_code == 201
            assert admin.put("/cloud-init/admin/groups/compute", json=compute_group()).status_code == 201
            params = {"macs": [MAC], "kernel": "http://k/vmlinuz", "initrd": "http://k/initrd", "params": "a"}
            assert admin.put("/boot/v1/bootparameters", json=params).status_code == 200
        yield plain, lane, counting, app


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def exchange(server: LiveServer, source: str, data: bytes) -> bytes:
    """Send raw bytes from ``source``; everything the server writes until it closes the connection."""
    address = ("127.0.0.1", port_of(server))
    with socket.create_connection(address, timeout=10, source_address=(source, 0)) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def normalised(raw: bytes) -> bytes:
    raw = re.sub(rb"date: [^\r]*\r\n", b"date: -\r\n", raw)
    return re.sub(rb"x-request-id: [0-9a-f]{32}\r\n", b"x-request-id: -\r\n", raw)


def get(path: str, *extra: str, method: str = "GET", close: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: pychami", *extra]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


#: Every lane route, its errors and edge cases: (source address, raw request).
CASES = {
    "boot script": (NODE, get(f"/boot/v1/bootscript?mac={MAC}")),
    "boot script, unknown MAC": (NODE, get("/boot/v1/bootscript?mac=52:54:00:00:00:99")),
    "boot script, bad MAC": (NODE, get("/boot/v1/bootscript?mac=zz")),
    "boot script, no parameter": (NODE, get("/boot/v1/bootscript")),
    "boot script, json": (NODE, get(f"/boot/v1/bootscript?mac={MAC}&json=1")),
    "meta-data": (NODE, get("/cloud-init/meta-data")),
    "meta-data, trailing slash": (NODE, get("/cloud-init/meta-data/")),
    "meta-data, unknown address": (UNKNOWN, get("/cloud-init/meta-data")),
    "vendor-data": (NODE, get("/cloud-init/vendor-data")),
    "user-data": (UNKNOWN, get("/cloud-init/user-data")),
    "group": (NODE, get("/cloud-init/compute.yaml")),
    "group, not the node's": (NODE, get("/cloud-init/io.yaml")),
    "group, percent-encoded": (NODE, get("/cloud-init/comp%75te.yaml")),
    "kernel HEAD": (NODE, get(f"/boot-images/{KEY}", method="HEAD")),
    "kernel Range": (NODE, get(f"/boot-images/{KEY}", "Range: bytes=0-65535")),
    "kernel open Range": (NODE, get(f"/boot-images/{KEY}", "Range: bytes=100000-")),
    "missing file": (NODE, get("/boot-images/efi-images/none")),
    "request id kept": (NODE, get("/cloud-init/user-data", "X-Request-Id: from-the-client")),
    "HTTP/1.0": (NODE, b"GET /cloud-init/meta-data HTTP/1.0\r\n\r\n"),
    "keep-alive then close": (
        NODE,
        get(f"/boot-images/{KEY}", method="HEAD", close=False) + get("/cloud-init/meta-data"),
    ),
    "pipelined: app route, then lane": (NODE, get("/healthz", close=False) + get("/cloud-init/vendor-data")),
    "pipelined: lane, app route, lane": (
        NODE,
        get("/cloud-init/user-data", close=False)
        + get("/healthz", close=False)
        + get("/cloud-init/meta-data"),
    ),
}


def post(path: str, body: bytes, *extra: str, close: bool = True) -> bytes:
    ctype = "Content-Type: application/x-www-form-urlencoded"
    head = get(path, ctype, f"Content-Length: {len(body)}", *extra, method="POST", close=close)
    return head + body


FORM = b"pub_key_ed25519=ssh-ed25519+AAAA&hostname=nid001&instance_id=i-1"
CASES |= {
    "phone-home": (NODE, post("/cloud-init/phone-home/i-1", FORM)),
    "phone-home, trailing slash": (NODE, post("/cloud-init/phone-home/i-1/", FORM)),
    "phone-home, empty body": (NODE, post("/cloud-init/phone-home/i-1", b"")),
    "phone-home, unknown address": (UNKNOWN, post("/cloud-init/phone-home/i-1", FORM)),
    "phone-home, JSON": (
        NODE,
        post("/cloud-init/phone-home/i-1", b"{}", "X-Ignored: 1").replace(b"x-www-form-urlencoded", b"json"),
    ),
    "phone-home, not UTF-8": (NODE, post("/cloud-init/phone-home/i-1", b"hostname=\xff")),
    "phone-home, then a pipelined GET": (
        NODE,
        post("/cloud-init/phone-home/i-1", FORM, close=False) + get("/cloud-init/meta-data"),
    ),
    "phone-home, chunked": (
        NODE,
        get(
            "/cloud-init/phone-home/i-1",
            "Content-Type: application/x-www-form-urlencoded",
            "Transfer-Encoding: chunked",
            method="POST",
        )
        + b"%x\r\n%s\r\n0\r\n\r\n" % (len(FORM), FORM),
    ),
    "phone-home, too large": (
        NODE,
        get("/cloud-init/phone-home/i-1", "Content-Length: 999999999", method="POST"),
    ),
    "POST elsewhere": (NODE, post("/cloud-init/other", FORM)),
}

#: What reaches the app on the lane server: a request pipelined behind one the app is still answering
#: waits its turn through the app, so that answers keep their order.
THROUGH_APP = {
    "pipelined: app route, then lane": ["/healthz", "/cloud-init/vendor-data"],
    "pipelined: lane, app route, lane": ["/healthz", "/cloud-init/meta-data"],
    # queued behind the phone-home that waits for its commit
    "phone-home, then a pipelined GET": ["/cloud-init/meta-data"],
    "phone-home, chunked": ["/cloud-init/phone-home/i-1"],
    "phone-home, too large": ["/cloud-init/phone-home/i-1"],
    "POST elsewhere": ["/cloud-init/other"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_lane_answers_are_the_apps_answers(
    servers: tuple[LiveServer, LiveServer, CountingApp, FastAPI], case: str
) -> None:
    """The same request gets the same bytes from uvicorn + ASGI and from the lane protocol, and the lane
    server answers lane routes without calling the app."""
    plain, lane, counting, _app = servers
    source, request = CASES[case]
    expected = exchange(plain, source, request)
    counting.paths.clear()
    got = exchange(lane, source, request)
    assert expected.startswith(b"HTTP/1.1 ")
    assert normalised(got) == normalised(expected)
    assert counting.paths == THROUGH_APP.get(case, [])


def test_a_lane_answer_is_counted_and_carries_a_request_id(
    servers: tuple[LiveServer, LiveServer, CountingApp, FastAPI],
) -> None:
    _plain, lane, _counting, app = servers
    raw = exchange(lane, NODE, get("/cloud-init/meta-data"))
    assert re.search(rb"\r\nx-request-id: [0-9a-f]{32}\r\n", raw)
    assert b"hostname: nid001" in raw
    with TestClient(app) as client:
        metrics = client.get("/metrics").text
    counted = 'pychami_http_requests_total{method="GET",route="/cloud-init/meta-data",status="200"} 1.0'
    assert counted in metrics


def test_bodies_after_a_lane_answer_are_skipped(
    servers: tuple[LiveServer, LiveServer, CountingApp, FastAPI],
) -> None:
    """A GET with a body is answered by the lane; the body is not taken for the next request."""
    _plain, lane, counting, _app = servers
    body_get = get("/cloud-init/user-data", "Content-Length: 5", close=False) + b"hello"
    raw = exchange(lane, NODE, body_get + get("/cloud-init/user-data"))
    assert raw.count(b"HTTP/1.1 200 OK") == 2
    assert counting.paths == []


def test_node_documents_wait_for_a_cold_cache_through_the_app(tmp_path: Path, db: Any) -> None:
    """Before the caches are loaded the lane declines, and the app's route (which loads them) answers."""
    app = make_app(tmp_path, db)
    counting = CountingApp(app)
    with serve(counting, http=lane_protocol(app.state.lane, new_request_id), lifespan="off") as lane:
        raw = exchange(lane, NODE, get("/cloud-init/meta-data"))
        assert raw.startswith(b"HTTP/1.1 200 OK") and b"instance-id: " in raw
        assert counting.paths == ["/cloud-init/meta-data"]
        counting.paths.clear()
        raw = exchange(lane, NODE, get("/cloud-init/meta-data"))
        assert raw.startswith(b"HTTP/1.1 200 OK") and counting.paths == []


def test_a_failing_handler_falls_back_to_the_app() -> None:
    """An unexpected exception in a lane handler is the app's to answer (it logs it and sends a 500)."""

    def broken(request: NodeRequest) -> Reply | None:
        raise RuntimeError("bug")

    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    lane = Lane({("GET", "/x"): broken}, error_reply)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(serve(app, http=lane_protocol(lane, new_request_id), lifespan="off"))
        raw = exchange(server, "127.0.0.1", get("/x"))
    assert raw.startswith(b"HTTP/1.1 500 ")
    assert seen == ["/x"]


def test_lane_lookup_exact_then_longest_prefix() -> None:
    calls: list[str] = []

    def named(name: str, answer: bool) -> Any:
        def handler(request: NodeRequest) -> Reply | None:
            calls.append(name)
            return Reply(200, name.encode()) if answer else None

        return handler

    lane = Lane(
        {
            ("GET", "/a/b"): named("exact", True),
            ("GET", "/a/*"): named("short", True),
            ("GET", "/a/b/*"): named("long", False),
        },
        error_reply,
    )

    def ask(path: str, method: str = "GET") -> tuple[Reply, str] | None:
        return lane.answer(NodeRequest(method, path, b"", {}, None))

    assert ask("/a/b") is not None and calls == ["exact"]
    calls.clear()
    found = ask("/a/b/c")
    assert found is not None and found[1] == "/a/*" and calls == ["long", "short"]
    assert ask("/a/b", "HEAD") is None
    assert ask("/z") is None


def test_reply_headers_follow_starlette() -> None:
    """Length before type, charset added to text types, none for 204, given headers first."""
    assert Reply(200, b"abc", "text/plain").raw_headers() == [
        (b"content-length", b"3"),
        (b"content-type", b"text/plain; charset=utf-8"),
    ]
    assert Reply(204).raw_headers() == []
    assert Reply(200, b"", "application/octet-stream", [("content-length", "9")]).raw_headers() == [
        (b"content-length", b"9"),
        (b"content-type", b"application/octet-stream"),
    ]
    assert Reply(200, b"x", "text/plain; charset=latin-1").raw_headers()[1] == (
        b"content-type",
        b"text/plain; charset=latin-1",
    )


def test_strip_slashes() -> None:
    assert strip_slashes("/") == "/"
    assert strip_slashes("/a/") == "/a"
    assert strip_slashes("/a//") == "/a"
    assert strip_slashes("/a") == "/a"


def test_lane_answers_are_in_the_access_log_at_debug(tmp_path: Path, db: Any) -> None:
    """With log level DEBUG the lane logs each answer as the request middleware does."""
    app = make_app(tmp_path, db)
    metrics = Metrics()
    lane = Lane(app.state.ctx.registry[LANE_ROUTES], error_reply, lane_observer(metrics, access_log=True))
    with serve(app, http=lane_protocol(lane, new_request_id)) as server, capture_logs() as logs:
        exchange(server, NODE, get("/cloud-init/user-data"))
    lines = [entry for entry in logs if entry.get("event") == "request"]
    assert len(lines) == 1
    assert lines[0]["path"] == "/cloud-init/user-data"
    assert (lines[0]["status"], lines[0]["client"]) == (200, NODE)
    assert b'route="/cloud-init/user-data",status="200"} 1.0' in metrics.render()


def test_phone_home_on_the_lane_is_answered_once_stored(
    servers: tuple[LiveServer, LiveServer, CountingApp, FastAPI],
) -> None:
    _plain, lane, counting, app = servers
    form = b"pub_key_ed25519=ssh-ed25519+AAAAlane&hostname=nid001"
    raw = exchange(lane, NODE, post("/cloud-init/phone-home/i-lane", form))
    assert raw.startswith(b"HTTP/1.1 200 OK") and counting.paths == []
    with TestClient(app) as admin:
        admin.headers["Authorization"] = f"Bearer {issue(app, 'cloud-init:read')}"
        keys = admin.get("/cloud-init/admin/phone-home/x1000c0s0b0n0").json()
    assert keys["pub_key_ed25519"] == "ssh-ed25519 AAAAlane"
    assert keys["ip"] == NODE


def deferred_lane(outcome: Future[None]) -> Lane:
    """A lane whose POST /slow answers 'done' once ``outcome`` completes."""

    def slow(request: NodeRequest) -> Any:
        return lambda body: Deferred(outcome, Reply(200, b"done:" + body, "text/plain"))

    return Lane({}, error_reply, body_routes={("POST", "/slow"): slow})


async def plain_app(scope: Any, receive: Any, send: Any) -> None:
    body = b"app:" + scope["path"].encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


def test_a_deferred_answer_keeps_its_place_in_the_pipeline() -> None:
    """A request pipelined behind a lane answer that waits for its write is answered after it."""
    outcome: Future[None] = Future()
    threading.Timer(0.3, outcome.set_result, (None,)).start()
    with serve(
        plain_app, http=lane_protocol(deferred_lane(outcome), new_request_id), lifespan="off"
    ) as server:
        request = get("/slow", "Content-Length: 2", method="POST", close=False) + b"hi" + get("/next")
        raw = exchange(server, "127.0.0.1", request)
    first, second = raw.index(b"done:hi"), raw.index(b"app:/next")
    assert first < second
    assert raw.count(b"HTTP/1.1 200 OK") == 2


@pytest.mark.parametrize(
    ("error", "status"),
    [(Unavailable("database error: gone"), b"503"), (RuntimeError("bug"), b"500")],
)
def test_a_failed_write_is_answered_as_the_app_would(error: Exception, status: bytes) -> None:
    outcome: Future[None] = Future()
    outcome.set_exception(error)
    with serve(
        plain_app, http=lane_protocol(deferred_lane(outcome), new_request_id), lifespan="off"
    ) as server:
        raw = exchange(server, "127.0.0.1", get("/slow", "Content-Length: 0", method="POST"))
    assert raw.startswith(b"HTTP/1.1 " + status)


def test_serve_uses_the_lane_protocol_unless_switched_off(tmp_path: Path, db: Any) -> None:
    """`pychami serve` runs the lane protocol bound to the app's lane; `node_lane: false` gives uvicorn's
    own protocol (every request through the app and its LaneMiddleware)."""
    app = make_app(tmp_path, db)
    settings = app.state.ctx.settings
    protocol = http_protocol(app, settings)
    assert isinstance(protocol, type) and issubclass(protocol, LaneHttpProtocol)
    assert protocol.lane is app.state.lane
    assert http_protocol(app, settings.model_copy(update={"node_lane": False})) == "httptools"
    assert load_settings(data_dir=tmp_path, node_lane="false").node_lane is False


def test_pipelined_reads_under_backpressure_stay_in_order(
    servers: tuple[LiveServer, LiveServer, CountingApp, FastAPI],
) -> None:
    """A client that pipelines many Range reads and reads nothing for a while fills the socket: the lane
    stops taking requests while the transport pushes back (the app answers those, waiting for the socket),
    and every answer still arrives, whole and in order."""
    _plain, lane, counting, _app = servers
    data = bytes(range(256)) * 400
    count, size = 200, 65536
    requests = b"".join(
        get(f"/boot-images/{KEY}", f"Range: bytes={i}-{i + size - 1}", close=i == count - 1)
        for i in range(count)
    )
    address = ("127.0.0.1", port_of(lane))
    with socket.create_connection(address, timeout=20, source_address=(NODE, 0)) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(requests)
        threading.Event().wait(0.5)  # let the server's writes back up
        raw = bytearray()
        while chunk := s.recv(1 << 20):
            raw += chunk
    offset = 0
    for i in range(count):
        head_end = raw.index(b"\r\n\r\n", offset) + 4
        head = bytes(raw[offset:head_end])
        assert head.startswith(b"HTTP/1.1 206 "), head
        assert f"content-range: bytes {i}-{i + size - 1}/{len(data)}".encode() in head
        assert raw[head_end : head_end + size] == data[i : i + size]
        offset = head_end + size
    assert offset == len(raw)
    assert counting.paths, "the transport pushed back, so some reads went through the app"
