"""BSS as a service module of the all-in-one server."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from pychami.core.context import AppContext
from pychami.core.lane import LANE_ROUTES

NAME = "bss"
MIGRATIONS: Path | None = Path(__file__).parent / "migrations" / "versions"


def build(ctx: AppContext) -> list[APIRouter]:
    from pychami.bss.api import bootscript, routers  # noqa: PLC0415
    from pychami.bss.cache import InventoryView  # noqa: PLC0415
    from pychami.bss.service import BSSService  # noqa: PLC0415
    from pychami.bss.settings import load_bss_settings  # noqa: PLC0415

    settings = load_bss_settings(ctx.settings.bss)
    service = BSSService(
        ctx.db,
        InventoryView(ctx.inventory, ctx.inventory_changed, ttl=settings.inventory_ttl),
        ctx.events,
        settings.script_options(ctx.settings.base_url),
        cache_ttl=settings.cache_ttl,
    )
    ctx.registry[NAME] = service
    ctx.registry.setdefault(LANE_ROUTES, {})[("GET", bootscript.PATH)] = bootscript.lane_handler(service)
    return routers(service)
