"""``/boot/v1/hosts``, ``/dumpstate`` and ``/endpoint-history`` (public, as upstream)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pychami.bss.api.query import joined, values
from pychami.bss.service import BSSService
from pychami.core.web import GoJSONResponse

PREFIX = "/boot/v1"


def router(service: BSSService) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["bss"])

    @r.get("/hosts", response_model=None)
    async def get_hosts(request: Request) -> Response:
        """Nodes as BSS knows them from SMD, all or by ``name=``, ``mac=``, ``nid=``."""
        q = request.query_params
        result = service.hosts(names=values(q, "name"), macs=values(q, "mac"), nids=values(q, "nid"))
        return GoJSONResponse(result)

    @r.post("/hosts", status_code=204, response_model=None)
    async def refresh_hosts() -> Response:
        """Reload the node list from SMD now."""
        await run_in_threadpool(service.refresh_hosts)
        return Response(status_code=204, headers={"Cache-Control": "no-cache"})

    @r.get("/dumpstate", response_model=None)
    async def dumpstate() -> Response:
        """Every known node and every boot parameter."""
        return GoJSONResponse(await run_in_threadpool(service.dumpstate))

    @r.get("/endpoint-history", response_model=None)
    async def endpoint_history(request: Request) -> Response:
        """When each node last fetched its boot script (``endpoint=bootscript``) or user-data."""
        q = request.query_params
        result = await run_in_threadpool(service.endpoint_history, joined(q, "name"), joined(q, "endpoint"))
        return GoJSONResponse(result)

    return r
