"""SMD as a service module of the all-in-one server."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from pychami.core.context import AppContext

NAME = "smd"
MIGRATIONS: Path | None = Path(__file__).parent / "migrations" / "versions"


def build(ctx: AppContext) -> list[APIRouter]:
    from pychami.smd.api import routers  # noqa: PLC0415
    from pychami.smd.service import SMDService  # noqa: PLC0415

    service = SMDService(ctx.db, ctx.inventory_changed)
    ctx.registry[NAME] = service
    return routers(service)
