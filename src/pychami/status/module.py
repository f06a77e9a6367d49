"""``/boot-events/v1``: the boot timeline of one node, and the boot status of every node at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import APIRouter, Depends

from pychami.core.auth import parse_ttl
from pychami.core.context import AppContext
from pychami.core.errors import BadRequest, NotFound
from pychami.core.timeline import Timeline, cluster_status, iso_time, node_timeline, stage_counts
from pychami.core.web import GoJSONResponse, require

NAME = "status"
MIGRATIONS: Path | None = None
PREFIX = "/boot-events/v1"


def since_start(since: str, now: dt.datetime | None = None) -> dt.datetime:
    """``30m``, ``8h``, ``2d`` ago; the window of ``GET /boot-events/v1/nodes``."""
    try:
        seconds = parse_ttl(since)
    except ValueError as exc:
        raise BadRequest(f"since: {exc}") from exc
    return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=seconds)


def summary_json(timelines: list[Timeline], since: dt.datetime) -> dict[str, object]:
    """How far every node of a window got: one row a node, and how many nodes stand at each stage."""
    return {
        "since": iso_time(since),
        "nodes": [
            {
                "xname": t.node,
                "last_stage": t.last_stage,
                "complete": t.complete,
                "boot_started": iso_time(t.started) if t.started else None,
                "last_event": iso_time(t.events[-1].ts) if t.events else None,
            }
            for t in timelines
        ],
        "last_stages": stage_counts(timelines),
    }


def build(ctx: AppContext) -> list[APIRouter]:
    router = APIRouter(prefix=PREFIX, tags=["boot status"], dependencies=[Depends(require("smd:read"))])

    @router.get("/nodes/{node}")
    def node_status(node: str) -> GoJSONResponse:
        """One node (xname, MAC or NID): the stages of its latest boot and every event on record."""
        timeline = node_timeline(ctx.events, ctx.inventory.get(), node)
        if timeline is None:
            raise NotFound(f"no such node and no boot events for it: {node}")
        return GoJSONResponse(timeline.to_json())

    @router.get("/nodes")
    def nodes_status(since: str = "24h") -> GoJSONResponse:
        """Every node with boot events in the window (``since=30m``): its last stage, and the counts."""
        start = since_start(since)
        return GoJSONResponse(summary_json(cluster_status(ctx.events.since(start)), start))

    return [router]
