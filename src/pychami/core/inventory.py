"""The inventory as other services see it: immutable snapshots of SMD nodes, served from a cache.

SMD owns the data and implements :class:`InventorySource`; BSS, cloud-init and the netboot daemon read
an :class:`InventoryCache`, which answers from memory (no database round trip per request) and reloads
when SMD signals a change in this process or when the TTL bounds staleness across processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class IPAddress:
    address: str
    network: str = ""


@dataclass(frozen=True, slots=True)
class Interface:
    """One NIC of a node: MAC (lower-case, colon separated) and its addresses."""

    mac: str
    ips: tuple[IPAddress, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class Node:
    """A component of type Node with what boot and config services need to know about it."""

    xname: str
    nid: int | None
    state: str = "On"
    enabled: bool = True
    role: str = ""
    subrole: str = ""
    arch: str = ""
    #: Enabled flag of the node's ComponentEndpoint; None when it has none (then BSS treats it unknown).
    endpoint_enabled: bool | None = None
    interfaces: tuple[Interface, ...] = ()
    groups: tuple[str, ...] = ()
    fqdn: str = ""

    @property
    def macs(self) -> tuple[str, ...]:
        return tuple(i.mac for i in self.interfaces)

    @property
    def bootable(self) -> bool:
        """Known to BSS: enabled, has an enabled component endpoint, not Empty."""
        return self.enabled and self.endpoint_enabled is not False and self.state != "Empty"


@dataclass(frozen=True)
class InventorySnapshot:
    """All nodes at one moment, indexed for O(1) lookups."""

    nodes: tuple[Node, ...] = ()
    group_members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    loaded_at: float = 0.0
    #: Source revision the snapshot was loaded at (-1: unknown, always reload on expiry).
    revision: int = -1
    by_xname: dict[str, Node] = field(init=False, default_factory=dict)
    by_mac: dict[str, Node] = field(init=False, default_factory=dict)
    by_nid: dict[int, Node] = field(init=False, default_factory=dict)
    by_ip: dict[str, Node] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for node in self.nodes:
            self.by_xname[node.xname] = node
            if node.nid is not None:
                self.by_nid[node.nid] = node
            if node.state == "Empty":
                continue
            for iface in node.interfaces:
                self.by_mac[iface.mac] = node
                for ip in iface.ips:
                    self.by_ip[ip.address] = node

    def node_by_mac(self, mac: str) -> Node | None:
        return self.by_mac.get(mac.lower())


class InventorySource(Protocol):
    """Something that can load a full snapshot (SMD's repository, or a fake in tests)."""

    def load_inventory(self) -> InventorySnapshot: ...


@runtime_checkable
class RevisionedSource(Protocol):
    """A source that can say cheaply whether anything changed since a revision it handed out."""

    def load_inventory(self) -> InventorySnapshot: ...

    def revision(self) -> int: ...


class ChangeSignal:
    """An in-process generation counter that writers bump and caches compare."""

    def __init__(self) -> None:
        self._generation = 0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    @property
    def generation(self) -> int:
        return self._generation

    def bump(self) -> None:
        with self._lock:
            self._generation += 1
            listeners = list(self._listeners)
        for fn in listeners:
            fn()

    def subscribe(self, fn: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(fn)


class InventoryCache:
    """Serves the newest snapshot; reloads on a change signal or when older than ``ttl`` seconds.

    A failed reload keeps the previous snapshot, so a database outage does not stop known nodes from
    booting.
    """

    def __init__(self, source: InventorySource, signal: ChangeSignal, ttl: float = 5.0) -> None:
        self._source = source
        self._signal = signal
        self._ttl = ttl
        self._snapshot: InventorySnapshot | None = None
        self._generation = -1
        self._lock = threading.Lock()
        self.last_error: Exception | None = None

    def get(self) -> InventorySnapshot:
        snap = self._snapshot
        if (
            snap is not None
            and self._generation == self._signal.generation
            and time.monotonic() - snap.loaded_at < self._ttl
        ):
            return snap
        return self._reload()

    def invalidate(self) -> None:
        self._generation = -1

    def _reload(self) -> InventorySnapshot:
        with self._lock:
            snap = self._snapshot
            generation = self._signal.generation
            now = time.monotonic()
            if snap is not None and self._generation == generation and now - snap.loaded_at < self._ttl:
                return snap
            try:
                if (
                    snap is not None
                    and self._generation == generation
                    and snap.revision >= 0
                    and isinstance(self._source, RevisionedSource)
                    and self._source.revision() == snap.revision
                ):
                    # Expired but unchanged (one tiny query): keep the snapshot for another TTL.
                    object.__setattr__(snap, "loaded_at", now)
                    return snap
                fresh = self._source.load_inventory()
            except Exception as exc:  # a stale snapshot beats no answer during an outage
                self.last_error = exc
                if snap is None:
                    raise
                return snap
            object.__setattr__(fresh, "loaded_at", now)
            self._snapshot = fresh
            self._generation = generation
            self.last_error = None
            return fresh


def static_source(nodes: Iterable[Node], groups: dict[str, tuple[str, ...]] | None = None) -> InventorySource:
    """A fixed inventory, for tests and tools."""

    class _Static:
        def load_inventory(self) -> InventorySnapshot:
            return InventorySnapshot(nodes=tuple(nodes_list), group_members=dict(groups or {}))

    nodes_list = list(nodes)
    return _Static()
