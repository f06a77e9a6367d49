"""Redfish endpoints, their V2 ("SchemaVersion") parse into components, interfaces and component
endpoints, and the read-only component endpoints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from pychami.core import xnames
from pychami.core.db import Database
from pychami.core.errors import BadRequest, Conflict, NotFound
from pychami.core.inventory import ChangeSignal
from pychami.smd.repository import (
    ComponentEndpointsRepository,
    ComponentsRepository,
    InterfacesRepository,
    RedfishEndpointsRepository,
)
from pychami.smd.repository.interfaces import InterfaceRecord
from pychami.smd.schemas import RedfishEndpointIn
from pychami.smd.service import wire
from pychami.smd.service.validate import mac_id, normalise_mac, require_ip
from pychami.smd.service.writes import write

RFE_CONFLICT = "operation would conflict with an existing resource that has the same FQDN or xname ID."
_PATCHABLE = {
    "Name": "name",
    "Hostname": "hostname",
    "Domain": "domain",
    "FQDN": "fqdn",
    "Enabled": "enabled",
    "UUID": "uuid",
    "User": "user",
    "Password": "password",
    "UseSSDP": "use_ssdp",
    "MACRequired": "mac_required",
    "MACAddr": "mac_addr",
    "IPAddress": "ip_address",
    "RediscoverOnUpdate": "rediscover_on_update",
    "TemplateID": "template_id",
}


def _invalid(reason: str) -> BadRequest:
    return BadRequest(f"couldn't validate endpoint data: {reason}")


def _discovery_info(info: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"LastDiscoveryStatus": "NotYetQueried"}
    for key, value in (info or {}).items():
        if key in {"LastAttempt", "LastDiscoveryAttempt"}:
            if value and not str(value).startswith("0001-01-01"):
                out["LastDiscoveryAttempt"] = value
        elif key in {"LastDiscoveryStatus", "RedfishVersion"} and value:
            out[key] = value
    return out


def endpoint_row(body: RedfishEndpointIn) -> dict[str, Any]:
    """Validate an endpoint and apply SMD's defaults (hostname and FQDN from the ID)."""
    parsed = xnames.parse(body.ID)
    if parsed is None:
        raise _invalid(f"xname ID '{body.ID}' is invalid")
    if parsed.type not in xnames.CONTROLLER_TYPES:
        raise _invalid(f"'{parsed.xname}' is a {parsed.type}, not a controller (e.g. a NodeBMC x0c0s0b0)")
    mac = ""
    if body.MACAddr:
        norm = normalise_mac(body.MACAddr)
        if norm is None:
            raise _invalid(f"invalid MACAddr '{body.MACAddr}'")
        mac = norm
    ip = require_ip(body.IPAddress) if body.IPAddress else ""
    hostname = body.Hostname or parsed.xname
    domain = body.Domain
    fqdn = body.FQDN or (f"{hostname}.{domain}" if domain else hostname)
    return {
        "id": parsed.xname,
        "type": parsed.type,
        "name": body.Name,
        "hostname": hostname,
        "domain": domain,
        "fqdn": fqdn,
        "enabled": True if body.Enabled is None else body.Enabled,
        "uuid": body.UUID,
        "user": body.User,
        "password": body.Password,
        "use_ssdp": body.UseSSDP,
        "mac_required": body.MACRequired,
        "mac_addr": mac,
        "ip_address": ip,
        "rediscover_on_update": body.RediscoverOnUpdate,
        "template_id": body.TemplateID,
        "discovery_info": _discovery_info(body.DiscoveryInfo),
    }


def _path(uri: str) -> str:
    return urlsplit(uri).path if "://" in uri else uri


def _nics(entries: Any, what: str) -> list[dict[str, str]]:
    """Normalise a Systems/Managers ``ethernet_interfaces`` list; invalid MACs are a 400."""
    out: list[dict[str, str]] = []
    for entry in entries or []:
        if not isinstance(entry, dict):
            raise _invalid(f"{what}: ethernet_interfaces entries must be objects")
        mac = normalise_mac(str(entry.get("mac", "")))
        if mac is None:
            raise _invalid(f"{what}: invalid MAC '{entry.get('mac', '')}'")
        ip = str(entry.get("ip") or "")
        if ip:
            ip = require_ip(ip)
        out.append(
            {
                "mac": mac,
                "ip": ip,
                "name": str(entry.get("name") or ""),
                "description": str(entry.get("description") or ""),
            }
        )
    return out


class V2Parse:
    """What one V2 payload creates: components, interfaces and component endpoints."""

    def __init__(self, rfe_id: str, body: RedfishEndpointIn) -> None:
        self.components: list[dict[str, Any]] = []
        self.node_components: list[dict[str, Any]] = []
        self.interfaces: list[InterfaceRecord] = []
        self.endpoints: list[dict[str, Any]] = []
        now = dt.datetime.now(dt.UTC)
        rfe_type = xnames.xname_type(rfe_id) or "NodeBMC"
        for index, mgr in enumerate(body.Managers or []):
            if not isinstance(mgr, dict):
                raise _invalid("Managers entries must be objects")
            nics = _nics(mgr.get("ethernet_interfaces"), f"Managers[{index}]")
            if index == 0:
                self.components.append(
                    {
                        "id": rfe_id,
                        "type": rfe_type,
                        "state": "",
                        "flag": "",
                        "enabled": True,
                    }
                )
                self.endpoints.append(
                    {
                        "id": rfe_id,
                        "type": rfe_type,
                        "redfish_type": "Manager",
                        "redfish_subtype": str(mgr.get("type") or ""),
                        "uuid": str(mgr.get("uuid") or ""),
                        "odata_id": _path(str(mgr.get("uri") or "")),
                        "redfish_endpoint_id": rfe_id,
                        "enabled": True,
                        "mac_addr": nics[0]["mac"] if nics else "",
                        "component_endpoint_type": "ComponentEndpointManager",
                        "info": {
                            "Name": str(mgr.get("name") or ""),
                            "Actions": mgr.get("actions") or None,
                            "EthernetNICInfo": [self._nic_info(n, mgr) for n in nics],
                        },
                    }
                )
            for nic in nics:
                self.interfaces.append(self._iface(nic, rfe_id, rfe_type, now))
        seen: set[str] = set()
        position = 0
        for index, system in enumerate(body.Systems or []):
            if not isinstance(system, dict):
                raise _invalid("Systems entries must be objects")
            uuid = str(system.get("uuid") or "")
            if uuid and uuid in seen:
                continue
            seen.add(uuid)
            node = f"{rfe_id}n{position}"
            nics = _nics(system.get("ethernet_interfaces"), f"Systems[{index}]")
            self.node_components.append(
                {
                    "id": node,
                    "type": "Node",
                    "state": "On",
                    "flag": "OK",
                    "enabled": True,
                    "nid": position + 1,
                    "role": "Compute",
                }
            )
            uri_path = _path(str(system.get("uri") or ""))
            actions = system.get("actions")
            self.endpoints.append(
                {
                    "id": node,
                    "type": "Node",
                    "redfish_type": "ComputerSystem",
                    "redfish_subtype": "",
                    "uuid": uuid,
                    "odata_id": uri_path,
                    "redfish_endpoint_id": rfe_id,
                    "enabled": True,
                    "mac_addr": "",
                    "component_endpoint_type": "ComponentEndpointComputerSystem",
                    "info": {
                        "Name": str(system.get("name") or ""),
                        "Actions": {
                            "#ComputerSystem.Reset": {
                                "AllowableValues": list(actions) if isinstance(actions, list) else [],
                                "target": f"{uri_path}/Actions/ComputerSystem.Reset",
                            }
                        },
                        "EthernetNICInfo": [self._nic_info(n, system) for n in nics],
                    },
                }
            )
            for nic in nics:
                self.interfaces.append(self._iface(nic, node, "Node", now))
            position += 1

    @staticmethod
    def _iface(nic: dict[str, str], comp_id: str, comp_type: str, now: dt.datetime) -> InterfaceRecord:
        return InterfaceRecord(
            id=mac_id(nic["mac"]),
            description=nic["description"],
            mac=nic["mac"],
            last_update=now,
            component_id=comp_id,
            type=comp_type,
            ips=[(nic["ip"], "")] if nic["ip"] else [],
        )

    @staticmethod
    def _nic_info(nic: dict[str, str], parent: Mapping[str, Any]) -> dict[str, Any]:
        base = _path(str(parent.get("uri") or ""))
        return {
            "RedfishId": nic["name"],
            "@odata.id": f"{base}/EthernetInterfaces/{nic['name']}" if nic["name"] else "",
            "Description": nic["description"],
            "InterfaceEnabled": True,
            "MACAddress": nic["mac"],
        }


def apply_parses(conn: Connection, parses: Sequence[V2Parse], force: bool) -> None:
    """Write what the parses create, batched across endpoints (one statement per table)."""
    if not parses:
        return
    comps = [_full(row) for p in parses for row in (*p.components, *p.node_components)]
    # BMCs and nodes: upsert; existing ones keep NID/role/enabled and take the parse's state/flag.
    ComponentsRepository(conn).upsert(comps, force=True)
    ifaces = InterfacesRepository(conn)
    unique: dict[str, InterfaceRecord] = {}
    for parse in parses:
        for rec in parse.interfaces:
            unique.setdefault(rec.mac, rec)  # first wins for a MAC repeated in the payload
    records = list(unique.values())
    if force:
        present = ifaces.existing_macs([r.mac for r in records])
        for rec in records:
            if rec.mac in present:
                ifaces.update(
                    rec.id,
                    {
                        "component_id": rec.component_id,
                        "type": rec.type,
                        "description": rec.description,
                        "last_update": rec.last_update,
                    },
                )
                if rec.ips:
                    ifaces.replace_ips(rec.id, rec.ips)
    ifaces.insert(records, skip_existing=True)
    ComponentEndpointsRepository(conn).upsert([ep for p in parses for ep in p.endpoints])


def _full(row: dict[str, Any]) -> dict[str, Any]:
    base = {
        "state": "",
        "flag": "",
        "enabled": True,
        "software_status": "",
        "role": "",
        "subrole": "",
        "nid": None,
        "subtype": "",
        "net_type": "",
        "arch": "",
        "class": "",
        "reservation_disabled": False,
        "locked": False,
    }
    base.update(row)
    return base


class EndpointsService:
    def __init__(self, db: Database, changed: ChangeSignal) -> None:
        self.db = db
        self.changed = changed

    def find(self, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        normalised = dict(filters)
        if "id" in normalised:
            normalised["id"] = [xnames.normalise(x) for x in normalised["id"]]
        if "type" in normalised:
            normalised["type"] = [_canonical_type(v) for v in normalised["type"]]
        if "macaddr" in normalised:
            normalised["macaddr"] = [normalise_mac(m) or m.lower() for m in normalised["macaddr"]]
        with self.db.read() as conn:
            return [wire.redfish_endpoint(r) for r in RedfishEndpointsRepository(conn).query(normalised)]

    def get(self, xname: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = RedfishEndpointsRepository(conn).get(xnames.normalise(xname))
        if row is None:
            raise NotFound("no such xname.")
        return wire.redfish_endpoint(row)

    def create(self, bodies: Sequence[RedfishEndpointIn]) -> list[str]:
        """Store endpoints (all or none) and parse their V2 payloads."""
        if not bodies:
            raise _invalid("no endpoints given")
        rows = [endpoint_row(b) for b in bodies]
        ids = [r["id"] for r in rows]
        fqdns = [r["fqdn"] for r in rows]
        if len(set(ids)) != len(ids) or len(set(fqdns)) != len(fqdns):
            raise Conflict(RFE_CONFLICT)
        parses = [
            V2Parse(r["id"], b) for r, b in zip(rows, bodies, strict=True) if (b.SchemaVersion or 0) >= 1
        ]
        with write(self.db, self.changed) as conn:
            repo = RedfishEndpointsRepository(conn)
            if repo.conflicts(ids, fqdns):
                raise Conflict(RFE_CONFLICT)
            repo.insert(rows)
            apply_parses(conn, parses, force=False)
        return ids

    def put(self, xname: str, body: RedfishEndpointIn) -> dict[str, Any]:
        """Insert or replace; a V2 payload is re-parsed with force-update."""
        target = xnames.normalise(xname)
        if body.ID and xnames.normalise(body.ID) != target:
            raise BadRequest("ID in URL and PUT body do not match")
        body = body.model_copy(update={"ID": target})
        row = endpoint_row(body)
        parse = V2Parse(row["id"], body) if (body.SchemaVersion or 0) >= 1 else None
        with write(self.db, self.changed) as conn:
            repo = RedfishEndpointsRepository(conn)
            taken = repo.conflicts([], [row["fqdn"]])
            current = repo.get(target)
            if taken and (current is None or current.fqdn != row["fqdn"]):
                raise Conflict(RFE_CONFLICT)
            repo.replace(row)
            if parse is not None:
                apply_parses(conn, [parse], force=True)
            stored = repo.get(target)
        assert stored is not None
        return wire.redfish_endpoint(stored)

    def patch(self, xname: str, body: RedfishEndpointIn) -> dict[str, Any]:
        target = xnames.normalise(xname)
        values: dict[str, Any] = {}
        for key in body.model_fields_set:
            column = _PATCHABLE.get(key)
            if column is None:
                continue
            value = getattr(body, key)
            if key == "MACAddr" and value:
                value = normalise_mac(value)
                if value is None:
                    raise _invalid(f"invalid MACAddr '{body.MACAddr}'")
            if key == "IPAddress" and value:
                value = require_ip(value)
            values[column] = value
        if not values:
            raise BadRequest("Request must have at least one patch field.")
        with write(self.db, self.changed) as conn:
            repo = RedfishEndpointsRepository(conn)
            if repo.get(target) is None:
                raise NotFound("no such xname.")
            if "fqdn" in values and repo.conflicts([], [values["fqdn"]]) - {target}:
                current = repo.get(target)
                if current is None or current.fqdn != values["fqdn"]:
                    raise Conflict(RFE_CONFLICT)
            repo.update(target, values)
            stored = repo.get(target)
        assert stored is not None
        return wire.redfish_endpoint(stored)

    def delete(self, xname: str) -> None:
        with write(self.db, self.changed) as conn:
            if RedfishEndpointsRepository(conn).delete(xnames.normalise(xname)) == 0:
                raise NotFound("no such xname.")

    def delete_all(self) -> int:
        with write(self.db, self.changed) as conn:
            count = RedfishEndpointsRepository(conn).delete(None)
        if count == 0:
            raise NotFound("no entries to delete")
        return count

    # component endpoints (read-only apart from deletes) ------------------------------------------

    def list_component_endpoints(self, filters: dict[str, list[str]]) -> list[dict[str, Any]]:
        normalised = dict(filters)
        for key in ("id", "redfish_ep"):
            if key in normalised:
                normalised[key] = [xnames.normalise(x) for x in normalised[key]]
        if "type" in normalised:
            normalised["type"] = [_canonical_type(v) for v in normalised["type"]]
        with self.db.read() as conn:
            return [wire.component_endpoint(r) for r in ComponentEndpointsRepository(conn).query(normalised)]

    def get_component_endpoint(self, xname: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = ComponentEndpointsRepository(conn).get(xnames.normalise(xname))
        if row is None:
            raise NotFound("no such xname.")
        return wire.component_endpoint(row)

    def delete_component_endpoint(self, xname: str | None) -> int:
        with write(self.db, self.changed) as conn:
            count = ComponentEndpointsRepository(conn).delete(xnames.normalise(xname) if xname else None)
        if count == 0:
            raise NotFound("no such xname." if xname else "no entries to delete")
        return count


def _canonical_type(value: str) -> str:
    from pychami.smd import enums  # noqa: PLC0415

    return enums.normalise("Type", value) or value
