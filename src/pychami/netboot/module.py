"""Netboot as a service module: its lease table, and the daemons started by ``pychami serve``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from pychami.core.context import AppContext

NAME = "netboot"
MIGRATIONS: Path | None = Path(__file__).parent / "migrations" / "versions"


def build(ctx: AppContext) -> list[APIRouter]:
    """No HTTP routes; validates the settings and publishes the daemon (when interfaces are set)."""
    from pychami.netboot.daemon import NetbootDaemon  # noqa: PLC0415
    from pychami.netboot.settings import parse_netboot_settings  # noqa: PLC0415

    cfg = parse_netboot_settings(ctx.settings.netboot)
    if cfg.enabled:
        daemon = ctx.registry[NAME] = NetbootDaemon(
            cfg,
            boot_url=cfg.boot_url or ctx.settings.base_url,
            inventory=ctx.inventory.get,
            events=ctx.events,
            db=ctx.db,
        )
        ctx.inventory_changed.subscribe(daemon.feed.poke)
    return []
