"""Node-facing routes (no token): the node is identified by its source address and sees only its data."""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pychami import __version__
from pychami.cloudinit import documents
from pychami.cloudinit.models import HostKeys
from pychami.cloudinit.service import CloudInitService, Snapshots
from pychami.core.errors import BadRequest
from pychami.core.inventory import Node
from pychami.core.lane import (
    BodyConsumer,
    BodyHandler,
    Deferred,
    LaneHandler,
    NodeRequest,
    Reply,
    node_request,
)
from pychami.core.web import GoJSONResponse

PREFIX = "/cloud-init"
YAML = "application/x-yaml"
TEXT = "text/plain; charset=utf-8"
_HOST_KEY_FIELDS = ("pub_key_rsa", "pub_key_ecdsa", "pub_key_ed25519", "instance_id", "hostname", "fqdn")


def go_duration(seconds: float) -> str:
    """A duration as Go's ``time.Duration.String`` writes it (``1h2m3.5s``)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.6f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


def _unknown() -> Reply:
    # Upstream answers an unknown source address with an empty 422.
    return Reply(422)


_USER_DATA = documents.USER_DATA.encode("utf-8")


#: OpenAPI entries for the node-facing documents, which are plain Starlette routes (no FastAPI
#: dependency machinery on the boot-storm path) and so absent from the generated schema.
NODE_PATHS: dict[str, Any] = {
    f"{PREFIX}/meta-data": {
        "get": {
            "tags": ["cloud-init"],
            "summary": "Meta-data (YAML) of the node at the source address",
            "responses": {
                "200": {"description": "application/x-yaml"},
                "422": {"description": "unknown address"},
            },
        }
    },
    f"{PREFIX}/user-data": {
        "get": {
            "tags": ["cloud-init"],
            "summary": "Always #cloud-config",
            "responses": {"200": {"description": "text"}},
        }
    },
    f"{PREFIX}/vendor-data": {
        "get": {
            "tags": ["cloud-init"],
            "summary": "#include of <base-url>/<group>.yaml per SMD group of the calling node",
            "responses": {"200": {"description": "text"}, "422": {"description": "unknown address"}},
        }
    },
    f"{PREFIX}/{{group}}.yaml": {
        "get": {
            "tags": ["cloud-init"],
            "summary": "The group's cloud-config, for nodes in the group",
            "parameters": [{"name": "group", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {
                "200": {"description": "text"},
                "404": {"description": "Group not found"},
                "422": {"description": "unknown address"},
            },
        }
    },
    f"{PREFIX}/phone-home/{{id}}": {
        "post": {
            "tags": ["cloud-init"],
            "summary": "Record host keys and the cloud-init done event (form fields pub_key_*, instance_id, "
            "hostname, fqdn)",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "recorded"}, "422": {"description": "unknown address"}},
        }
    },
}


#: A node document made from the request and the service's snapshots; None: not this route's path.
Core = Callable[[NodeRequest, Snapshots], Reply | None]


def _phone_home_id(path: str) -> str | None:
    """``<id>`` of ``/cloud-init/phone-home/<id>`` (trailing slash already stripped), or None."""
    head = f"{PREFIX}/phone-home/"
    node_id = path[len(head) :]
    if not path.startswith(head) or not node_id or "/" in node_id:
        return None
    return node_id


def _group_of(path: str) -> str | None:
    """``<group>`` of ``/cloud-init/<group>.yaml``, or None for any other path."""
    rest = path[len(PREFIX) + 1 :]
    if not path.startswith(PREFIX + "/") or "/" in rest or not rest.endswith(".yaml") or rest == ".yaml":
        return None
    return rest[: -len(".yaml")]


class NodeHandlers:
    """The node-facing documents, each written once as a synchronous function of the request and the
    snapshots, and served two ways: as a lane handler (:meth:`lane`: from memory, declining when the
    snapshots must first be loaded) and as an ordinary route (:meth:`route`: loads them if needed)."""

    def __init__(self, service: CloudInitService) -> None:
        self.service = service

    def _who(self, request: NodeRequest, snaps: Snapshots) -> tuple[Node, str] | None:
        forwarded = request.headers.get(b"x-forwarded-for")
        return self.service.identify(
            snaps, request.client, forwarded.decode("latin-1") if forwarded else None
        )

    def meta_data(self, request: NodeRequest, snaps: Snapshots) -> Reply:
        found = self._who(request, snaps)
        if found is None:
            return _unknown()
        node, ip = found
        return Reply(200, self.service.meta_data(snaps, node, ip), YAML)

    def user_data(self, request: NodeRequest, snaps: Snapshots) -> Reply:
        del request, snaps
        return Reply(200, _USER_DATA, TEXT)

    def vendor_data(self, request: NodeRequest, snaps: Snapshots) -> Reply:
        found = self._who(request, snaps)
        if found is None:
            return _unknown()
        return Reply(200, self.service.vendor_data(snaps, found[0]), TEXT)

    def group_config(self, request: NodeRequest, snaps: Snapshots) -> Reply | None:
        group = _group_of(request.path)
        if group is None:
            return None
        found = self._who(request, snaps)
        if found is None:
            return _unknown()
        return Reply(200, self.service.group_config(snaps, found[0], group), TEXT)

    def lane(self, core: Core) -> LaneHandler:
        def handler(request: NodeRequest) -> Reply | None:
            snaps = self.service.snapshots_now()
            return None if snaps is None else core(request, snaps)

        return handler

    def route(self, core: Core) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            reply = core(node_request(request), await self.service.snapshots())
            if reply is None:
                raise StarletteHTTPException(404)
            return reply.response()

        return endpoint

    def phone_home(self, request: NodeRequest, snaps: Snapshots, body: bytes) -> Reply | Deferred:
        """Store the host keys posted by the node (answered once committed: a :class:`Deferred`)."""
        node_id = _phone_home_id(request.path)
        found = self._who(request, snaps)
        if found is None or node_id is None:
            return _unknown()
        node, ip = found
        if body and not request.header(b"content-type").startswith("application/x-www-form-urlencoded"):
            raise BadRequest("phone-home data must be application/x-www-form-urlencoded")
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise BadRequest("phone-home data is not UTF-8") from exc
        keys = HostKeys(**{k: form[k][0] for k in _HOST_KEY_FIELDS if k in form})
        return Deferred(self.service.phone_home(node, ip, node_id, keys), Reply(200))

    def phone_home_lane(self, request: NodeRequest) -> BodyConsumer | None:
        if _phone_home_id(request.path) is None:
            return None
        snaps = self.service.snapshots_now()
        if snaps is None:
            return None
        return lambda body: self.phone_home(request, snaps, body)

    async def phone_home_route(self, request: Request) -> Response:
        answer = self.phone_home(node_request(request), await self.service.snapshots(), await request.body())
        if isinstance(answer, Deferred):
            await asyncio.wrap_future(answer.done)
            answer = answer.reply
        return answer.response()

    def lane_routes(self) -> dict[tuple[str, str], LaneHandler]:
        return {
            ("GET", f"{PREFIX}/meta-data"): self.lane(self.meta_data),
            ("GET", f"{PREFIX}/user-data"): self.lane(self.user_data),
            ("GET", f"{PREFIX}/vendor-data"): self.lane(self.vendor_data),
            ("GET", f"{PREFIX}/*"): self.lane(self.group_config),
        }

    def lane_body_routes(self) -> dict[tuple[str, str], BodyHandler]:
        return {("POST", f"{PREFIX}/phone-home/*"): self.phone_home_lane}


def router(service: CloudInitService) -> APIRouter:
    r = APIRouter(tags=["cloud-init"])
    h = NodeHandlers(service)
    meta_data, user_data, vendor_data = h.route(h.meta_data), h.route(h.user_data), h.route(h.vendor_data)
    group_config, phone_home = h.route(h.group_config), h.phone_home_route

    r.add_route(f"{PREFIX}/meta-data", meta_data, methods=["GET"], include_in_schema=False)
    r.add_route(f"{PREFIX}/user-data", user_data, methods=["GET"], include_in_schema=False)
    r.add_route(f"{PREFIX}/vendor-data", vendor_data, methods=["GET"], include_in_schema=False)
    # cloud-init's phone_home module is often given a URL ending in "/": accept both.
    r.add_route(f"{PREFIX}/phone-home/{{node_id}}", phone_home, methods=["POST"], include_in_schema=False)
    r.add_route(f"{PREFIX}/phone-home/{{node_id}}/", phone_home, methods=["POST"], include_in_schema=False)

    @r.get(f"{PREFIX}/version")
    async def version() -> Response:
        """Process and build information, in upstream's shape."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return GoJSONResponse(
            {
                "process_name": os.path.basename(sys.argv[0]) or "pychami",
                "build_info": (
                    f"Version: v{__version__}, Git Commit: , Build Time: , Git Branch: , Git Tag: , "
                    f"Git State: , Build Host: , Go Version: python{platform.python_version()}, Build User: "
                ),
                "uptime": go_duration(time.monotonic() - service.started),
                "runtime_host": socket.gethostname(),
                "bytes_allocated": usage.ru_maxrss * 1024,
            }
        )

    @r.get(f"{PREFIX}/openapi.json")
    async def openapi(request: Request) -> Response:
        """The OpenAPI document of the cloud-init routes."""
        spec = dict(request.app.openapi())
        paths = {p: v for p, v in spec.get("paths", {}).items() if p.startswith(PREFIX)}
        spec["paths"] = {**NODE_PATHS, **paths}
        return JSONResponse(spec)

    # Last: "/{group}.yaml" must not shadow the fixed paths above.
    r.add_route(f"{PREFIX}/{{group}}.yaml", group_config, methods=["GET"], include_in_schema=False)
    return r
