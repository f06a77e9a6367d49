"""Bootloop leases: decided in memory (the packet path never waits), persisted in the database behind."""

from __future__ import annotations

import sqlalchemy as sa

from pychami.core.db import Database, insert_for
from pychami.netboot.dhcp.policy import Lease, MemoryLeases
from pychami.netboot.tables import netboot_leases


class LeaseRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self) -> list[Lease]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(netboot_leases)).all()
        return [Lease(r.mac, r.ip, r.expires) for r in rows]

    def apply(self, changes: list[tuple[str, Lease | None]]) -> None:
        """Write a batch of changes in one transaction (last change per MAC wins)."""
        final: dict[str, Lease | None] = {}
        for mac, lease in changes:
            final[mac] = lease
        if not final:
            return
        with self.db.transaction() as conn:
            for mac, lease in final.items():
                conn.execute(sa.delete(netboot_leases).where(netboot_leases.c.mac == mac))
                if lease is not None:
                    conn.execute(sa.delete(netboot_leases).where(netboot_leases.c.ip == lease.ip))
                    stmt = insert_for(conn, netboot_leases).values(
                        mac=mac, ip=lease.ip, expires=lease.expires
                    )
                    conn.execute(stmt)


class PersistentLeases(MemoryLeases):
    """:class:`MemoryLeases` loaded from and flushed to :class:`LeaseRepository`."""

    def __init__(self, start: str, end: str, repo: LeaseRepository) -> None:
        super().__init__(start, end)
        self.repo = repo
        self.load(repo.load())
        self.changed.clear()

    def take(self) -> list[tuple[str, Lease | None]]:
        """Changes since the last call (on the event loop; the write happens in a worker thread)."""
        batch, self.changed = self.changed, []
        return batch

    def restore(self, batch: list[tuple[str, Lease | None]]) -> None:
        """Put back a batch that could not be written (database outage): retried next time."""
        self.changed = batch + self.changed
