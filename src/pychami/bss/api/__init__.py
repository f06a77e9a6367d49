"""BSS HTTP API (``/boot/v1``)."""

from __future__ import annotations

from fastapi import APIRouter

from pychami.bss.service import BSSService


def routers(service: BSSService) -> list[APIRouter]:
    from pychami.bss.api import bootparameters, bootscript, hosts, service_routes  # noqa: PLC0415

    return [
        bootparameters.router(service),
        bootscript.router(service),
        hosts.router(service),
        service_routes.router(service),
    ]
