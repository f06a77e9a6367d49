"""Groups, partitions and their members."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.smd import tables as t

g = t.groups
gm = t.group_members
p = t.partitions
pm = t.partition_members


class GroupsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def query(self, labels: Sequence[str] = (), tags: Sequence[str] = ()) -> list[dict[str, Any]]:
        stmt = sa.select(g).order_by(g.c.label)
        if labels:
            stmt = stmt.where(g.c.label.in_(labels))
        rows = self.conn.execute(stmt).all()
        if tags:
            wanted = set(tags)
            rows = [r for r in rows if wanted & set(r.tags or [])]
        members = self.members_of([r.label for r in rows])
        return [
            {
                "label": r.label,
                "description": r.description,
                "tags": list(r.tags or []),
                "exclusive_group": r.exclusive_group,
                "members": members.get(r.label, []),
            }
            for r in rows
        ]

    def labels(self) -> list[str]:
        return list(self.conn.execute(sa.select(g.c.label).order_by(g.c.label)).scalars())

    def members_of(self, labels: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        if not labels:
            return out
        stmt = (
            sa.select(gm.c.label, gm.c.component_id).where(gm.c.label.in_(labels)).order_by(gm.c.component_id)
        )
        for label, comp in self.conn.execute(stmt):
            out.setdefault(label, []).append(comp)
        return out

    def exists(self, label: str) -> bool:
        return self.conn.execute(sa.select(g.c.label).where(g.c.label == label)).first() is not None

    def insert(self, label: str, description: str, tags: Sequence[str], exclusive: str) -> None:
        self.conn.execute(
            g.insert().values(
                label=label, description=description, tags=list(tags), exclusive_group=exclusive
            )
        )

    def update(self, label: str, values: dict[str, Any]) -> int:
        return self.conn.execute(sa.update(g).where(g.c.label == label).values(values)).rowcount

    def delete(self, label: str) -> int:
        self.conn.execute(sa.delete(gm).where(gm.c.label == label))
        return self.conn.execute(sa.delete(g).where(g.c.label == label)).rowcount

    def add_members(self, label: str, ids: Sequence[str]) -> None:
        if ids:
            self.conn.execute(gm.insert(), [{"label": label, "component_id": i} for i in ids])

    def remove_member(self, label: str, xname: str) -> int:
        return self.conn.execute(
            sa.delete(gm).where(gm.c.label == label, gm.c.component_id == xname)
        ).rowcount

    def clear_members(self, label: str) -> None:
        self.conn.execute(sa.delete(gm).where(gm.c.label == label))

    def memberships(self, ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        stmt = sa.select(gm.c.component_id, gm.c.label).order_by(gm.c.label)
        wanted = set(ids)
        for comp, label in self.conn.execute(stmt):
            if comp in wanted:
                out.setdefault(comp, []).append(label)
        return out

    def exclusive_conflicts(self, exclusive: str, ids: Sequence[str], except_label: str) -> list[str]:
        """Members of ``ids`` already in another group of the same exclusive set."""
        if not exclusive or not ids:
            return []
        stmt = (
            sa.select(gm.c.component_id)
            .join(g, g.c.label == gm.c.label)
            .where(g.c.exclusive_group == exclusive, g.c.label != except_label, gm.c.component_id.in_(ids))
        )
        return sorted(set(self.conn.execute(stmt).scalars()))


class PartitionsRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def query(self, names: Sequence[str] = (), tags: Sequence[str] = ()) -> list[dict[str, Any]]:
        stmt = sa.select(p).order_by(p.c.name)
        if names:
            stmt = stmt.where(p.c.name.in_(names))
        rows = self.conn.execute(stmt).all()
        if tags:
            wanted = set(tags)
            rows = [r for r in rows if wanted & set(r.tags or [])]
        members: dict[str, list[str]] = {}
        stmt2 = sa.select(pm.c.name, pm.c.component_id).order_by(pm.c.component_id)
        for name, comp in self.conn.execute(stmt2):
            members.setdefault(name, []).append(comp)
        return [
            {
                "name": r.name,
                "description": r.description,
                "tags": list(r.tags or []),
                "members": members.get(r.name, []),
            }
            for r in rows
        ]

    def exists(self, name: str) -> bool:
        return self.conn.execute(sa.select(p.c.name).where(p.c.name == name)).first() is not None

    def insert(self, name: str, description: str, tags: Sequence[str]) -> None:
        self.conn.execute(p.insert().values(name=name, description=description, tags=list(tags)))

    def update(self, name: str, values: dict[str, Any]) -> int:
        return self.conn.execute(sa.update(p).where(p.c.name == name).values(values)).rowcount

    def delete(self, name: str) -> int:
        self.conn.execute(sa.delete(pm).where(pm.c.name == name))
        return self.conn.execute(sa.delete(p).where(p.c.name == name)).rowcount

    def taken(self, ids: Sequence[str], except_name: str) -> list[str]:
        """Components of ``ids`` already in another partition (a component is in at most one)."""
        if not ids:
            return []
        stmt = sa.select(pm.c.component_id).where(pm.c.component_id.in_(ids), pm.c.name != except_name)
        return sorted(self.conn.execute(stmt).scalars())

    def add_members(self, name: str, ids: Sequence[str]) -> None:
        if ids:
            self.conn.execute(pm.insert(), [{"name": name, "component_id": i} for i in ids])

    def remove_member(self, name: str, xname: str) -> int:
        return self.conn.execute(sa.delete(pm).where(pm.c.name == name, pm.c.component_id == xname)).rowcount

    def partition_of(self, ids: Sequence[str]) -> dict[str, str]:
        wanted = set(ids)
        return {
            comp: name
            for name, comp in self.conn.execute(sa.select(pm.c.name, pm.c.component_id))
            if comp in wanted
        }
