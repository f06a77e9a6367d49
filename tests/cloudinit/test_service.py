"""Service pieces not reached through HTTP: the stale-while-revalidate cache and odd phone-home input."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.cloudinit.service import Refreshing
from pychami.core.db import Database
from tests.cloudinit.conftest import make_app, serve
from tests.conftest import issue


class _Loads:
    """A loader that numbers its loads and records the previous value each was given; ``failing``:
    the database is down."""

    def __init__(self) -> None:
        self.previous: list[int | None] = []
        self.failing = False

    def __call__(self, previous: int | None) -> int:
        if self.failing:
            raise RuntimeError("database down")
        self.previous.append(previous)
        return len(self.previous)


def test_refreshing_serves_stale_value_while_reloading_in_background() -> None:
    """A stale value is returned at once and replaced by a worker thread; a failed reload keeps it."""
    load = _Loads()

    async def scenario() -> None:
        cache = Refreshing(load, ttl=0.05)
        assert await cache.get() == 1
        assert await cache.get() == 1
        time.sleep(0.06)
        assert await cache.get() == 1  # stale, refresh scheduled
        await _settle(cache)
        assert await cache.get() == 2
        assert load.previous == [None, 1]
        load.failing = True
        time.sleep(0.06)
        assert await cache.get() == 2
        await _settle(cache)
        assert await cache.get() == 2
        assert load.previous == [None, 1]

    asyncio.run(scenario())


async def _settle(cache: Refreshing[int]) -> None:
    for _ in range(200):
        if not cache._refreshing:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("background refresh did not finish")


class _InlineExecutor(concurrent.futures.ThreadPoolExecutor):
    """Runs each job before ``submit`` returns: the fastest refresh possible."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(fn(*args, **kwargs))
        return future


def test_refreshing_keeps_refreshing_after_a_refresh_that_finishes_at_once() -> None:
    """A background refresh that completes before it is even handed back does not block later ones."""

    async def scenario() -> None:
        asyncio.get_running_loop().set_default_executor(_InlineExecutor())
        cache = Refreshing(_Loads(), ttl=0.01)
        assert await cache.get() == 1
        for expected in (2, 3, 4):
            time.sleep(0.02)
            await cache.get()  # stale: the refresh runs inline
            assert await cache.get() == expected

    asyncio.run(scenario())


def test_phone_home_rejects_non_form_bodies(tmp_path: Path, db: Database) -> None:
    """A JSON phone-home body is refused with 400 and stores nothing."""
    app = make_app(tmp_path, db)
    with serve(app) as live, live.node_client("127.0.1.1") as node, live.admin() as admin:
        resp = node.post("/phone-home/i-1", json={"hostname": "x"})
        assert resp.status_code == 400
        assert admin.get("/cloud-init/admin/phone-home/x1000c0s0b0n0").status_code == 404


def test_impersonation_can_be_switched_off(tmp_path: Path, db: Database) -> None:
    """With impersonation disabled the admin impersonation routes do not exist."""
    app: FastAPI = make_app(tmp_path, db, impersonation=False)
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {issue(app, 'admin')}"
        assert c.get("/cloud-init/admin/impersonation/x1000c0s0b0n0/meta-data").status_code == 404
        assert c.get("/cloud-init/admin/cluster-defaults").status_code == 200


def test_write_in_one_process_reaches_another_within_ttl(tmp_path: Path, db: Database) -> None:
    """Two apps on one database (two API processes): B serves A's change once its cache TTL passes,
    and between writes B's periodic check reads only the revision counter."""
    app_a = make_app(tmp_path / "a", db)
    app_b = make_app(tmp_path / "b", db, cache_ttl=0.2)
    with TestClient(app_a) as a, TestClient(app_b) as b:
        a.headers["Authorization"] = f"Bearer {issue(app_a, 'admin')}"
        b.headers["Authorization"] = f"Bearer {issue(app_b, 'admin')}"
        url = "/cloud-init/admin/impersonation/x1000c0s0b0n0/vendor-data"
        assert b.get(url).text == "#include\nhttp://172.16.0.254:8081/cloud-init/compute.yaml\n"
        service_b = app_b.state.ctx.registry["cloudinit"]
        before = service_b._config.get_sync()
        time.sleep(0.25)
        assert service_b._config.get_sync() is before  # nothing written: same snapshot object
        assert (
            a.post("/cloud-init/admin/cluster-defaults", json={"base-url": "http://new/ci"}).status_code
            == 201
        )
        time.sleep(0.25)
        assert b.get(url).text == "#include\nhttp://new/ci/compute.yaml\n"
        assert service_b._config.get_sync().version == before.version + 1


def test_json_null_means_empty_as_in_go(tmp_path: Path, db: Database) -> None:
    """null fields in admin bodies are taken as empty values instead of failing validation."""
    app = make_app(tmp_path, db)
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {issue(app, 'admin')}"
        body = {"name": "io", "description": None, "meta-data": None, "file": None}
        assert c.post("/cloud-init/admin/groups", json=body).status_code == 201
        assert c.get("/cloud-init/admin/groups/io").json() == {
            "name": "io",
            "file": {"content": "", "filename": ""},
        }
        assert c.post("/cloud-init/admin/cluster-defaults", json={"public-keys": None}).status_code == 201


def test_refreshing_reloads_a_value_older_than_two_ttls_before_serving_it() -> None:
    """After an idle spell the first reader waits for the database instead of getting the old value,
    unless the database is down, when the old value is served (and asked for again a TTL later)."""
    load = _Loads()

    async def scenario() -> None:
        cache = Refreshing(load, ttl=0.05)
        assert await cache.get() == 1
        time.sleep(0.12)
        assert cache.peek() is None  # too old to serve without asking
        assert await cache.get() == 2
        load.failing = True
        time.sleep(0.12)
        assert await cache.get() == 2
        assert cache.peek() == 2  # served for another TTL without a new attempt

    asyncio.run(scenario())
