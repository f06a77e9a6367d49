"""``/boot/v1/service/*``: status, version, storage and SMD connectivity (public)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from pychami.bss.service import BSSService
from pychami.core.web import GoJSONResponse

PREFIX = "/boot/v1/service"


def router(service: BSSService) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["bss"])

    @r.get("/status", response_model=None)
    async def status() -> Response:
        """``{"bss-status":"running"}`` while the process runs."""
        return GoJSONResponse({"bss-status": "running"})

    @r.get("/version", response_model=None)
    async def version() -> Response:
        return GoJSONResponse({"bss-version": service.version})

    @r.get("/storage/status", response_model=None)
    async def storage_status() -> Response:
        ok, backend = await run_in_threadpool(service.storage_status)
        return GoJSONResponse({"bss-storage-backend": backend}, status_code=200 if ok else 500)

    @r.get("/hsm", response_model=None)
    async def hsm() -> Response:
        ok = await run_in_threadpool(service.hsm_status)
        return GoJSONResponse(
            {"bss-status-hsm": "connected" if ok else "error"}, status_code=200 if ok else 500
        )

    @r.get("/status/all", response_model=None)
    async def status_all() -> Response:
        storage_ok, backend = await run_in_threadpool(service.storage_status)
        hsm_ok = await run_in_threadpool(service.hsm_status)
        body = {
            "bss-version": service.version,
            "bss-status": "running",
            "bss-status-hsm": "connected" if hsm_ok else "error",
            "bss-storage-backend": backend,
        }
        return GoJSONResponse(body, status_code=200 if storage_ok and hsm_ok else 500)

    return r
