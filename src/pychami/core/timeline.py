"""A node's boot timeline: its raw boot events folded into the stages of its latest boot.

A diskless boot walks a fixed path (firmware DHCP, TFTP of iPXE, iPXE's DHCP, the boot script, kernel,
initrd, the booted system's DHCP, the root image, cloud-init, phone-home). Not every boot touches every stage
(QEMU's and many NICs' ROMs already are iPXE, so there is no firmware DHCP nor TFTP), so a stage is
*reached* or not, and the furthest one reached is where the node is, or where it stalled.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pychami.core.events import BootEvent, BootEventRecorder
from pychami.core.inventory import InventorySnapshot

MAC_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")


def _dhcp_ack(client: str) -> Callable[[BootEvent], bool]:
    return lambda e: e.stage == "dhcp_ack" and (e.detail or {}).get("client") == client


def _stage(name: str) -> Callable[[BootEvent], bool]:
    return lambda e: e.stage == name


#: The stages of one boot, in the order a node walks them, with the event that marks each.
STAGES: Sequence[tuple[str, Callable[[BootEvent], bool]]] = (
    ("DHCP (firmware)", _dhcp_ack("firmware")),
    ("TFTP", _stage("tftp_done")),
    ("DHCP (iPXE)", _dhcp_ack("ipxe")),
    ("boot script", _stage("bootscript")),
    ("kernel", _stage("kernel")),
    ("initrd", _stage("initrd")),
    # The initramfs configures the network before it fetches a live root (live-boot, dracut).
    ("DHCP (OS)", _dhcp_ack("os")),
    ("root image", _stage("root image")),
    ("cloud-init meta-data", _stage("cloud-init meta-data")),
    ("phone-home", _stage("cloud-init done")),
)
STAGE_NAMES = tuple(name for name, _ in STAGES)
#: A DHCP exchange of a boot loader after the node got past its boot script is a new boot.
_BOOT_LOADER_DHCP = ("dhcp_discover", "dhcp_request", "dhcp_ack")
_BOOT_SCRIPT = STAGE_NAMES.index("boot script")


def stage_index(event: BootEvent) -> int | None:
    """Position of the stage this event marks, or None for events that mark none (offers, starts ...)."""
    for i, (_, matches) in enumerate(STAGES):
        if matches(event):
            return i
    return None


@dataclass(frozen=True)
class Stage:
    """One stage of the latest boot: when it was first reached (None: not reached)."""

    name: str
    event: BootEvent | None


@dataclass(frozen=True)
class Timeline:
    """The latest boot of one node, and every event on record for it."""

    node: str
    events: Sequence[BootEvent]
    boot: Sequence[BootEvent] = field(default_factory=tuple)
    stages: Sequence[Stage] = field(default_factory=tuple)

    @property
    def started(self) -> dt.datetime | None:
        return self.boot[0].ts if self.boot else None

    @property
    def last_stage(self) -> str | None:
        """The furthest stage the latest boot reached: where the node is, or where it stalled."""
        reached = [s.name for s in self.stages if s.event is not None]
        return reached[-1] if reached else None

    @property
    def complete(self) -> bool:
        return any(s.name == "phone-home" and s.event is not None for s in self.stages)

    def to_json(self) -> dict[str, Any]:
        """The wire document of ``GET /boot-events/v1/nodes/{node}`` and ``pychami status -F json``."""
        start = self.started
        return {
            "xname": self.node,
            "boot_started": iso_time(start) if start else None,
            "last_stage": self.last_stage,
            "complete": self.complete,
            "stages": [
                {
                    "stage": s.name,
                    "reached": s.event is not None,
                    "time": iso_time(s.event.ts) if s.event else None,
                    "seconds": round((s.event.ts - start).total_seconds(), 3) if s.event and start else None,
                    "ip": s.event.ip if s.event else None,
                    "detail": dict(s.event.detail or {}) if s.event else None,
                }
                for s in self.stages
            ],
            "events": [event_json(e) for e in self.events],
        }


def event_json(e: BootEvent) -> dict[str, Any]:
    return {
        "time": iso_time(e.ts),
        "stage": e.stage,
        "source": e.source,
        "xname": e.xname,
        "mac": e.mac,
        "ip": e.ip,
        "detail": dict(e.detail) if e.detail else None,
    }


def iso_time(ts: dt.datetime) -> str:
    return ts.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def latest_boot(events: Sequence[BootEvent]) -> list[BootEvent]:
    """The events since the node last started booting (events oldest first).

    A boot starts at firmware DHCP after anything later than it, or at any boot-loader DHCP once the
    node had fetched a boot script: both only happen when the node was reset.
    """
    start, furthest = 0, -1
    for i, event in enumerate(events):
        index = stage_index(event)
        client = (event.detail or {}).get("client")
        if event.stage in _BOOT_LOADER_DHCP and client in ("firmware", "ipxe"):
            restart = furthest >= _BOOT_SCRIPT or (client == "firmware" and furthest > 0)
            if restart:
                start, furthest = i, -1
        if index is not None:
            furthest = max(furthest, index)
    return list(events[start:])


def summarize(node: str, events: Iterable[BootEvent]) -> Timeline:
    """Fold one node's events (any order) into its timeline."""
    ordered = sorted(events, key=lambda e: e.ts)
    boot = latest_boot(ordered)
    first: dict[int, BootEvent] = {}
    for event in boot:
        index = stage_index(event)
        if index is not None and index not in first:
            first[index] = event
    stages = tuple(Stage(name, first.get(i)) for i, name in enumerate(STAGE_NAMES))
    return Timeline(node=node, events=tuple(ordered), boot=tuple(boot), stages=stages)


def find_node(snapshot: InventorySnapshot, ident: str) -> tuple[str, tuple[str, ...]] | None:
    """A node by xname, MAC or NID (``7``, ``nid007``): its xname and MACs, None when SMD has no such node."""
    text = ident.strip()
    node = snapshot.by_xname.get(text.lower()) or snapshot.by_mac.get(text.lower().replace("-", ":"))
    digits = text.lower().removeprefix("nid")
    if node is None and digits.isdigit():
        node = snapshot.by_nid.get(int(digits))
    return (node.xname, node.macs) if node else None


def node_timeline(recorder: BootEventRecorder, snapshot: InventorySnapshot, ident: str) -> Timeline | None:
    """The timeline of one node; a node SMD does not know is still found by the MAC its events carry."""
    found = find_node(snapshot, ident)
    if found is not None:
        xname, macs = found
        return summarize(xname, recorder.timeline(xname=xname, macs=macs))
    mac = ident.strip().lower().replace("-", ":")
    events = recorder.timeline(mac=mac) if MAC_RE.fullmatch(mac) else []
    return summarize(mac, events) if events else None


def stage_counts(timelines: Iterable[Timeline]) -> dict[str, int]:
    """How many nodes stand at each stage (``none``: no stage reached), in boot order."""
    counts: dict[str, int] = {}
    for t in timelines:
        key = t.last_stage or "none"
        counts[key] = counts.get(key, 0) + 1
    return {name: counts[name] for name in (*STAGE_NAMES, "none") if name in counts}


def cluster_status(events: Iterable[BootEvent]) -> list[Timeline]:
    """One timeline per node (by xname, else MAC) of the given events, ordered by node name."""
    per_node: dict[str, list[BootEvent]] = {}
    for event in events:
        key = event.xname or event.mac
        if key:
            per_node.setdefault(key, []).append(event)
    return [summarize(key, per_node[key]) for key in sorted(per_node)]
