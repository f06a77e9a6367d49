"""SQL for boot configurations and assignments. Every function runs on a connection the service owns."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.bss import tables as t
from pychami.bss.ipxe import BootConfig
from pychami.core.db import chunks, insert_for
from pychami.core.events import boot_events


@dataclass(frozen=True, slots=True)
class Assignment:
    """One identifier bound to a configuration."""

    kind: str
    key: str
    config_id: int
    config: BootConfig


def digest(config: BootConfig) -> str:
    raw = json.dumps([config.kernel, config.initrd, config.params], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class BootParamsRepository:
    """Boot configurations (shared when identical) and the identifiers assigned to them."""

    def all(self, conn: Connection) -> list[Assignment]:
        """Every assignment, oldest first."""
        return self._select(conn, None)

    def find(self, conn: Connection, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Assignment]:
        """Assignments of the given ``(kind, key)`` identifiers that exist."""
        found: dict[tuple[str, str], Assignment] = {}
        by_kind: dict[str, list[str]] = {}
        for kind, key in pairs:
            by_kind.setdefault(kind, []).append(key)
        for kind, keys in by_kind.items():
            for part in chunks(keys):
                cond = sa.and_(t.assignments.c.kind == kind, t.assignments.c.key.in_(part))
                for a in self._select(conn, cond):
                    found[(a.kind, a.key)] = a
        return found

    def _select(self, conn: Connection, where: sa.ColumnElement[bool] | None) -> list[Assignment]:
        a, c = t.assignments, t.boot_configs
        query = (
            sa.select(a.c.kind, a.c.key, a.c.config_id, c.c.kernel, c.c.initrd, c.c.params)
            .join(c, c.c.id == a.c.config_id)
            .order_by(a.c.id)
        )
        if where is not None:
            query = query.where(where)
        return [
            Assignment(kind, key, int(cid), BootConfig(kernel, initrd, params))
            for kind, key, cid, kernel, initrd, params in conn.execute(query)
        ]

    def config_id(self, conn: Connection, config: BootConfig) -> int:
        """The id of ``config``, creating the row when no identical configuration exists."""
        key = digest(config)
        stmt = insert_for(conn, t.boot_configs).values(
            kernel=config.kernel, initrd=config.initrd, params=config.params, digest=key
        )
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["digest"]))
        found = conn.execute(
            sa.select(t.boot_configs.c.id).where(t.boot_configs.c.digest == key)
        ).scalar_one()
        return int(found)

    def assign(self, conn: Connection, pairs: Iterable[tuple[str, str]], config_id: int) -> None:
        rows = [{"kind": kind, "key": key, "config_id": config_id} for kind, key in pairs]
        for part in chunks(rows):
            conn.execute(t.assignments.insert(), part)

    def reassign(self, conn: Connection, pairs: Iterable[tuple[str, str]], config_id: int) -> None:
        for kind, key in pairs:
            conn.execute(
                t.assignments.update()
                .where(t.assignments.c.kind == kind, t.assignments.c.key == key)
                .values(config_id=config_id)
            )

    def unassign(self, conn: Connection, pairs: Sequence[tuple[str, str]]) -> int:
        count = 0
        by_kind: dict[str, list[str]] = {}
        for kind, key in pairs:
            by_kind.setdefault(kind, []).append(key)
        for kind, keys in by_kind.items():
            for part in chunks(keys):
                result = conn.execute(
                    t.assignments.delete().where(t.assignments.c.kind == kind, t.assignments.c.key.in_(part))
                )
                count += result.rowcount
        return count

    def delete_configs_matching(self, conn: Connection, kernel: str, initrd: str, params: str) -> int:
        """Delete configurations equal to every given (non-empty) field, with their assignments."""
        c = t.boot_configs
        conds = []
        if kernel:
            conds.append(c.c.kernel == kernel)
        if initrd:
            conds.append(c.c.initrd == initrd)
        if params:
            conds.append(c.c.params == params)
        ids = [row[0] for row in conn.execute(sa.select(c.c.id).where(*conds))]
        for part in chunks(ids):
            conn.execute(t.assignments.delete().where(t.assignments.c.config_id.in_(part)))
            conn.execute(c.delete().where(c.c.id.in_(part)))
        return len(ids)

    def prune_configs(self, conn: Connection) -> None:
        """Drop configurations no identifier uses any more."""
        used = sa.select(t.assignments.c.config_id)
        conn.execute(t.boot_configs.delete().where(t.boot_configs.c.id.not_in(used)))

    def version(self, conn: Connection) -> int:
        """The store's change counter."""
        return int(conn.execute(sa.select(t.state.c.version).where(t.state.c.id == 1)).scalar_one())

    def bump_version(self, conn: Connection) -> None:
        conn.execute(t.state.update().where(t.state.c.id == 1).values(version=t.state.c.version + 1))

    def last_access(self, conn: Connection, stage: str, name: str | None) -> list[tuple[str, dt.datetime]]:
        """Per xname, the newest boot event of ``stage`` (the endpoint history)."""
        e = boot_events
        query = (
            sa.select(e.c.xname, sa.func.max(e.c.ts))
            .where(e.c.stage == stage, e.c.xname.is_not(None))
            .group_by(e.c.xname)
            .order_by(e.c.xname)
        )
        if name:
            query = query.where(e.c.xname == name)
        return [(str(x), ts) for x, ts in conn.execute(query)]
