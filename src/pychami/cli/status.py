"""``pychami status [NODE]``: where a node's boot is (or stalled), read from the server's database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pychami.cli.common import handle_errors

if TYPE_CHECKING:
    from pychami.core.timeline import Timeline


def _ago(ts: dt.datetime, now: dt.datetime) -> str:
    seconds = int((now - ts).total_seconds())
    if seconds < 120:
        return f"{seconds}s ago"
    if seconds < 7200:
        return f"{seconds // 60}m ago"
    return f"{seconds // 3600}h ago"


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as left-aligned columns two spaces apart."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]


def render_node(timeline: Timeline, now: dt.datetime) -> str:
    """The stages of a node's latest boot as a table, and one line saying where it is."""
    from pychami.core.timeline import STAGE_NAMES  # noqa: PLC0415 - keep other commands fast

    doc = timeline.to_json()
    if timeline.started is None:
        return f"{timeline.node}: no boot on record ({len(timeline.events)} events, none of a boot stage)"
    lines = [f"{timeline.node}: latest boot started {doc['boot_started']}"]
    rows = [("STAGE", "TIME (UTC)", "+SECONDS", "IP", "DETAIL")]
    for stage in doc["stages"]:
        if not stage["reached"]:
            rows.append((stage["stage"], "-", "", "", ""))
            continue
        detail = stage["detail"] or {}
        shown = " ".join(
            f"{k}={detail[k]}" for k in ("file", "key", "client", "retry", "bytes") if k in detail
        )
        rows.append(
            (stage["stage"], stage["time"][11:23], f"{stage['seconds']:.1f}", stage["ip"] or "", shown)
        )
    lines += _columns(rows)
    last = timeline.events[-1]
    if timeline.complete:
        lines.append(f"last stage: {timeline.last_stage} (boot complete)")
    else:
        # -1: events (an offer, a transfer start) but no stage reached yet: every stage is still ahead.
        reached = STAGE_NAMES.index(timeline.last_stage) if timeline.last_stage else -1
        ahead = STAGE_NAMES[reached + 1 :]
        lines.append(
            f"last stage: {timeline.last_stage or 'none'}; last event {last.stage} {_ago(last.ts, now)}"
            + (f"; not reached since: {', '.join(ahead)}" if ahead else "")
        )
    return "\n".join(lines)


def render_cluster(timelines: list[Timeline], now: dt.datetime) -> str:
    """One line a node (furthest stage of its latest boot), then how many nodes stand at each stage."""
    from pychami.core.timeline import stage_counts  # noqa: PLC0415

    if not timelines:
        return "no boot events in this window"
    rows = [("NODE", "LAST STAGE", "COMPLETE", "BOOT STARTED", "LAST EVENT")]
    for t in timelines:
        started = t.started.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S") if t.started else "-"
        rows.append(
            (t.node, t.last_stage or "-", "yes" if t.complete else "no", started, _ago(t.events[-1].ts, now))
        )
    lines = _columns(rows)
    counts = stage_counts(timelines)
    lines.append(f"{len(timelines)} nodes: " + ", ".join(f"{n} at {stage}" for stage, n in counts.items()))
    return "\n".join(lines)


@click.command()
@click.argument("node", required=False)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Server data directory.")
@click.option("--db", help="Database URL (default: the data directory's SQLite).")
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="YAML settings file.")
@click.option(
    "--since", default="24h", show_default=True, help="Without NODE: nodes with events this recent."
)
@click.option(
    "-F",
    "--format-output",
    "fmt",
    type=click.Choice(["table", "json", "json-pretty", "yaml"]),
    default="table",
    show_default=True,
    help="Output format (json/yaml: the document of GET /boot-events/v1/nodes[/NODE]).",
)
@handle_errors
def status(
    node: str | None, data_dir: Path | None, db: str | None, config: Path | None, since: str, fmt: str
) -> None:
    """Boot timeline of NODE (xname, MAC or NID), or the boot status of every recent node.

    \b
    Stages, in boot order: DHCP (firmware), TFTP, DHCP (iPXE), boot script, kernel, initrd,
    DHCP (OS), root image, cloud-init meta-data, phone-home. A node that stalls shows the
    last stage it reached. The same documents: GET /boot-events/v1/nodes/NODE (scope smd:read).

    \b
    Examples:
      pychami status x1000c0s0b0n0
      pychami status 52:54:00:be:ef:01 -F json
      pychami status --since 30m          # every node booted in the last half hour
    """
    from pychami.cli.ochami.io import encode  # noqa: PLC0415
    from pychami.core.errors import NotFound  # noqa: PLC0415
    from pychami.core.events import BootEventRecorder  # noqa: PLC0415
    from pychami.core.settings import load_settings  # noqa: PLC0415
    from pychami.core.timeline import cluster_status, node_timeline  # noqa: PLC0415
    from pychami.server import check_schema, open_database  # noqa: PLC0415
    from pychami.smd.service import SMDInventorySource  # noqa: PLC0415
    from pychami.status.module import since_start, summary_json  # noqa: PLC0415

    settings = load_settings(config, data_dir=data_dir, db=db)
    database = open_database(settings)
    try:
        check_schema(database)
        recorder = BootEventRecorder(database)
        now = dt.datetime.now(dt.UTC)
        out: Any
        if node:
            timeline = node_timeline(recorder, SMDInventorySource(database).load_inventory(), node)
            if timeline is None:
                raise NotFound(f"no such node and no boot events for it: {node}")
            out = timeline.to_json() if fmt != "table" else render_node(timeline, now)
        else:
            start = since_start(since, now)
            timelines = cluster_status(recorder.since(start))
            out = summary_json(timelines, start) if fmt != "table" else render_cluster(timelines, now)
    finally:
        database.dispose()
    click.echo(out if isinstance(out, str) else encode(out, fmt))
