"""Small real HTTP servers for the tests: a BMC serving recorded vendor JSON, and a recording SMD.

Both are stdlib ``ThreadingHTTPServer`` instances on loopback, started and stopped by context managers.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_tree(name: str) -> dict[str, Any]:
    """A recorded Redfish tree ``{path: resource}`` from ``fixtures/<name>.json``."""
    tree: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return tree


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up on a slow answer (broken pipe) is expected here, not an error."""


@dataclass
class FakeBMC:
    """A BMC answering from a recorded tree; ``delay`` makes it slow, ``auth`` requires basic auth."""

    address: str
    tree: dict[str, Any]
    auth: tuple[str, str] | None = None
    delay: float = 0.0
    port: int = 0
    sessions: bool = False
    query_paths: bool = False
    fail_first: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        """``http://address:port``."""
        return f"http://{self.address}:{self.port}"


def _handler_for(bmc: FakeBMC) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorized(self) -> bool:
            if bmc.auth is None:
                return True
            if bmc.sessions and self.headers.get("X-Auth-Token") in bmc.tokens:
                return True
            want = "Basic " + base64.b64encode(f"{bmc.auth[0]}:{bmc.auth[1]}".encode()).decode()
            return self.headers.get("Authorization") == want

        def _login(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if bmc.auth is not None and (body.get("UserName"), body.get("Password")) != bmc.auth:
                self._reply(401, {"error": {"code": "Base.1.0.NoValidSession", "message": "login failed"}})
                return
            token = f"tok{len(bmc.tokens)}"
            bmc.tokens.add(token)
            data = b"{}"
            self.send_response(201)
            self.send_header("X-Auth-Token", token)
            self.send_header("Location", f"/redfish/v1/SessionService/Sessions/{token}")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            bmc.requests.append((self.command, self.path))
            bmc.arrivals.append(time.monotonic())
            if bmc.delay:
                time.sleep(bmc.delay)
            path = self.path if bmc.query_paths and self.path in bmc.tree else self.path.split("?", 1)[0]
            if bmc.fail_first.get(path, 0) > 0:
                bmc.fail_first[path] -= 1
                self._reply(
                    503, {"error": {"code": "Base.1.0.ServiceTemporarilyUnavailable", "message": "busy"}}
                )
                return
            if bmc.sessions and path.startswith("/redfish/v1/SessionService/Sessions"):
                if self.command == "POST":
                    self._login()
                else:
                    bmc.tokens.discard(path.rsplit("/", 1)[-1])
                    self.send_response(204)
                    self.end_headers()
                return
            if path != "/redfish/v1/" and not self._authorized():
                self._reply(401, {"error": {"code": "Base.1.0.AccessDenied", "message": "bad credentials"}})
                return
            key = (
                path if path in bmc.tree else path.rstrip("/") if path.rstrip("/") in bmc.tree else path + "/"
            )
            res = bmc.tree.get(key)
            if res is None:
                self._reply(404, {"error": {"code": "Base.1.0.ResourceMissingAtURI", "message": "not found"}})
                return
            if isinstance(res, dict) and "@status" in res:
                self._reply(
                    int(res["@status"]), {"error": {"code": "Base.1.0.GeneralError", "message": "boom"}}
                )
                return
            if self.command == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(204)
                self.end_headers()
                return
            self._reply(200, res)

        do_GET = _handle
        do_POST = _handle
        do_DELETE = _handle

    return Handler


@contextlib.contextmanager
def serving(bmc: FakeBMC) -> Iterator[FakeBMC]:
    """Serve ``bmc`` on its address (a free port) until the block ends."""
    server = _Quiet((bmc.address, bmc.port), _handler_for(bmc))
    bmc.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield bmc
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class RecordingSMD:
    """An SMD stand-in that records requests to ``/hsm/v2/Inventory/RedfishEndpoints`` like SMD answers."""

    address: str = "127.0.0.1"
    port: int = 0
    existing: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://{self.address}:{self.port}"


def _smd_handler(smd: RecordingSMD) -> type[BaseHTTPRequestHandler]:
    prefix = "/hsm/v2/Inventory/RedfishEndpoints"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: Any) -> None:
            data = (json.dumps(body, separators=(",", ":")) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"null")

        def do_POST(self) -> None:
            body = self._body()
            smd.requests.append(
                {"method": "POST", "path": self.path, "auth": self.headers.get("Authorization"), "body": body}
            )
            if self.path != prefix:
                self._reply(404, {"detail": "no such path"})
                return
            rfe_id = body.get("ID")
            if rfe_id in smd.existing:
                self._reply(
                    409,
                    {
                        "type": "about:blank",
                        "title": "Conflict",
                        "detail": "operation would conflict with an existing resource that has the same FQDN "
                        "or xname ID.",
                        "status": 409,
                    },
                )
                return
            smd.existing.add(rfe_id)
            self._reply(201, [{"URI": f"{prefix}/{rfe_id}"}])

        def do_PUT(self) -> None:
            body = self._body()
            smd.requests.append(
                {"method": "PUT", "path": self.path, "auth": self.headers.get("Authorization"), "body": body}
            )
            smd.existing.add(self.path.rsplit("/", 1)[-1])
            self._reply(200, body)

    return Handler


@contextlib.contextmanager
def recording_smd(smd: RecordingSMD) -> Iterator[RecordingSMD]:
    """Serve ``smd`` until the block ends."""
    server = _Quiet((smd.address, smd.port), _smd_handler(smd))
    smd.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield smd
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
