"""Helpers shared by the SMD routers."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import Response

from pychami.core.web import GoJSONResponse, require

PREFIX = "/hsm/v2"
READ = [Depends(require("smd:read"))]
WRITE = [Depends(require("smd:write"))]


def query_multi(request: Request) -> dict[str, list[str]]:
    """Query parameters with lower-cased keys; repeated keys and comma lists both give lists."""
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key.lower(), []).append(value)
    return out


def query_items(request: Request) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items()]


def created(uris: list[str], collection: str) -> Response:
    """201 with upstream's URI list and Location (one URI -> it; several -> the collection)."""
    if not uris:
        return Response(status_code=204)
    location = uris[0] if len(uris) == 1 else collection
    return GoJSONResponse([{"URI": u} for u in uris], status_code=201, headers={"Location": location})


def no_content() -> Response:
    return Response(status_code=204)
