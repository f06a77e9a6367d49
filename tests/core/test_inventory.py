"""The inventory cache other services read: reloads on change, revision checks across processes, outages."""

from __future__ import annotations

import time

import pytest

from pychami.core.db import Database
from pychami.core.inventory import ChangeSignal, InventoryCache, InventorySnapshot
from pychami.smd.schemas import ComponentIn, EthernetInterfaceIn
from pychami.smd.service import SMDInventorySource, SMDService


class CountingSource(SMDInventorySource):
    """SMD's source, counting full loads."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.loads = 0

    def load_inventory(self) -> InventorySnapshot:
        self.loads += 1
        return super().load_inventory()


def _add_node(smd: SMDService, index: int) -> None:
    smd.components.upsert([ComponentIn(ID=f"x1000c0s0b{index}n0", State="On", NID=index + 1)], force=False)
    smd.interfaces.create(
        EthernetInterfaceIn(MACAddress=f"52:54:00:be:ef:{index + 1:02x}", ComponentID=f"x1000c0s0b{index}n0")
    )


def test_same_process_write_is_seen_at_once(db: Database) -> None:
    """A write through SMD in this process is visible on the next read, without waiting for the TTL."""
    signal = ChangeSignal()
    smd = SMDService(db, signal)
    cache = InventoryCache(SMDInventorySource(db), signal, ttl=3600)
    assert cache.get().nodes == ()
    _add_node(smd, 0)
    node = cache.get().node_by_mac("52:54:00:BE:EF:01")
    assert node is not None and node.xname == "x1000c0s0b0n0" and node.nid == 1


def test_other_process_write_seen_after_ttl_and_unchanged_not_reloaded(db: Database) -> None:
    """Another process's write shows after the TTL; unchanged, an expiry costs a revision query only."""
    writer = SMDService(db, ChangeSignal())  # another process: its own signal
    source = CountingSource(db)
    cache = InventoryCache(source, ChangeSignal(), ttl=0.05)
    cache.get()
    assert source.loads == 1
    time.sleep(0.1)
    cache.get()
    assert source.loads == 1  # expired, revision unchanged: no full reload
    _add_node(writer, 1)
    time.sleep(0.1)
    assert "x1000c0s0b1n0" in cache.get().by_xname
    assert source.loads == 2


def test_outage_keeps_last_snapshot(db: Database) -> None:
    """When the database fails, the cache keeps serving the last snapshot and records the error."""
    signal = ChangeSignal()
    smd = SMDService(db, signal)
    _add_node(smd, 0)

    class Flaky(SMDInventorySource):
        broken = False

        def load_inventory(self) -> InventorySnapshot:
            if self.broken:
                raise RuntimeError("database down")
            return super().load_inventory()

    source = Flaky(db)
    cache = InventoryCache(source, signal, ttl=0)
    assert "x1000c0s0b0n0" in cache.get().by_xname
    source.broken = True
    signal.bump()
    assert "x1000c0s0b0n0" in cache.get().by_xname
    assert isinstance(cache.last_error, RuntimeError)


def test_first_load_failure_raises(db: Database) -> None:
    """With no snapshot yet, a failing source raises instead of inventing an empty inventory."""

    class Down(SMDInventorySource):
        def load_inventory(self) -> InventorySnapshot:
            raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        InventoryCache(Down(db), ChangeSignal()).get()
