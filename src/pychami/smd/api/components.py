"""``/hsm/v2/State/Components``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import Response

from pychami.core.errors import BadRequest
from pychami.core.web import GoJSONResponse, message
from pychami.smd.api.common import PREFIX, READ, WRITE, no_content, query_items
from pychami.smd.query import filter_from_body, parse_filter
from pychami.smd.schemas import (
    BulkNIDIn,
    ComponentArrayIn,
    ComponentArrayOut,
    ComponentOut,
    ComponentPutIn,
    EnabledIn,
    FlagOnlyIn,
    NIDIn,
    NIDRangesIn,
    RoleIn,
    SoftwareStatusIn,
    StateDataIn,
)
from pychami.smd.service import SMDService

ARRAY: dict[int | str, dict[str, Any]] = {200: {"model": ComponentArrayOut}}
ONE: dict[int | str, dict[str, Any]] = {200: {"model": ComponentOut}}


def router(smd: SMDService) -> APIRouter:
    svc = smd.components
    r = APIRouter(prefix=PREFIX + "/State/Components", tags=["smd: components"])

    @r.get("", responses=ARRAY)
    def list_components(request: Request) -> Response:
        """All components matching the filters (public, as upstream)."""
        flt = parse_filter(query_items(request))
        return GoJSONResponse({"Components": svc.find(flt)})

    @r.post("", dependencies=WRITE, status_code=204)
    def post_components(body: ComponentArrayIn) -> Response:
        """Create components; existing ones are skipped unless ``Force`` (then only state fields change)."""
        svc.upsert(body.Components or [], body.Force)
        return no_content()

    @r.delete("", dependencies=WRITE)
    def delete_components() -> Response:
        """Delete every component."""
        count = svc.delete_all()
        return message(f"deleted {count} {'entry' if count == 1 else 'entries'}")

    @r.post("/Query", dependencies=READ, responses=ARRAY)
    def query(body: dict[str, Any] = Body(...)) -> Response:  # noqa: B008
        """Components by ``ComponentIDs`` plus any filter keys."""
        ids = body.get("ComponentIDs") or body.get("componentids")
        if ids is not None and not isinstance(ids, list):
            raise BadRequest("ComponentIDs must be a list")
        flt = filter_from_body(body, skip=["ComponentIDs"])
        from pychami.core import xnames  # noqa: PLC0415

        id_list = [xnames.normalise(str(i)) for i in ids] if ids is not None else None
        return GoJSONResponse({"Components": svc.find(flt, id_list)})

    @r.post("/ByNID/Query", dependencies=READ, responses=ARRAY)
    def by_nid_query(body: NIDRangesIn) -> Response:
        """Components whose NID is in any of ``NIDRanges`` (``"1-4"``, ``"7"``)."""
        return GoJSONResponse({"Components": svc.by_nid_ranges(body.NIDRanges)})

    @r.get("/ByNID/{nid}", dependencies=READ, responses=ONE)
    def by_nid(nid: str) -> Response:
        """The component with NID ``nid``."""
        return GoJSONResponse(svc.by_nid(nid))

    @r.patch("/BulkNID", dependencies=WRITE, status_code=204)
    def bulk_nid(body: BulkNIDIn) -> Response:
        """Set the NID of each listed component."""
        svc.set_nids(body.Components)
        return no_content()

    @r.patch("/BulkStateData", dependencies=WRITE, status_code=204)
    def bulk_state(body: StateDataIn) -> Response:
        svc.patch(body.ComponentIDs, svc.state_values(body.State, body.Flag), single=False)
        return no_content()

    @r.patch("/BulkFlagOnly", dependencies=WRITE, status_code=204)
    def bulk_flag(body: FlagOnlyIn) -> Response:
        svc.patch(body.ComponentIDs, svc.flag_values(body.Flag), single=False)
        return no_content()

    @r.patch("/BulkEnabled", dependencies=WRITE, status_code=204)
    def bulk_enabled(body: EnabledIn) -> Response:
        if body.Enabled is None:
            raise BadRequest("Enabled is required")
        svc.patch(body.ComponentIDs, {"enabled": body.Enabled}, single=False)
        return no_content()

    @r.patch("/BulkSoftwareStatus", dependencies=WRITE, status_code=204)
    def bulk_sw(body: SoftwareStatusIn) -> Response:
        svc.patch(body.ComponentIDs, {"software_status": body.SoftwareStatus}, single=False)
        return no_content()

    @r.patch("/BulkRole", dependencies=WRITE, status_code=204)
    def bulk_role(body: RoleIn) -> Response:
        svc.patch(body.ComponentIDs, svc.role_values(body.Role, body.SubRole), single=False)
        return no_content()

    @r.get("/{xname}", dependencies=READ, responses=ONE)
    def get_component(xname: str) -> Response:
        """One component."""
        return GoJSONResponse(svc.get(xname))

    @r.put("/{xname}", dependencies=WRITE, status_code=204)
    def put_component(xname: str, body: ComponentPutIn) -> Response:
        """Create or (with ``Force``) update one component."""
        svc.put(xname, body.Component, body.Force)
        return no_content()

    @r.delete("/{xname}", dependencies=WRITE)
    def delete_component(xname: str) -> Response:
        svc.delete(xname)
        return message("deleted 1 entry")

    @r.patch("/{xname}/StateData", dependencies=WRITE, status_code=204)
    def patch_state(xname: str, body: StateDataIn) -> Response:
        svc.patch([xname], svc.state_values(body.State, body.Flag), single=True)
        return no_content()

    @r.patch("/{xname}/FlagOnly", dependencies=WRITE, status_code=204)
    def patch_flag(xname: str, body: FlagOnlyIn) -> Response:
        svc.patch([xname], svc.flag_values(body.Flag), single=True)
        return no_content()

    @r.patch("/{xname}/Enabled", dependencies=WRITE, status_code=204)
    def patch_enabled(xname: str, body: EnabledIn) -> Response:
        if body.Enabled is None:
            raise BadRequest("Enabled is required")
        svc.patch([xname], {"enabled": body.Enabled}, single=True)
        return no_content()

    @r.patch("/{xname}/SoftwareStatus", dependencies=WRITE, status_code=204)
    def patch_sw(xname: str, body: SoftwareStatusIn) -> Response:
        svc.patch([xname], {"software_status": body.SoftwareStatus}, single=True)
        return no_content()

    @r.patch("/{xname}/Role", dependencies=WRITE, status_code=204)
    def patch_role(xname: str, body: RoleIn) -> Response:
        svc.patch([xname], svc.role_values(body.Role, body.SubRole), single=True)
        return no_content()

    @r.patch("/{xname}/NID", dependencies=WRITE, status_code=204)
    def patch_nid(xname: str, body: NIDIn) -> Response:
        if body.NID is None or body.NID < 0:
            raise BadRequest("invalid NID")
        svc.patch([xname], {"nid": body.NID}, single=True)
        return no_content()

    return r
