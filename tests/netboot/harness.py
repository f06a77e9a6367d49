"""Run a netboot daemon in a background thread (inside a namespace when given) for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from pychami.core.db import Database
from pychami.core.inventory import Node, static_source
from pychami.netboot.daemon import NetbootDaemon
from pychami.netboot.events import ListEvents
from pychami.netboot.settings import NetbootSettings
from tests.netboot.netns import entered


@dataclass
class Running:
    daemon: NetbootDaemon
    events: ListEvents
    loop: asyncio.AbstractEventLoop

    def call(self, coro: object) -> object:
        assert asyncio.iscoroutine(coro)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)


@contextlib.contextmanager
def running_daemon(
    cfg: NetbootSettings,
    nodes: list[Node],
    *,
    netns: str | None = None,
    db: Database | None = None,
    boot_url: str = "http://198.18.0.1:8081",
) -> Iterator[Running]:
    """Start the daemon (sockets opened inside ``netns``), yield it, always stop it and its thread."""
    events = ListEvents()
    daemon = NetbootDaemon(
        cfg, boot_url=boot_url, inventory=static_source(nodes).load_inventory, events=events, db=db
    )
    loop = asyncio.new_event_loop()
    with entered(netns) if netns else contextlib.nullcontext():
        loop.run_until_complete(daemon.start())
    thread = threading.Thread(target=loop.run_forever, name="netboot-test", daemon=True)
    thread.start()
    try:
        yield Running(daemon, events, loop)
    finally:
        asyncio.run_coroutine_threadsafe(daemon.stop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
