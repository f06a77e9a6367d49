"""The daemon's inventory feed survives database outages; bootloop leases persist across restarts."""

from __future__ import annotations

import asyncio

import pytest

from pychami.core.db import Database
from pychami.core.inventory import ChangeSignal, InventoryCache, InventorySnapshot
from pychami.netboot.dhcp.policy import Lease
from pychami.netboot.inventory import InventoryFeed
from pychami.netboot.leases import LeaseRepository, PersistentLeases
from tests.netboot.conftest import node


class FlakySource:
    """An inventory source whose database can be switched off."""

    def __init__(self) -> None:
        self.up = True
        self.loads = 0

    def load_inventory(self) -> InventorySnapshot:
        self.loads += 1
        if not self.up:
            raise ConnectionError("database is down")
        return InventorySnapshot(nodes=(node(1, "52:54:00:00:00:01", "198.18.0.11"),))


def test_feed_keeps_last_snapshot_during_outage() -> None:
    """When the database goes away, lookups keep answering from the last snapshot, without waiting."""

    async def scenario() -> None:
        source = FlakySource()
        cache = InventoryCache(source, ChangeSignal(), ttl=0.0)
        feed = InventoryFeed(cache.get, interval=0.01)
        await feed.start()
        assert "52:54:00:00:00:01" in feed.get().by_mac
        source.up = False
        await asyncio.sleep(0.1)
        assert feed.failures == 0  # the cache itself keeps the stale snapshot and does not raise
        assert source.loads > 2
        assert "52:54:00:00:00:01" in feed.get().by_mac
        await feed.stop()

    asyncio.run(scenario())


def test_feed_survives_failing_loader() -> None:
    """A loader that raises (no snapshot ever loaded) leaves an empty inventory and counts failures."""

    async def scenario() -> None:
        def broken() -> InventorySnapshot:
            raise ConnectionError("down")

        feed = InventoryFeed(broken, interval=0.01)
        await feed.start()
        await asyncio.sleep(0.05)
        assert feed.failures >= 2
        assert feed.get().by_mac == {}
        await feed.stop()

    asyncio.run(scenario())


def test_feed_poke_refreshes_now() -> None:
    """A change signal from SMD makes the feed reload before its interval elapses."""

    async def scenario() -> None:
        source = FlakySource()
        feed = InventoryFeed(source.load_inventory, interval=60)
        await feed.start()
        loads = source.loads
        feed.poke()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if source.loads > loads:
                break
        assert source.loads == loads + 1
        await feed.stop()

    asyncio.run(scenario())


def test_leases_persist_and_reload(db: Database) -> None:
    """Bootloop leases written to the database come back in a new store; a freed lease is deleted."""
    repo = LeaseRepository(db)
    store = PersistentLeases("10.0.0.10", "10.0.0.12", repo)
    a = store.allocate("52:54:00:00:00:0a", 100.0, 300)
    b = store.allocate("52:54:00:00:00:0b", 100.0, 300)
    assert a is not None
    assert b is not None
    repo.apply(store.take())
    again = PersistentLeases("10.0.0.10", "10.0.0.12", repo)
    assert again.lookup("52:54:00:00:00:0a") == Lease("52:54:00:00:00:0a", "10.0.0.10", 400.0)
    again.release("52:54:00:00:00:0a")
    c = again.allocate("52:54:00:00:00:0c", 200.0, 300)
    assert c is not None
    assert c.ip == "10.0.0.10"
    repo.apply(again.take())
    assert sorted((x.mac, x.ip) for x in repo.load()) == [
        ("52:54:00:00:00:0b", "10.0.0.11"),
        ("52:54:00:00:00:0c", "10.0.0.10"),
    ]


def test_lease_batch_restored_on_failure(db: Database) -> None:
    """A batch that cannot be written is kept for the next flush."""
    store = PersistentLeases("10.0.0.10", "10.0.0.12", LeaseRepository(db))
    store.allocate("52:54:00:00:00:0a", 100.0, 300)
    batch = store.take()
    assert store.take() == []
    store.restore(batch)
    assert store.take() == batch


@pytest.mark.parametrize("bad", [("10.0.0.9", "10.0.0.1")])
def test_pool_order_validated(bad: tuple[str, str]) -> None:
    """A pool whose start is after its end is refused at startup."""
    from pychami.core.errors import ConfigError
    from pychami.netboot.settings import parse_netboot_settings

    with pytest.raises(ConfigError, match="after"):
        parse_netboot_settings(
            {"unknown": "bootloop", "bootloop": {"pool_start": bad[0], "pool_end": bad[1]}}
        )
