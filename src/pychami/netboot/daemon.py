"""The netboot daemons of one process: DHCP server(s), TFTP server, inventory feed, lease writer."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from pychami.core.db import Database
from pychami.core.inventory import InventorySnapshot
from pychami.core.logs import get_logger
from pychami.netboot.dhcp.policy import LeaseStore, MemoryLeases, Policy
from pychami.netboot.dhcp.server import DhcpServer
from pychami.netboot.events import EventSink
from pychami.netboot.inventory import InventoryFeed
from pychami.netboot.leases import LeaseRepository, PersistentLeases
from pychami.netboot.settings import NetbootSettings
from pychami.netboot.tftp.server import TftpServer

log = get_logger("pychami.netboot")


class NetbootDaemon:
    """Starts and stops everything; ``inventory`` is ``ctx.inventory.get`` (may block: run in a thread)."""

    def __init__(
        self,
        cfg: NetbootSettings,
        *,
        boot_url: str,
        inventory: Callable[[], InventorySnapshot],
        events: EventSink,
        db: Database | None = None,
    ) -> None:
        self.cfg = cfg
        self.events = events
        self.feed = InventoryFeed(inventory, cfg.inventory_refresh)
        self.leases: LeaseStore | None = None
        self._persistent: PersistentLeases | None = None
        if cfg.unknown == "bootloop":
            start, end = cfg.bootloop.pool_start, cfg.bootloop.pool_end
            assert start is not None
            assert end is not None
            if db is not None:
                self._persistent = PersistentLeases(start, end, LeaseRepository(db))
                self.leases = self._persistent
            else:
                self.leases = MemoryLeases(start, end)
        self.policy = Policy(cfg, boot_url=boot_url, leases=self.leases)
        self.dhcp = DhcpServer(
            self.policy,
            self.feed.get,
            events,
            interfaces=cfg.interfaces,
            port=cfg.dhcp_port,
            client_port=cfg.client_port,
            relay_port=cfg.relay_port,
        )
        self.tftp: TftpServer | None = None
        if cfg.tftp:
            self.tftp = TftpServer(
                cfg.effective_tftp_root(),
                events,
                host=cfg.tftp_listen or "0.0.0.0",  # noqa: S104
                port=cfg.tftp_port,
                timeout=cfg.tftp_timeout,
                retries=cfg.tftp_retries,
                max_blksize=cfg.tftp_max_blksize,
                max_window=cfg.tftp_max_windowsize,
                inventory=self.feed.get,
                follow_symlinks=cfg.tftp_follow_symlinks,
            )
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.feed.start()
        await self.dhcp.start()
        if self.tftp is not None:
            await self.tftp.start()
        if self._persistent is not None:
            self._writer = asyncio.create_task(self._write_leases())

    async def _write_leases(self) -> None:
        store = self._persistent
        assert store is not None
        while True:
            await asyncio.sleep(0.5)
            await self.flush_leases()

    async def flush_leases(self) -> None:
        store = self._persistent
        if store is None:
            return
        batch = store.take()
        if not batch:
            return
        try:
            await asyncio.to_thread(store.repo.apply, batch)
        except Exception as exc:  # database outage: keep the batch and retry
            store.restore(batch)
            log.warning("bootloop leases not persisted yet", error=str(exc))

    async def stop(self) -> None:
        await self.dhcp.stop()
        if self.tftp is not None:
            await self.tftp.stop()
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.flush_leases()
        await self.feed.stop()

    async def run_forever(self) -> None:
        """Serve until SIGINT or SIGTERM (handled explicitly: either may arrive ignored or from systemd)."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        await self.start()
        try:
            await stopping.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            await self.stop()
