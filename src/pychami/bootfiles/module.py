"""``GET``/``HEAD /boot-images/<key>``: what ``image-build`` published to the local object store, with
Range support (iPXE, live-boot and curl resume), and a boot event per download start."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from pychami.core.context import AppContext
from pychami.core.errors import BadRequest, NotFound
from pychami.core.storage import LocalObjectStore

NAME = "bootfiles"
MIGRATIONS: Path | None = None
BUCKET = "boot-images"


def stage_of(key: str) -> str:
    """Boot-timeline stage of a file by its upstream key name (§7.3 of the compat spec)."""
    name = key.rsplit("/", 1)[-1]
    if name.startswith(("vmlinuz", "kernel")):
        return "kernel"
    if name.startswith(("initramfs", "initrd")):
        return "initrd"
    return "root image"


def build(ctx: AppContext) -> list[APIRouter]:
    store = LocalObjectStore(ctx.settings.data_dir / "objects", BUCKET)
    root = (ctx.settings.data_dir / "objects" / BUCKET).resolve()
    router = APIRouter(tags=["boot files"])

    def locate(key: str) -> Path:
        path = store.path(key)  # refuses absolute keys, '..' and empty parts
        try:
            resolved = path.resolve(strict=True)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no such boot file: {key}") from None
        if not resolved.is_relative_to(root) or not resolved.is_file():
            # A symlink out of the store, or a directory: never served.
            raise NotFound(f"no such boot file: {key}")
        return resolved

    async def boot_file(key: str, request: Request) -> Response:
        """A published kernel, initramfs or SquashFS (public: nodes fetch them without a token)."""
        if "\x00" in key:
            raise BadRequest("invalid key")
        path = locate(key)
        range_header = request.headers.get("range", "")
        if request.method == "GET" and (not range_header or range_header.startswith("bytes=0-")):
            ip = request.client.host if request.client else None
            node = ctx.inventory.get().by_ip.get(ip or "")
            mac = node.macs[0] if node and node.macs else None
            ctx.events.record(
                stage_of(key),
                "bootfiles",
                xname=node.xname if node else None,
                mac=mac,
                ip=ip,
                detail={"key": key},
            )
        return FileResponse(path, media_type="application/octet-stream")

    # Two routes, not one with two methods: OpenAPI wants one operation id per method, and FastAPI
    # gives every method of a route the same one.
    path = f"/{BUCKET}/{{key:path}}"
    router.add_api_route(path, boot_file, methods=["GET"], name="boot_file")
    router.add_api_route(path, boot_file, methods=["HEAD"], name="boot_file_head", include_in_schema=False)
    return [router]
