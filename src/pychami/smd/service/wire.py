"""Rendering of stored rows in upstream's JSON shapes (key order and omitempty rules as SMD writes them)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pychami.smd.repository.interfaces import InterfaceRecord

_COMPONENT_FIELDS = (
    ("State", "state"),
    ("Flag", "flag"),
    ("Enabled", "enabled"),
    ("SoftwareStatus", "software_status"),
    ("Role", "role"),
    ("SubRole", "subrole"),
    ("NID", "nid"),
    ("Subtype", "subtype"),
    ("NetType", "net_type"),
    ("Arch", "arch"),
    ("Class", "class"),
    ("ReservationDisabled", "reservation_disabled"),
    ("Locked", "locked"),
)


def component(row: Any) -> dict[str, Any]:
    """``ID`` and ``Type`` always; ``Enabled`` whenever set (a pointer upstream); other empties omitted."""
    out: dict[str, Any] = {"ID": row.id, "Type": row.type}
    m = row._mapping
    for key, col in _COMPONENT_FIELDS:
        value = m[col]
        if key == "Enabled":
            out[key] = bool(value)
        elif value not in ("", None, False):
            out[key] = value
    return out


def component_only(row: Any, output: str) -> dict[str, Any]:
    """The ``stateonly`` / ``flagonly`` / ``roleonly`` / ``nidonly`` projections."""
    out: dict[str, Any] = {"ID": row.id}
    if output == "stateonly":
        out["State"] = row.state
        out["Flag"] = row.flag
    elif output == "flagonly":
        out["Flag"] = row.flag
    elif output == "roleonly":
        out["Role"] = row.role
        if row.subrole:
            out["SubRole"] = row.subrole
    elif output == "nidonly" and row.nid is not None:
        out["NID"] = row.nid
    return out


def timestamp(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ip_address(ip: str, network: str) -> dict[str, str]:
    out = {"IPAddress": ip}
    if network:
        out["Network"] = network
    return out


def interface(rec: InterfaceRecord) -> dict[str, Any]:
    return {
        "ID": rec.id,
        "Description": rec.description,
        "MACAddress": rec.mac,
        "LastUpdate": timestamp(rec.last_update),
        "ComponentID": rec.component_id,
        "Type": rec.type,
        "IPAddresses": [ip_address(ip, net) for ip, net in rec.ips],
    }


def redfish_endpoint(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": row.id,
        "Type": row.type,
    }
    if row.name:
        out["Name"] = row.name
    out.update(
        {"Hostname": row.hostname, "Domain": row.domain, "FQDN": row.fqdn, "Enabled": bool(row.enabled)}
    )
    if row.uuid:
        out["UUID"] = row.uuid
    out["User"] = row.user
    out["Password"] = row.password
    if row.use_ssdp:
        out["UseSSDP"] = True
    if row.mac_required:
        out["MACRequired"] = True
    if row.mac_addr:
        out["MACAddr"] = row.mac_addr
    if row.ip_address:
        out["IPAddress"] = row.ip_address
    out["RediscoverOnUpdate"] = bool(row.rediscover_on_update)
    if row.template_id:
        out["TemplateID"] = row.template_id
    out["DiscoveryInfo"] = row.discovery_info or {"LastDiscoveryStatus": "NotYetQueried"}
    return out


def component_endpoint(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": row.id,
        "Type": row.type,
        "RedfishType": row.redfish_type,
        "RedfishSubtype": row.redfish_subtype,
    }
    if row.mac_addr:
        out["MACAddr"] = row.mac_addr
    if row.uuid:
        out["UUID"] = row.uuid
    out["OdataID"] = row.odata_id
    out["RedfishEndpointID"] = row.redfish_endpoint_id
    out["Enabled"] = bool(row.enabled)
    out["RedfishEndpointFQDN"] = row.rfe_fqdn
    out["RedfishURL"] = (row.rfe_fqdn + row.odata_id) if row.rfe_fqdn else row.odata_id
    out["ComponentEndpointType"] = row.component_endpoint_type
    info = dict(row.info or {})
    key = "RedfishManagerInfo" if row.redfish_type == "Manager" else "RedfishSystemInfo"
    out[key] = info
    return out


def group(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"label": data["label"], "description": data["description"]}
    if data["tags"]:
        out["tags"] = data["tags"]
    if data["exclusive_group"]:
        out["exclusiveGroup"] = data["exclusive_group"]
    out["members"] = {"ids": data["members"]}
    return out


def partition(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": data["name"], "description": data["description"]}
    if data["tags"]:
        out["tags"] = data["tags"]
    out["members"] = {"ids": data["members"]}
    return out
