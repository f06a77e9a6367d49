"""Components (``/State/Components``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.core.db import chunks, insert_for
from pychami.smd import tables as t
from pychami.smd.query import ComponentFilter

c = t.components.c

#: Columns a forced upsert may change on an existing component (SMD keeps NID, Role and Enabled).
FORCE_UPDATE_COLUMNS = ("state", "flag", "subtype", "net_type", "arch", "class")


def filter_clause(flt: ComponentFilter) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions for a component filter (AND between keys, OR within a key)."""
    conds: list[sa.ColumnElement[bool]] = []
    for column, values in flt.columns.items():
        col = t.components.c[column]
        if values.include:
            conds.append(col.in_(values.include))
        if values.exclude:
            conds.append(col.not_in(values.exclude))
    for column, value in flt.booleans.items():
        conds.append(t.components.c[column] == value)
    nid_conds: list[sa.ColumnElement[bool]] = []
    if flt.nids:
        nid_conds.append(c.nid.in_(flt.nids))
    for start, end in flt.nid_ranges:
        parts = []
        if start is not None:
            parts.append(c.nid >= start)
        if end is not None:
            parts.append(c.nid <= end)
        nid_conds.append(sa.and_(*parts))
    if nid_conds:
        conds.append(sa.or_(*nid_conds))
    gm = t.group_members.c
    if flt.groups.include:
        conds.append(c.id.in_(sa.select(gm.component_id).where(gm.label.in_(flt.groups.include))))
    if flt.groups.exclude:
        conds.append(c.id.not_in(sa.select(gm.component_id).where(gm.label.in_(flt.groups.exclude))))
    pm = t.partition_members.c
    if flt.partitions.include:
        conds.append(c.id.in_(sa.select(pm.component_id).where(pm.name.in_(flt.partitions.include))))
    if flt.partitions.exclude:
        conds.append(c.id.not_in(sa.select(pm.component_id).where(pm.name.in_(flt.partitions.exclude))))
    return conds


class ComponentsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def query(self, flt: ComponentFilter, ids: Sequence[str] | None = None) -> Sequence[sa.Row[Any]]:
        stmt = sa.select(t.components).where(*filter_clause(flt)).order_by(c.id)
        if ids is not None:
            rows: list[sa.Row[Any]] = []
            for part in chunks(list(ids)):
                rows.extend(self.conn.execute(stmt.where(c.id.in_(part))).all())
            rows.sort(key=lambda r: r.id)
            return rows
        return self.conn.execute(stmt).all()

    def get(self, xname: str) -> sa.Row[Any] | None:
        return self.conn.execute(sa.select(t.components).where(c.id == xname)).first()

    def by_nid(self, nid: int) -> sa.Row[Any] | None:
        return self.conn.execute(sa.select(t.components).where(c.nid == nid).order_by(c.id)).first()

    def by_nid_ranges(self, ranges: Sequence[tuple[int, int]]) -> Sequence[sa.Row[Any]]:
        cond = sa.or_(*(c.nid.between(lo, hi) for lo, hi in ranges))
        return self.conn.execute(sa.select(t.components).where(cond).order_by(c.nid, c.id)).all()

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for part in chunks(list(ids)):
            found.update(self.conn.execute(sa.select(c.id).where(c.id.in_(part))).scalars())
        return found

    def upsert(self, rows: Sequence[dict[str, Any]], force: bool) -> None:
        """Insert new components; existing ones are skipped, or with ``force`` get only the
        FORCE_UPDATE_COLUMNS of the row. Values are bound parameters so the statement compiles once."""
        if not rows:
            return
        stmt = insert_for(self.conn, t.components)
        if force:
            stmt = stmt.on_conflict_do_update(
                index_elements=[c.id], set_={col: stmt.excluded[col] for col in FORCE_UPDATE_COLUMNS}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=[c.id])
        for part in chunks(list(rows), 1000):
            self.conn.execute(stmt, part)

    def update(self, ids: Sequence[str], values: dict[str, Any]) -> int:
        count = 0
        for part in chunks(list(ids)):
            count += self.conn.execute(sa.update(t.components).where(c.id.in_(part)).values(values)).rowcount
        return count

    def set_nids(self, pairs: Sequence[tuple[str, int]]) -> int:
        count = 0
        for xname, nid in pairs:
            count += self.conn.execute(sa.update(t.components).where(c.id == xname).values(nid=nid)).rowcount
        return count

    def delete(self, ids: Sequence[str] | None) -> int:
        """Delete the given components (all when None); interfaces keep their row but lose the link."""
        ei = t.ethernet_interfaces
        if ids is None:
            self.conn.execute(sa.update(ei).where(ei.c.component_id != "").values(component_id="", type=""))
            return self.conn.execute(sa.delete(t.components)).rowcount
        count = 0
        for part in chunks(list(ids)):
            self.conn.execute(
                sa.update(ei).where(ei.c.component_id.in_(part)).values(component_id="", type="")
            )
            count += self.conn.execute(sa.delete(t.components).where(c.id.in_(part))).rowcount
        return count
