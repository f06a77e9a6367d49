"""``GET /boot/v1/bootscript``: the node-facing boot script (no token).

A lane handler (``core.lane``: answered in the HTTP protocol, before uvicorn and FastAPI see the
request) and, built on the same function, an ordinary route. It reads only in-process caches, so it
never needs a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from pychami.bss import identifiers as ident
from pychami.bss.api.query import parse_raw
from pychami.bss.service import BSSService
from pychami.core.errors import BadRequest
from pychami.core.lane import NodeRequest, Reply, node_request

PATH = "/boot/v1/bootscript"
_TRUE = {"1", "true", "yes", "on"}


def _int(query_value: str, what: str, default: int | None) -> int | None:
    if not query_value:
        return default
    value = ident.parse_int(query_value)
    if value is None or value < 0:
        raise BadRequest(f"Bad Request - Invalid {what} '{query_value}'")
    return value


def lane_handler(service: BSSService) -> Callable[[NodeRequest], Reply]:
    """The boot-script endpoint as a lane handler."""

    def bootscript(request: NodeRequest) -> Reply:
        q = parse_raw(request.query)
        nid_text = q.get("nid", "")
        nid = None
        if nid_text:
            nid = ident.parse_nid(nid_text)
            if nid is None:
                raise BadRequest(f"Bad Request - Invalid nid '{nid_text}'")
        retry = _int(q.get("retry", ""), "retry", 0)
        answer = service.bootscript(
            mac=q.get("mac", ""),
            name=q.get("name", ""),
            nid=nid,
            retry=retry or 0,
            arch=q.get("arch", ""),
            ts=_int(q.get("ts", ""), "ts", None),
            want_json=q.get("json", "").lower() in _TRUE,
            ip=request.client,
        )
        return Reply(200, answer.body, answer.media_type)

    return bootscript


def router(service: BSSService) -> APIRouter:
    """The same handler as an ordinary route, for apps without the lane."""
    lane = lane_handler(service)

    async def bootscript(request: Request) -> Response:
        return lane(node_request(request)).response()

    r = APIRouter(tags=["bss"])
    r.add_route(PATH, bootscript, methods=["GET"], name="bootscript", include_in_schema=False)
    return r
