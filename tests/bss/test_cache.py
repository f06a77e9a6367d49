"""The boot-storm path: scripts come from in-process caches, writes invalidate them, events are batched."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event

from pychami.bss.cache import RefreshingCache
from pychami.core.db import Database
from pychami.core.inventory import static_source
from pychami.core.settings import load_settings
from pychami.server import create_app
from tests.bss.conftest import scenario_nodes
from tests.conftest import issue

URL = "/boot/v1/bootparameters"
SCRIPT = "/boot/v1/bootscript?mac=52:54:00:be:ef:01"


class StatementLog:
    """Every SQL statement an engine runs, by a real SQLAlchemy event hook."""

    def __init__(self, db: Database) -> None:
        self.statements: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._hook)

    def _hook(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)

    def service_queries(self) -> list[str]:
        """Statements other than the batched boot-event inserts."""
        return [s for s in self.statements if "boot_events" not in s]


def test_bootscript_never_queries_the_database(
    admin: TestClient, node_client: TestClient, db: Database
) -> None:
    """Once warm, a hundred boot-script requests run no SQL at all (events are flushed in batches)."""
    admin.put(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://k"})
    assert node_client.get(SCRIPT).status_code == 200
    log = StatementLog(db)
    for _ in range(100):
        assert node_client.get(SCRIPT).status_code == 200
        node_client.get("/boot/v1/bootscript?mac=52:54:00:00:00:99&ts=1")
    assert log.service_queries() == []


def test_write_invalidates_immediately(admin: TestClient, node_client: TestClient) -> None:
    """A write in this process is visible to the very next boot-script request."""
    admin.put(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://old"})
    assert "http://old " in node_client.get(SCRIPT).text
    admin.patch(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://new"})
    assert "http://new " in node_client.get(SCRIPT).text
    admin.request("DELETE", URL, json={"macs": ["52:54:00:be:ef:01"]})
    assert node_client.get(SCRIPT + "&ts=1").text.startswith("#!ipxe\nsleep 10\n")


@pytest.fixture
def second_process(tmp_path: Path, db_url: str) -> Iterator[TestClient]:
    """Another app on the same database, as a second API process would be (short cache TTL)."""
    settings = load_settings(data_dir=tmp_path / "other", db=db_url, bss={"cache_ttl": 0.2})
    other_db = Database.from_url(db_url)
    app = create_app(
        settings, db=other_db, migrate_schema=False, inventory_source=static_source(scenario_nodes())
    )
    try:
        with TestClient(app) as client:
            yield client
    finally:
        other_db.dispose()


def test_ttl_bounds_staleness_across_processes(
    admin: TestClient, second_process: TestClient, db: Database
) -> None:
    """A write through one process reaches another process's cache once its TTL has passed (the
    second process loaded its caches when it started, before either write)."""
    for verb, kernel in ((admin.put, "http://old"), (admin.patch, "http://new")):
        verb(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": kernel})
        deadline = time.monotonic() + 10
        while f"{kernel} " not in second_process.get(SCRIPT).text:
            assert time.monotonic() < deadline, "the other process never picked up the write"
            time.sleep(0.05)


def test_memoised_answers_follow_writes(admin: TestClient, node_client: TestClient, bss_app: FastAPI) -> None:
    """Repeated identical requests reuse the rendered script until a write, and each is still an event."""
    admin.put(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://one"})
    first = node_client.get(SCRIPT).text
    assert node_client.get(SCRIPT).text == first
    again = node_client.get(SCRIPT + "&retry=4").text
    assert again == first.replace("&retry=1\n", "&retry=5\n")
    admin.put(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://two"})
    assert "http://two " in node_client.get(SCRIPT).text
    assert len(bss_app.state.ctx.events.timeline(xname="x1000c0s0b0n0")) == 4


def test_each_request_records_a_boot_event(
    admin: TestClient, node_client: TestClient, bss_app: FastAPI
) -> None:
    """Every boot-script request becomes a boot event of the node; endpoint-history derives from them."""
    admin.put(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://k"})
    before = int(time.time())
    for retry in range(3):
        node_client.get(f"{SCRIPT}&retry={retry}")
    events = bss_app.state.ctx.events.timeline(xname="x1000c0s0b0n0")
    assert [(e.stage, e.source, e.mac, e.ip) for e in events] == [
        ("bootscript", "bss", "52:54:00:be:ef:01", "testclient")
    ] * 3
    assert [e.detail["retry"] for e in events] == [0, 1, 2]
    (entry,) = node_client.get("/boot/v1/endpoint-history?name=x1000c0s0b0n0").json()
    assert entry["name"] == "x1000c0s0b0n0"
    assert entry["endpoint"] == "bootscript"
    assert before - 1 <= entry["last_epoch"] <= int(time.time())


class CountingLoader:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> tuple[int, object]:
        self.gate.wait(5)
        if self.fail:
            raise RuntimeError("database down")
        self.calls += 1
        return self.calls, self.calls


def test_refreshing_cache_reloads_after_invalidate() -> None:
    """The cache loads once, serves from memory, and reloads after invalidate()."""
    loader = CountingLoader()
    cache = RefreshingCache(loader, ttl=60, name="t")
    assert (cache.get(), cache.get()) == (1, 1)
    cache.invalidate()
    assert cache.get() == 2


def test_loaded_snapshots_leave_the_cyclic_gc() -> None:
    """A loaded value is frozen out of the GC generations, so full collections do not walk it."""
    import gc

    gc.unfreeze()
    before = gc.get_freeze_count()
    RefreshingCache(CountingLoader(), ttl=60, name="t").get()
    assert gc.get_freeze_count() > before
    gc.unfreeze()


def test_refreshing_cache_keeps_value_when_reload_fails() -> None:
    """A failed reload keeps serving the last value (an outage must not stop known nodes booting)."""
    loader = CountingLoader()
    cache = RefreshingCache(loader, ttl=60, name="t")
    cache.get()
    loader.fail = True
    cache.invalidate()
    assert cache.get() == 1
    assert isinstance(cache.last_error, RuntimeError)


def test_refreshing_cache_serves_stale_while_refreshing() -> None:
    """When the TTL has passed, readers get the old value at once while one thread reloads."""
    loader = CountingLoader()
    cache = RefreshingCache(loader, ttl=0.5, name="t")
    cache.get()
    time.sleep(0.6)
    loader.gate.clear()  # hold the background load
    assert cache.get() == 1
    assert cache.get() == 1
    loader.gate.set()
    deadline = time.monotonic() + 5
    while cache.get() == 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert loader.calls == 2


def test_expired_cache_is_revalidated_not_reloaded(admin: TestClient, second_process: TestClient) -> None:
    """Past its TTL, an unchanged cache costs one version read, not a reload of every assignment."""
    admin.put(URL, json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://k"})
    deadline = time.monotonic() + 10
    while "http://k " not in second_process.get(SCRIPT).text:  # its start-up load predates the write
        assert time.monotonic() < deadline, "the other process never picked up the write"
        time.sleep(0.05)
    log = StatementLog(second_process.app.state.ctx.db)
    time.sleep(0.3)
    second_process.get(SCRIPT)
    deadline = time.monotonic() + 10
    while not any("bss_state" in s for s in log.statements):
        assert time.monotonic() < deadline, "the cache was never revalidated"
        time.sleep(0.05)
    time.sleep(0.2)
    assert not any("bss_assignments" in s for s in log.statements)


def test_token_helper_is_usable(bss_app: FastAPI) -> None:
    """The shared token helper issues tokens for this app (guards the fixtures used above)."""
    assert issue(bss_app, "bss:read").count(".") == 2


def test_a_value_older_than_max_stale_is_revalidated_before_it_is_served() -> None:
    """Nobody asked for two TTLs (another process may have written): the reader waits for a fresh value."""
    loader = CountingLoader()
    cache = RefreshingCache(loader, ttl=0.2, name="t")
    assert cache.get() == 1
    time.sleep(0.45)  # past max_stale = 2 TTL
    assert cache.get() == 2
    assert loader.calls == 2


def test_past_max_stale_with_the_database_down_the_last_value_is_served() -> None:
    """An outage does not fail requests; the database is asked again only a TTL later."""
    loader = CountingLoader()
    cache = RefreshingCache(loader, ttl=0.2, name="t")
    assert cache.get() == 1
    loader.fail = True
    time.sleep(0.45)
    assert cache.get() == 1
    assert isinstance(cache.last_error, RuntimeError)
    attempts = loader.calls
    assert cache.get() == 1  # within the next TTL: no new attempt
    assert loader.calls == attempts
