"""``/hsm/v2/Inventory/RedfishEndpoints`` and ``/hsm/v2/Inventory/ComponentEndpoints``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import ValidationError

from pychami.core.errors import BadRequest
from pychami.core.web import GoJSONResponse, message
from pychami.smd.api.common import PREFIX, READ, WRITE, created, query_multi
from pychami.smd.schemas import RedfishEndpointIn
from pychami.smd.service import SMDService

RFE = PREFIX + "/Inventory/RedfishEndpoints"
CE = PREFIX + "/Inventory/ComponentEndpoints"


def _parse(data: Any) -> RedfishEndpointIn:
    try:
        return RedfishEndpointIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise BadRequest(f"couldn't validate endpoint data: {where}: {first['msg']}") from None


def router(smd: SMDService) -> APIRouter:
    svc = smd.endpoints
    r = APIRouter(prefix=PREFIX + "/Inventory", tags=["smd: redfish endpoints"])

    @r.get("/RedfishEndpoints", dependencies=READ)
    def list_endpoints(request: Request) -> Response:
        return GoJSONResponse({"RedfishEndpoints": svc.find(query_multi(request))})

    @r.post("/RedfishEndpoints", dependencies=WRITE, status_code=201)
    def create_endpoints(
        body: RedfishEndpointIn | dict[str, Any] = Body(..., openapi_examples=None),  # noqa: B008
    ) -> Response:
        """One endpoint or ``{"RedfishEndpoints": [...]}``; V2 payloads create nodes, BMCs and interfaces."""
        raw: Any = body.model_dump(exclude_unset=True) if isinstance(body, RedfishEndpointIn) else body
        if isinstance(raw, dict) and isinstance(raw.get("RedfishEndpoints"), list):
            items = [_parse(item) for item in raw["RedfishEndpoints"]]
        else:
            items = [_parse(raw)]
        ids = svc.create(items)
        return created([f"{RFE}/{i}" for i in ids], RFE)

    @r.delete("/RedfishEndpoints", dependencies=WRITE)
    def delete_endpoints() -> Response:
        count = svc.delete_all()
        return message(f"deleted {count} {'entry' if count == 1 else 'entries'}")

    @r.get("/RedfishEndpoints/{xname}", dependencies=READ)
    def get_endpoint(xname: str) -> Response:
        return GoJSONResponse(svc.get(xname))

    @r.put("/RedfishEndpoints/{xname}", dependencies=WRITE)
    def put_endpoint(xname: str, body: RedfishEndpointIn) -> Response:
        """Insert or replace one endpoint; a V2 payload is re-parsed with force-update."""
        return GoJSONResponse(svc.put(xname, body))

    @r.patch("/RedfishEndpoints/{xname}", dependencies=WRITE)
    def patch_endpoint(xname: str, body: RedfishEndpointIn) -> Response:
        return GoJSONResponse(svc.patch(xname, body))

    @r.delete("/RedfishEndpoints/{xname}", dependencies=WRITE)
    def delete_endpoint(xname: str) -> Response:
        svc.delete(xname)
        return message("deleted 1 entry")

    @r.get("/ComponentEndpoints", dependencies=READ)
    def list_component_endpoints(request: Request) -> Response:
        return GoJSONResponse({"ComponentEndpoints": svc.list_component_endpoints(query_multi(request))})

    @r.delete("/ComponentEndpoints", dependencies=WRITE)
    def delete_component_endpoints() -> Response:
        count = svc.delete_component_endpoint(None)
        return message(f"deleted {count} {'entry' if count == 1 else 'entries'}")

    @r.get("/ComponentEndpoints/{xname}", dependencies=READ)
    def get_component_endpoint(xname: str) -> Response:
        return GoJSONResponse(svc.get_component_endpoint(xname))

    @r.delete("/ComponentEndpoints/{xname}", dependencies=WRITE)
    def delete_component_endpoint(xname: str) -> Response:
        svc.delete_component_endpoint(xname)
        return message("deleted 1 entry")

    return r


__all__ = ["CE", "router"]
