"""Ethernet interfaces (``/Inventory/EthernetInterfaces``) and their IP addresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.core.db import chunks
from pychami.smd import tables as t

ei = t.ethernet_interfaces
ips = t.interface_ips


@dataclass
class InterfaceFilter:
    ids: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    ips: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    component_ids: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    older_than: dt.datetime | None = None
    newer_than: dt.datetime | None = None


@dataclass
class InterfaceRecord:
    id: str
    description: str
    mac: str
    last_update: dt.datetime
    component_id: str
    type: str
    ips: list[tuple[str, str]]


class InterfacesRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _attach_ips(self, rows: Sequence[sa.Row[Any]]) -> list[InterfaceRecord]:
        by_id: dict[str, list[tuple[str, str]]] = {}
        ids = [r.id for r in rows]
        if len(ids) > 2000:
            select_ips = sa.select(ips.c.interface_id, ips.c.ip, ips.c.network).order_by(
                ips.c.interface_id, ips.c.position
            )
            wanted = set(ids)
            for iid, ip, net in self.conn.execute(select_ips):
                if iid in wanted:
                    by_id.setdefault(iid, []).append((ip, net))
        else:
            for part in chunks(ids):
                stmt = (
                    sa.select(ips.c.interface_id, ips.c.ip, ips.c.network)
                    .where(ips.c.interface_id.in_(part))
                    .order_by(ips.c.interface_id, ips.c.position)
                )
                for iid, ip, net in self.conn.execute(stmt):
                    by_id.setdefault(iid, []).append((ip, net))
        return [
            InterfaceRecord(
                r.id, r.description, r.mac, r.last_update, r.component_id, r.type, by_id.get(r.id, [])
            )
            for r in rows
        ]

    def query(self, flt: InterfaceFilter) -> list[InterfaceRecord]:
        conds: list[sa.ColumnElement[bool]] = []
        if flt.ids:
            conds.append(ei.c.id.in_(flt.ids))
        if flt.macs:
            conds.append(ei.c.mac.in_(flt.macs))
        if flt.component_ids:
            conds.append(ei.c.component_id.in_(flt.component_ids))
        if flt.types:
            conds.append(ei.c.type.in_(flt.types))
        if flt.older_than:
            conds.append(ei.c.last_update < flt.older_than)
        if flt.newer_than:
            conds.append(ei.c.last_update > flt.newer_than)
        if flt.ips or flt.networks:
            sub = sa.select(ips.c.interface_id)
            if flt.ips:
                sub = sub.where(ips.c.ip.in_(flt.ips))
            if flt.networks:
                sub = sub.where(ips.c.network.in_(flt.networks))
            conds.append(ei.c.id.in_(sub))
        rows = self.conn.execute(sa.select(ei).where(*conds).order_by(ei.c.id)).all()
        return self._attach_ips(rows)

    def get(self, iface_id: str) -> InterfaceRecord | None:
        row = self.conn.execute(sa.select(ei).where(ei.c.id == iface_id)).first()
        return self._attach_ips([row])[0] if row else None

    def existing_macs(self, macs: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(list(macs)):
            found.update(self.conn.execute(sa.select(ei.c.mac).where(ei.c.mac.in_(part))).scalars())
        return found

    def insert(self, records: Sequence[InterfaceRecord], skip_existing: bool = False) -> list[str]:
        """Insert interfaces; with ``skip_existing`` MACs already present are left as they are.

        Returns the ids actually inserted.
        """
        if not records:
            return []
        rows = [
            {
                "id": r.id,
                "description": r.description,
                "mac": r.mac,
                "last_update": r.last_update,
                "component_id": r.component_id,
                "type": r.type,
            }
            for r in records
        ]
        inserted: list[str] = []
        if skip_existing:
            present = self.existing_macs([r.mac for r in records])
            rows = [row for row in rows if row["mac"] not in present]
            records = [r for r in records if r.mac not in present]
        for part in chunks(rows, 1000):
            self.conn.execute(ei.insert(), part)
        ip_rows = [
            {"interface_id": r.id, "ip": ip, "network": net, "position": pos}
            for r in records
            for pos, (ip, net) in enumerate(r.ips)
        ]
        for part in chunks(ip_rows, 1000):
            self.conn.execute(ips.insert(), part)
        inserted.extend(r.id for r in records)
        return inserted

    def update(self, iface_id: str, values: dict[str, Any]) -> int:
        return self.conn.execute(sa.update(ei).where(ei.c.id == iface_id).values(values)).rowcount

    def replace_ips(self, iface_id: str, addresses: Sequence[tuple[str, str]]) -> None:
        self.conn.execute(sa.delete(ips).where(ips.c.interface_id == iface_id))
        if addresses:
            self.conn.execute(
                ips.insert(),
                [
                    {"interface_id": iface_id, "ip": ip, "network": net, "position": i}
                    for i, (ip, net) in enumerate(addresses)
                ],
            )

    def add_ip(self, iface_id: str, ip: str, network: str) -> None:
        position = self.conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(ips.c.position), -1)).where(ips.c.interface_id == iface_id)
        ).scalar_one()
        self.conn.execute(
            ips.insert().values(interface_id=iface_id, ip=ip, network=network, position=position + 1)
        )

    def update_ip(self, iface_id: str, ip: str, network: str) -> int:
        return self.conn.execute(
            sa.update(ips).where(ips.c.interface_id == iface_id, ips.c.ip == ip).values(network=network)
        ).rowcount

    def delete_ip(self, iface_id: str, ip: str) -> int:
        return self.conn.execute(
            sa.delete(ips).where(ips.c.interface_id == iface_id, ips.c.ip == ip)
        ).rowcount

    def touch(self, iface_id: str, when: dt.datetime) -> None:
        self.conn.execute(sa.update(ei).where(ei.c.id == iface_id).values(last_update=when))

    def delete(self, iface_id: str | None) -> int:
        if iface_id is None:
            self.conn.execute(sa.delete(ips))
            return self.conn.execute(sa.delete(ei)).rowcount
        self.conn.execute(sa.delete(ips).where(ips.c.interface_id == iface_id))
        return self.conn.execute(sa.delete(ei).where(ei.c.id == iface_id)).rowcount
