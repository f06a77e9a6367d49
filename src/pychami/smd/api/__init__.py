"""SMD HTTP API (``/hsm/v2``)."""

from __future__ import annotations

from fastapi import APIRouter

from pychami.smd.service import SMDService


def routers(service: SMDService) -> list[APIRouter]:
    from pychami.smd.api import components, endpoints, groups, interfaces, service_routes  # noqa: PLC0415

    return [
        service_routes.router(service),
        components.router(service),
        interfaces.router(service),
        endpoints.router(service),
        groups.router(service),
    ]
