"""Service pieces not reached through HTTP: the stale-while-revalidate cache and odd phone-home input."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.cloudinit.service import Refreshing
from pychami.core.db import Database
from tests.cloudinit.conftest import make_app, serve
from tests.conftest import issue


def test_refreshing_serves_stale_value_while_reloading_in_background() -> None:
    """A stale value is returned at once and replaced by a worker thread; a failed reload keeps it."""
    loads: list[int | None] = []
    failing = False

    def load(previous: int | None) -> int:
        if failing:
            raise RuntimeError("database down")
        loads.append(previous)
        return len(loads)

    async def scenario() -> None:
        nonlocal failing
        cache = Refreshing(load, ttl=0.05)
        assert await cache.get() == 1
        assert await cache.get() == 1
        time.sleep(0.06)
        assert await cache.get() == 1  # stale, refresh scheduled
        await _settle(cache)
        assert await cache.get() == 2
        assert loads == [None, 1]
        failing = True
        time.sleep(0.06)
        assert await cache.get() == 2
        await _settle(cache)
        assert await cache.get() == 2
        assert loads == [None, 1]

    asyncio.run(scenario())


async def _settle(cache: Refreshing[int]) -> None:
    for _ in range(200):
        if cache._pending is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("background refresh did not finish")


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
