"""cloud-init as a service module of the all-in-one server."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from pychami.core.context import AppContext
from pychami.core.lane import LANE_BODY_ROUTES, LANE_ROUTES

NAME = "cloudinit"
MIGRATIONS: Path | None = Path(__file__).parent / "migrations" / "versions"


def build(ctx: AppContext) -> list[APIRouter]:
    from pychami.cloudinit import settings as ci_settings  # noqa: PLC0415
    from pychami.cloudinit.api import node_routes, routers  # noqa: PLC0415
    from pychami.cloudinit.service import CloudInitService  # noqa: PLC0415

    settings, base_url = ci_settings.load(ctx.settings)
    service = CloudInitService(ctx.db, ctx.inventory, ctx.inventory_changed, ctx.events, settings, base_url)
    ctx.registry[NAME] = service
    # The node-facing documents and phone-home skip uvicorn's and FastAPI's machinery in a boot storm
    # (the node lane); they are also mounted as plain routes.
    handlers = node_routes.NodeHandlers(service)
    ctx.registry.setdefault(LANE_ROUTES, {}).update(handlers.lane_routes())
    ctx.registry.setdefault(LANE_BODY_ROUTES, {}).update(handlers.lane_body_routes())
    return routers(service)
