"""``GET``/``HEAD /boot-images/<key>``: what ``image-build`` published to the local object store, with
Range support (iPXE, live-boot and curl resume), and a boot event per download start."""

from __future__ import annotations

import hashlib
import os
import stat
import time
from email.utils import formatdate
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from pychami.core.context import AppContext
from pychami.core.errors import BadRequest, NotFound
from pychami.core.lane import LANE_ROUTES, NodeRequest, Reply, node_request
from pychami.core.storage import LocalObjectStore

OCTETS = "application/octet-stream"

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


PREFIX = f"/{BUCKET}/"
#: Seconds a key's resolved path (symlinks followed, checked to stay in the store) is reused.
RESOLVE_TTL = 2.0
#: Largest Range answered from the event loop with one pread (larger reads stream from a thread).
QUICK_RANGE = 1024 * 1024


def file_headers(st: os.stat_result) -> list[tuple[str, str]]:
    """The validators and length a :class:`FileResponse` of this file sends."""
    etag = hashlib.md5(f"{st.st_mtime}-{st.st_size}".encode(), usedforsecurity=False).hexdigest()
    return [
        ("accept-ranges", "bytes"),
        ("content-length", str(st.st_size)),
        ("last-modified", formatdate(st.st_mtime, usegmt=True)),
        ("etag", f'"{etag}"'),
    ]


def quick_reply(request: NodeRequest, path: Path, st: os.stat_result) -> Reply | None:
    """HEAD, or ``Range: bytes=A-B`` / ``bytes=A-`` of at most :data:`QUICK_RANGE` bytes inside the
    file (no If-Range); None for anything else."""
    headers = file_headers(st)
    if request.method == "HEAD":
        return Reply(200, b"", OCTETS, headers)
    spec = request.header(b"range")
    if not spec.startswith("bytes=") or "," in spec or b"if-range" in request.headers:
        return None
    first_text, sep, last_text = spec[6:].strip().partition("-")
    if not sep or not first_text.isdigit() or (last_text and not last_text.isdigit()):
        return None
    first = int(first_text)
    last = min(int(last_text), st.st_size - 1) if last_text else st.st_size - 1
    if first > last or last - first + 1 > QUICK_RANGE:
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, last - first + 1, first)
    finally:
        os.close(fd)
    headers = [h for h in headers if h[0] != "content-length"]
    headers.append(("content-range", f"bytes {first}-{first + len(data) - 1}/{st.st_size}"))
    return Reply(206, data, OCTETS, headers)


def _regular_file_stat(path: Path) -> os.stat_result | None:
    """``path``'s stat if it is a regular file (links followed), else None."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def build(ctx: AppContext) -> list[APIRouter]:
    store = LocalObjectStore(ctx.settings.data_dir / "objects", BUCKET)
    root = (ctx.settings.data_dir / "objects" / BUCKET).resolve()
    router = APIRouter(tags=["boot files"])

    #: key -> (resolved path, when resolved): a storm asks for the same two files 40,000 times.
    resolved_at: dict[str, tuple[Path, float]] = {}

    def find(key: str) -> tuple[Path, os.stat_result]:
        """The regular file published under ``key`` (inside the store) and its stat, with one ``stat``
        while its resolved path is cached; NotFound otherwise."""
        if "\x00" in key:
            raise BadRequest("invalid key")
        hit = resolved_at.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[1] < RESOLVE_TTL:
            st = _regular_file_stat(hit[0])
            if st is not None:
                return hit[0], st
        path = store.path(key)  # refuses absolute keys, '..' and empty parts
        try:
            resolved = path.resolve(strict=True)
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no such boot file: {key}") from None
        st = _regular_file_stat(resolved) if resolved.is_relative_to(root) else None
        if st is None:
            # A symlink out of the store, or a directory: never served.
            raise NotFound(f"no such boot file: {key}")
        if len(resolved_at) > 1024:
            resolved_at.clear()
        resolved_at[key] = (resolved, now)
        return resolved, st

    def record(key: str, request: NodeRequest) -> None:
        range_header = request.header(b"range")
        if request.method == "GET" and (not range_header or range_header.startswith("bytes=0-")):
            ip = request.client
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

    async def boot_file(key: str, request: Request) -> Response:
        """A published kernel, initramfs or SquashFS (public: nodes fetch them without a token)."""
        view = node_request(request)
        path, st = find(key)
        reply = quick_reply(view, path, st)
        record(key, view)
        return (
            reply.response() if reply is not None else FileResponse(path, media_type=OCTETS, stat_result=st)
        )

    def lane(request: NodeRequest) -> Reply | None:
        """HEAD and small single Range reads: one stat and one pread, on the event loop (no worker-thread
        round trips); None for what must stream (the route answers it)."""
        key = request.path[len(PREFIX) :]
        path, st = find(key)
        reply = quick_reply(request, path, st)
        if reply is not None:
            record(key, request)
        return reply

    ctx.registry.setdefault(LANE_ROUTES, {}).update(
        {("GET", PREFIX + "*"): lane, ("HEAD", PREFIX + "*"): lane}
    )

    # Two routes, not one with two methods: OpenAPI wants one operation id per method, and FastAPI
    # gives every method of a route the same one.
    path = f"/{BUCKET}/{{key:path}}"
    router.add_api_route(path, boot_file, methods=["GET"], name="boot_file")
    router.add_api_route(path, boot_file, methods=["HEAD"], name="boot_file_head", include_in_schema=False)
    return [router]
