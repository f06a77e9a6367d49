"""Node-facing routes (no token): the node is identified by its source address and sees only its data."""

from __future__ import annotations

import os
import platform
import resource
import socket
import sys
import time
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from pychami import __version__
from pychami.cloudinit import documents
from pychami.cloudinit.models import HostKeys
from pychami.cloudinit.service import CloudInitService
from pychami.core.errors import BadRequest
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


def _unknown() -> Response:
    # Upstream answers an unknown source address with an empty 422.
    return Response(status_code=422)


def router(service: CloudInitService) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["cloud-init"])

    async def who(request: Request) -> Any:
        peer = request.client.host if request.client else None
        return await service.identify(peer, request.headers.get("x-forwarded-for"))

    @r.get("/meta-data", response_class=Response)
    async def meta_data(request: Request) -> Response:
        """The calling node's meta-data (YAML); 422 from an unknown address."""
        found = await who(request)
        if found is None:
            return _unknown()
        node, ip = found
        return Response(await service.meta_data(node, ip), media_type=YAML)

    @r.get("/user-data", response_class=PlainTextResponse)
    async def user_data() -> Response:
        """Always ``#cloud-config``: the configuration lives in the group configs (vendor-data)."""
        return Response(documents.USER_DATA, media_type=TEXT)

    @r.get("/vendor-data", response_class=PlainTextResponse)
    async def vendor_data(request: Request) -> Response:
        """``#include`` of one ``<base-url>/<group>.yaml`` per SMD group of the calling node."""
        found = await who(request)
        if found is None:
            return _unknown()
        return Response(await service.vendor_data(found[0]), media_type=TEXT)

    @r.get("/version")
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

    @r.get("/openapi.json")
    async def openapi(request: Request) -> Response:
        """The OpenAPI document of the cloud-init routes."""
        spec = dict(request.app.openapi())
        spec["paths"] = {p: v for p, v in spec.get("paths", {}).items() if p.startswith(PREFIX)}
        return JSONResponse(spec)

    async def phone_home(request: Request, node_id: str) -> Response:
        found = await who(request)
        if found is None:
            return _unknown()
        node, ip = found
        body = await request.body()
        ctype = request.headers.get("content-type", "")
        if body and not ctype.startswith("application/x-www-form-urlencoded"):
            raise BadRequest("phone-home data must be application/x-www-form-urlencoded")
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise BadRequest("phone-home data is not UTF-8") from exc
        keys = HostKeys(**{k: form[k][0] for k in _HOST_KEY_FIELDS if k in form})
        await _run(service.phone_home, node, ip, node_id, keys)
        return Response(status_code=200)

    @r.post("/phone-home/{node_id}")
    async def phone_home_plain(request: Request, node_id: str) -> Response:
        """Record the node's SSH host keys and a ``cloud-init done`` boot event (form-encoded body)."""
        return await phone_home(request, node_id)

    @r.post("/phone-home/{node_id}/", include_in_schema=False)
    async def phone_home_slash(request: Request, node_id: str) -> Response:
        return await phone_home(request, node_id)

    @r.get("/{group}.yaml", response_class=PlainTextResponse)
    async def group_config(request: Request, group: str) -> Response:
        """The group's cloud-config, only for a node in that group (404 otherwise)."""
        found = await who(request)
        if found is None:
            return _unknown()
        return Response(await service.group_config(found[0], group), media_type=TEXT)

    return r


async def _run(fn: Any, *args: Any) -> Any:
    import asyncio  # noqa: PLC0415

    return await asyncio.to_thread(fn, *args)
