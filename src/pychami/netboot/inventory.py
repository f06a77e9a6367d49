"""The netboot daemons' view of the inventory: the newest snapshot in memory, refreshed off the loop.

``InventoryCache.get()`` may query the database when its TTL expires; the packet handlers must never
wait for that, so a background task calls it in a worker thread and the handlers read :attr:`current`.
A failed refresh (database down) keeps the last snapshot: known nodes keep booting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from pychami.core.inventory import InventorySnapshot
from pychami.core.logs import get_logger

log = get_logger("pychami.netboot.inventory")


class InventoryFeed:
    def __init__(self, load: Callable[[], InventorySnapshot], interval: float = 2.0) -> None:
        self._load = load
        self._interval = interval
        self.current = InventorySnapshot()
        self.failures = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def get(self) -> InventorySnapshot:
        return self.current

    def poke(self) -> None:
        """Refresh soon (called from any thread when SMD signals a change)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def refresh(self) -> bool:
        try:
            self.current = await asyncio.to_thread(self._load)
        except Exception as exc:  # an outage must not stop the daemon: keep serving the last snapshot
            self.failures += 1
            log.warning("inventory refresh failed; serving the last snapshot", error=str(exc))
            return False
        return True

    async def start(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        await self.refresh()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.refresh()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    _loop: asyncio.AbstractEventLoop | None = None
