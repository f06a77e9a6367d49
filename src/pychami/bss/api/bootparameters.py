"""``/boot/v1/bootparameters``: read and change boot parameters (token with bss:read / bss:write)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pychami.bss import identifiers as ident
from pychami.bss.api.query import values
from pychami.bss.schemas import BootParamsModel, parse_body
from pychami.bss.service import BSSService
from pychami.core.errors import BadRequest
from pychami.core.web import GoJSONResponse, problem, require

PREFIX = "/boot/v1"
ALLOWED = "GET,PUT,POST,PATCH,DELETE"
_JSON = "application/json; charset=UTF-8"

#: Documents the body in OpenAPI; the handlers parse it themselves to answer with upstream's texts.
_BODY_DOC = {
    "requestBody": {
        "description": "BootParams (upstream JSON); `groups` is a pychami addition",
        "content": {"application/json": {"schema": BootParamsModel.model_json_schema(by_alias=True)}},
    }
}


def router(service: BSSService) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["bss"])
    read = [Depends(require("bss:read"))]
    write = [Depends(require("bss:write"))]

    @r.get("/bootparameters", dependencies=read, response_model=None)
    async def get_bootparameters(request: Request) -> Response:
        """All boot parameters grouped by configuration (``null`` when none), or those matching
        ``mac=``, ``name=``, ``nid=`` (and ``group=``), from the query or a JSON body."""
        q = request.query_params
        macs, names, nid_texts, groups = (values(q, k) for k in ("mac", "name", "nid", "group"))
        body = await request.body()
        has_query = bool(macs or names or nid_texts or groups)
        if not body.strip() and not has_query:
            return GoJSONResponse(await run_in_threadpool(service.all_params))
        nids: list[int] = []
        if body.strip():
            try:
                bp = parse_body(body)
            except BadRequest:
                if not has_query:
                    raise BadRequest(
                        f"Failed to interpret request body '{body.decode('utf-8', 'replace')}'"
                    ) from None
                bp = None
            if bp is not None:
                macs += bp.macs
                names += bp.hosts
                nids += bp.nids
                groups += bp.groups
        for text in nid_texts:
            nid = ident.parse_nid(text)
            if nid is None:
                raise BadRequest(f"Bad Request - Invalid nid '{text}'")
            nids.append(nid)
        for mac in macs:
            if ident.request_mac(mac) is None:
                raise BadRequest(f"Bad Request - Invalid MAC '{mac}'")
        result = await run_in_threadpool(
            service.query_params, macs=macs, names=names, nids=nids, groups=groups
        )
        return GoJSONResponse(result)

    @r.post(
        "/bootparameters", openapi_extra=_BODY_DOC, dependencies=write, status_code=201, response_model=None
    )
    async def add_bootparameters(request: Request) -> Response:
        """Add boot parameters for identifiers not stored yet (400 when all exist)."""
        bp = parse_body(await request.body())
        assert bp is not None
        await run_in_threadpool(service.add, bp)
        return Response(status_code=201, media_type=_JSON, headers={"BSS-Referral-Token": str(uuid.uuid4())})

    @r.put("/bootparameters", openapi_extra=_BODY_DOC, dependencies=write, response_model=None)
    async def set_bootparameters(request: Request) -> Response:
        """Set: add missing identifiers, update existing ones (one of params/kernel/initrd required)."""
        bp = parse_body(await request.body())
        assert bp is not None
        await run_in_threadpool(service.set, bp)
        return Response(status_code=200, media_type=_JSON)

    @r.patch("/bootparameters", openapi_extra=_BODY_DOC, dependencies=write, response_model=None)
    async def update_bootparameters(request: Request) -> Response:
        """Update existing identifiers only (404 when any is missing)."""
        bp = parse_body(await request.body())
        assert bp is not None
        await run_in_threadpool(service.update, bp)
        return Response(status_code=200, media_type=_JSON)

    @r.delete("/bootparameters", openapi_extra=_BODY_DOC, dependencies=write, response_model=None)
    async def delete_bootparameters(request: Request) -> Response:
        """Delete the listed identifiers, and configurations equal to the given kernel/initrd/params."""
        bp = parse_body(await request.body())
        assert bp is not None
        await run_in_threadpool(service.delete, bp)
        return Response(status_code=200, media_type=_JSON)

    @r.api_route("/bootparameters", methods=["HEAD", "OPTIONS", "TRACE", "CONNECT"], include_in_schema=False)
    async def bootparameters_not_allowed() -> Response:
        return problem(405, f"allow {ALLOWED}", headers={"Allow": ALLOWED})

    @r.get("", dependencies=read, include_in_schema=False)
    async def hello() -> Response:
        """Upstream's protected root."""
        return Response("Hello World!\n", media_type="text/plain; charset=UTF-8")

    return r
