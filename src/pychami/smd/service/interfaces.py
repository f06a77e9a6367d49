"""Ethernet interface rules: server-side IDs from MACs, types from component xnames, 409 on duplicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pychami.core import xnames
from pychami.core.db import Database
from pychami.core.errors import BadRequest, Conflict, NotFound
from pychami.core.inventory import ChangeSignal
from pychami.smd.repository import InterfacesRepository
from pychami.smd.repository.interfaces import InterfaceFilter, InterfaceRecord
from pychami.smd.schemas import EthernetInterfaceIn, EthernetInterfacePatchIn, IPAddressIn
from pychami.smd.service import wire
from pychami.smd.service.validate import mac_id, normalise_mac, require_ip, require_mac
from pychami.smd.service.writes import write

DUPLICATE_MAC = (
    "operation would conflict with an existing component ethernet interface that has the same MAC address."
)


def _component(component_id: str) -> tuple[str, str]:
    if not component_id:
        return "", ""
    parsed = xnames.parse(component_id)
    if parsed is None:
        raise BadRequest(f"invalid ComponentID '{component_id}'")
    return parsed.xname, parsed.type


def _ips(addresses: Sequence[IPAddressIn]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for addr in addresses:
        if not addr.IPAddress:
            raise BadRequest("IPAddress is required for each entry of IPAddresses")
        ip = require_ip(addr.IPAddress)
        if ip in seen:
            raise BadRequest(f"duplicate IP address '{ip}'")
        seen.add(ip)
        out.append((ip, addr.Network))
    return out


def _datetime(text: str, key: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"invalid {key} '{text}': expected an RFC 3339 time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def interface_filter(query: Mapping[str, Sequence[str]]) -> InterfaceFilter:
    flt = InterfaceFilter()
    for key, values in query.items():
        if key == "id":
            flt.ids.extend(v.lower() for v in values)
        elif key == "macaddress":
            flt.macs.extend(normalise_mac(v) or v.lower() for v in values)
        elif key == "ipaddress":
            flt.ips.extend(values)
        elif key == "network":
            flt.networks.extend(values)
        elif key == "componentid":
            flt.component_ids.extend(xnames.normalise(v) for v in values)
        elif key == "type":
            flt.types.extend(values)
        elif key == "olderthan" and values:
            flt.older_than = _datetime(values[0], "OlderThan")
        elif key == "newerthan" and values:
            flt.newer_than = _datetime(values[0], "NewerThan")
    return flt


def build_record(body: EthernetInterfaceIn, now: dt.datetime) -> InterfaceRecord:
    mac = require_mac(body.MACAddress, "MACAddress")
    comp_id, comp_type = _component(body.ComponentID)
    return InterfaceRecord(
        id=mac_id(mac),
        description=body.Description,
        mac=mac,
        last_update=now,
        component_id=comp_id,
        type=comp_type,
        ips=_ips(body.IPAddresses),
    )


class InterfacesService:
    def __init__(self, db: Database, changed: ChangeSignal) -> None:
        self.db = db
        self.changed = changed

    def find(self, query: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
        flt = interface_filter(query)
        with self.db.read() as conn:
            return [wire.interface(r) for r in InterfacesRepository(conn).query(flt)]

    def get(self, iface_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            rec = InterfacesRepository(conn).get(iface_id.lower())
        if rec is None:
            raise NotFound(f"No such component ethernet interface: {iface_id}")
        return wire.interface(rec)

    def create(self, body: EthernetInterfaceIn) -> str:
        rec = build_record(body, dt.datetime.now(dt.UTC))
        with write(self.db, self.changed) as conn:
            repo = InterfacesRepository(conn)
            if repo.existing_macs([rec.mac]):
                raise Conflict(DUPLICATE_MAC)
            repo.insert([rec])
        return rec.id

    def patch(self, iface_id: str, body: EthernetInterfacePatchIn) -> dict[str, Any]:
        if body.Description is None and body.ComponentID is None and body.IPAddresses is None:
            raise BadRequest("Request must have at least one patch field.")
        key = iface_id.lower()
        with write(self.db, self.changed) as conn:
            repo = InterfacesRepository(conn)
            if repo.get(key) is None:
                raise NotFound(f"No such component ethernet interface: {iface_id}")
            values: dict[str, Any] = {"last_update": dt.datetime.now(dt.UTC)}
            if body.Description is not None:
                values["description"] = body.Description
            if body.ComponentID is not None:
                values["component_id"], values["type"] = _component(body.ComponentID)
            repo.update(key, values)
            if body.IPAddresses is not None:
                repo.replace_ips(key, _ips(body.IPAddresses))
            rec = repo.get(key)
        assert rec is not None
        return wire.interface(rec)

    def delete(self, iface_id: str) -> None:
        with write(self.db, self.changed) as conn:
            if InterfacesRepository(conn).delete(iface_id.lower()) == 0:
                raise NotFound(f"No such component ethernet interface: {iface_id}")

    def delete_all(self) -> int:
        with write(self.db, self.changed) as conn:
            count = InterfacesRepository(conn).delete(None)
        if count == 0:
            raise NotFound("no entries to delete")
        return count

    def ips(self, iface_id: str) -> list[dict[str, str]]:
        rec = self._require(iface_id)
        return [wire.ip_address(ip, net) for ip, net in rec.ips]

    def _require(self, iface_id: str) -> InterfaceRecord:
        with self.db.read() as conn:
            rec = InterfacesRepository(conn).get(iface_id.lower())
        if rec is None:
            raise NotFound(f"No such component ethernet interface: {iface_id}")
        return rec

    def add_ip(self, iface_id: str, addr: IPAddressIn) -> str:
        ip = _ips([addr])[0][0]
        key = iface_id.lower()
        with write(self.db, self.changed) as conn:
            repo = InterfacesRepository(conn)
            rec = repo.get(key)
            if rec is None:
                raise NotFound(f"No such component ethernet interface: {iface_id}")
            if any(existing == ip for existing, _ in rec.ips):
                raise Conflict(f"operation would conflict with an existing IP address '{ip}' on {key}.")
            repo.add_ip(key, ip, addr.Network)
            repo.touch(key, dt.datetime.now(dt.UTC))
        return ip

    def patch_ip(self, iface_id: str, ip: str, network: str | None) -> dict[str, str]:
        if network is None:
            raise BadRequest("Request must have at least one patch field.")
        key = iface_id.lower()
        with write(self.db, self.changed) as conn:
            repo = InterfacesRepository(conn)
            if repo.update_ip(key, ip, network) == 0:
                raise NotFound(f"No such IP address {ip} on component ethernet interface {iface_id}")
            repo.touch(key, dt.datetime.now(dt.UTC))
        return wire.ip_address(ip, network)

    def delete_ip(self, iface_id: str, ip: str) -> None:
        key = iface_id.lower()
        with write(self.db, self.changed) as conn:
            if InterfacesRepository(conn).delete_ip(key, ip) == 0:
                raise NotFound(f"No such IP address {ip} on component ethernet interface {iface_id}")
