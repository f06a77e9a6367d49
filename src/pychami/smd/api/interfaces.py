"""``/hsm/v2/Inventory/EthernetInterfaces``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pychami.core.web import GoJSONResponse, message
from pychami.smd.api.common import PREFIX, READ, WRITE, created, query_multi
from pychami.smd.schemas import (
    EthernetInterfaceIn,
    EthernetInterfaceOut,
    EthernetInterfacePatchIn,
    IPAddressIn,
    IPAddressOut,
    IPPatchIn,
)
from pychami.smd.service import SMDService

BASE = PREFIX + "/Inventory/EthernetInterfaces"


def router(smd: SMDService) -> APIRouter:
    svc = smd.interfaces
    r = APIRouter(prefix=BASE, tags=["smd: ethernet interfaces"])

    @r.get("", responses={200: {"model": list[EthernetInterfaceOut]}})
    def list_interfaces(request: Request) -> Response:
        """All interfaces matching the filters, as a bare array (public, as upstream)."""
        return GoJSONResponse(svc.find(query_multi(request)))

    @r.post("", dependencies=WRITE, status_code=201)
    def create_interface(body: EthernetInterfaceIn) -> Response:
        """Create one interface; its ID is the MAC without colons; a duplicate MAC is 409."""
        iface_id = svc.create(body)
        uri = f"{BASE}/{iface_id}"
        return GoJSONResponse({"URI": uri}, status_code=201, headers={"Location": uri})

    @r.delete("", dependencies=WRITE)
    def delete_interfaces() -> Response:
        count = svc.delete_all()
        return message(f"deleted {count} {'entry' if count == 1 else 'entries'}")

    @r.get("/{iface_id}", dependencies=READ, responses={200: {"model": EthernetInterfaceOut}})
    def get_interface(iface_id: str) -> Response:
        return GoJSONResponse(svc.get(iface_id))

    @r.patch("/{iface_id}", dependencies=WRITE, responses={200: {"model": EthernetInterfaceOut}})
    def patch_interface(iface_id: str, body: EthernetInterfacePatchIn) -> Response:
        """Change Description, ComponentID and/or IPAddresses (the list is replaced)."""
        return GoJSONResponse(svc.patch(iface_id, body))

    @r.delete("/{iface_id}", dependencies=WRITE)
    def delete_interface(iface_id: str) -> Response:
        svc.delete(iface_id)
        return message("deleted 1 entry")

    @r.get("/{iface_id}/IPAddresses", dependencies=READ, responses={200: {"model": list[IPAddressOut]}})
    def list_ips(iface_id: str) -> Response:
        return GoJSONResponse(svc.ips(iface_id))

    @r.post("/{iface_id}/IPAddresses", dependencies=WRITE, status_code=201)
    def add_ip(iface_id: str, body: IPAddressIn) -> Response:
        ip = svc.add_ip(iface_id, body)
        uri = f"{BASE}/{iface_id.lower()}/IPAddresses/{ip}"
        return GoJSONResponse({"URI": uri}, status_code=201, headers={"Location": uri})

    @r.patch("/{iface_id}/IPAddresses/{ip}", dependencies=WRITE)
    def patch_ip(iface_id: str, ip: str, body: IPPatchIn) -> Response:
        return GoJSONResponse(svc.patch_ip(iface_id, ip, body.Network))

    @r.delete("/{iface_id}/IPAddresses/{ip}", dependencies=WRITE)
    def delete_ip(iface_id: str, ip: str) -> Response:
        svc.delete_ip(iface_id, ip)
        return message("deleted 1 entry")

    return r


__all__ = ["created", "router"]
