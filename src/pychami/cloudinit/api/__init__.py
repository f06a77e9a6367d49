"""HTTP routers of the cloud-init service (``/cloud-init``)."""

from __future__ import annotations

from fastapi import APIRouter

from pychami.cloudinit.api import admin_routes, node_routes
from pychami.cloudinit.service import CloudInitService


def routers(service: CloudInitService) -> list[APIRouter]:
    return [node_routes.router(service), admin_routes.router(service)]
