"""The inventory snapshot SMD hands to the other services."""

from __future__ import annotations

import sqlalchemy as sa

from pychami.core.db import Database
from pychami.core.inventory import Interface, InventorySnapshot, IPAddress, Node
from pychami.smd import tables as t
from pychami.smd.service.writes import current_revision


class SMDInventorySource:
    """Loads the inventory snapshot other services read (one query per table, no N+1)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def revision(self) -> int:
        with self._db.read() as conn:
            return current_revision(conn)

    def load_inventory(self) -> InventorySnapshot:
        with self._db.read() as conn:
            revision = current_revision(conn)
            comps = conn.execute(
                sa.select(
                    t.components.c.id,
                    t.components.c.nid,
                    t.components.c.state,
                    t.components.c.enabled,
                    t.components.c.role,
                    t.components.c.subrole,
                    t.components.c.arch,
                ).where(t.components.c.type == "Node")
            ).all()
            ifaces = conn.execute(
                sa.select(
                    t.ethernet_interfaces.c.id,
                    t.ethernet_interfaces.c.mac,
                    t.ethernet_interfaces.c.component_id,
                    t.ethernet_interfaces.c.description,
                ).where(t.ethernet_interfaces.c.component_id != "")
            ).all()
            ips = conn.execute(
                sa.select(
                    t.interface_ips.c.interface_id, t.interface_ips.c.ip, t.interface_ips.c.network
                ).order_by(t.interface_ips.c.interface_id, t.interface_ips.c.position)
            ).all()
            endpoints = conn.execute(
                sa.select(t.component_endpoints.c.id, t.component_endpoints.c.enabled)
            ).all()
            members = conn.execute(
                sa.select(t.group_members.c.label, t.group_members.c.component_id).order_by(
                    t.group_members.c.label, t.group_members.c.component_id
                )
            ).all()
        ips_by_iface: dict[str, list[IPAddress]] = {}
        for iface_id, ip, network in ips:
            ips_by_iface.setdefault(iface_id, []).append(IPAddress(ip, network))
        ifaces_by_comp: dict[str, list[Interface]] = {}
        for iface_id, mac, comp_id, desc in ifaces:
            ifaces_by_comp.setdefault(comp_id, []).append(
                Interface(mac=mac, ips=tuple(ips_by_iface.get(iface_id, ())), description=desc)
            )
        ep_enabled = {ep_id: bool(enabled) for ep_id, enabled in endpoints}
        groups_by_comp: dict[str, list[str]] = {}
        group_members: dict[str, list[str]] = {}
        for label, comp_id in members:
            groups_by_comp.setdefault(comp_id, []).append(label)
            group_members.setdefault(label, []).append(comp_id)
        nodes = tuple(
            Node(
                xname=xname,
                nid=nid,
                state=state,
                enabled=bool(enabled),
                role=role,
                subrole=subrole,
                arch=arch,
                endpoint_enabled=ep_enabled.get(xname),
                interfaces=tuple(ifaces_by_comp.get(xname, ())),
                groups=tuple(groups_by_comp.get(xname, ())),
            )
            for xname, nid, state, enabled, role, subrole, arch in comps
        )
        return InventorySnapshot(
            nodes=nodes, group_members={k: tuple(v) for k, v in group_members.items()}, revision=revision
        )
