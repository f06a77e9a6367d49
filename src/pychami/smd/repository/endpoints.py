"""Redfish endpoints and component endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.core.db import chunks, insert_for
from pychami.smd import tables as t

rfe = t.redfish_endpoints
ce = t.component_endpoints

RFE_FILTERS = {
    "id": rfe.c.id,
    "fqdn": rfe.c.fqdn,
    "type": rfe.c.type,
    "uuid": rfe.c.uuid,
    "macaddr": rfe.c.mac_addr,
    "ipaddress": rfe.c.ip_address,
}
CE_FILTERS = {
    "id": ce.c.id,
    "redfish_ep": ce.c.redfish_endpoint_id,
    "type": ce.c.type,
    "redfish_type": ce.c.redfish_type,
}


def _conds(columns: dict[str, sa.Column[Any]], filters: dict[str, list[str]]) -> list[sa.ColumnElement[bool]]:
    return [columns[key].in_(values) for key, values in filters.items() if key in columns and values]


class RedfishEndpointsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def query(self, filters: dict[str, list[str]]) -> Sequence[sa.Row[Any]]:
        stmt = sa.select(rfe).where(*_conds(RFE_FILTERS, filters)).order_by(rfe.c.id)
        rows = self.conn.execute(stmt).all()
        if filters.get("laststatus"):
            wanted = set(filters["laststatus"])
            rows = [r for r in rows if (r.discovery_info or {}).get("LastDiscoveryStatus") in wanted]
        return rows

    def get(self, xname: str) -> sa.Row[Any] | None:
        return self.conn.execute(sa.select(rfe).where(rfe.c.id == xname)).first()

    def conflicts(self, ids: Sequence[str], fqdns: Sequence[str]) -> set[str]:
        """IDs or FQDNs already taken (one query per chunk of names)."""
        wanted_ids, wanted_fqdns = set(ids), set(fqdns)
        taken: set[str] = set()
        for part in chunks(sorted(wanted_ids | wanted_fqdns)):
            stmt = sa.select(rfe.c.id, rfe.c.fqdn).where(sa.or_(rfe.c.id.in_(part), rfe.c.fqdn.in_(part)))
            for rid, fqdn in self.conn.execute(stmt):
                taken |= ({rid} & wanted_ids) | ({fqdn} & wanted_fqdns)
        return taken

    def insert(self, rows: Sequence[dict[str, Any]]) -> None:
        for part in chunks(list(rows), 200):
            self.conn.execute(rfe.insert(), part)

    def replace(self, row: dict[str, Any]) -> None:
        stmt = insert_for(self.conn, rfe).values(row)
        stmt = stmt.on_conflict_do_update(
            index_elements=[rfe.c.id], set_={k: stmt.excluded[k] for k in row if k != "id"}
        )
        self.conn.execute(stmt)

    def update(self, xname: str, values: dict[str, Any]) -> int:
        return self.conn.execute(sa.update(rfe).where(rfe.c.id == xname).values(values)).rowcount

    def delete(self, xname: str | None) -> int:
        if xname is None:
            self.conn.execute(sa.delete(ce))
            return self.conn.execute(sa.delete(rfe)).rowcount
        self.conn.execute(sa.delete(ce).where(ce.c.redfish_endpoint_id == xname))
        return self.conn.execute(sa.delete(rfe).where(rfe.c.id == xname)).rowcount


class ComponentEndpointsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def query(self, filters: dict[str, list[str]]) -> Sequence[sa.Row[Any]]:
        stmt = (
            sa.select(ce, rfe.c.fqdn.label("rfe_fqdn"), rfe.c.domain.label("rfe_domain"))
            .join(rfe, rfe.c.id == ce.c.redfish_endpoint_id)
            .where(*_conds(CE_FILTERS, filters))
            .order_by(ce.c.id)
        )
        return self.conn.execute(stmt).all()

    def get(self, xname: str) -> sa.Row[Any] | None:
        rows = self.conn.execute(
            sa.select(ce, rfe.c.fqdn.label("rfe_fqdn"), rfe.c.domain.label("rfe_domain"))
            .join(rfe, rfe.c.id == ce.c.redfish_endpoint_id)
            .where(ce.c.id == xname)
        ).all()
        return rows[0] if rows else None

    def upsert(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        stmt = insert_for(self.conn, ce)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ce.c.id], set_={k: stmt.excluded[k] for k in rows[0] if k != "id"}
        )
        for part in chunks(list(rows), 1000):
            self.conn.execute(stmt, part)

    def delete(self, xname: str | None) -> int:
        if xname is None:
            return self.conn.execute(sa.delete(ce)).rowcount
        return self.conn.execute(sa.delete(ce).where(ce.c.id == xname)).rowcount
