"""cloud-init domain rules: node identity, document caches, validated admin writes, phone-home."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from pychami.cloudinit import documents
from pychami.cloudinit.configs import validate_group
from pychami.cloudinit.identity import ClientAddressResolver
from pychami.cloudinit.models import ClusterDefaults, GroupData, HostKeys, InstanceInfo
from pychami.cloudinit.repository import CloudInitRepository
from pychami.cloudinit.settings import CloudInitSettings
from pychami.core.batch import GroupCommit
from pychami.core.db import Database
from pychami.core.errors import BadRequest, Conflict, NotFound, Unprocessable
from pychami.core.events import BootEventRecorder
from pychami.core.inventory import ChangeSignal, InventoryCache, InventorySnapshot, Node
from pychami.core.logs import get_logger

log = get_logger("pychami.cloudinit")
T = TypeVar("T")
SOURCE = "cloud-init"
NODE_NOT_FOUND = "Node not found in SMD. Instance-data not available"


@dataclass(frozen=True)
class ConfigSnapshot:
    """Everything stored by cloud-init at one moment; ``version`` changes only when the content does."""

    defaults: ClusterDefaults = field(default_factory=ClusterDefaults)
    groups: dict[str, GroupData] = field(default_factory=dict)
    configs: dict[str, str] = field(default_factory=dict)
    instances: dict[str, InstanceInfo] = field(default_factory=dict)
    version: int = 0
    #: The database write counter this snapshot was loaded at.
    revision: int = -1

    def same_content(self, other: ConfigSnapshot) -> bool:
        return (
            self.defaults == other.defaults
            and self.groups == other.groups
            and self.instances == other.instances
        )


@dataclass(frozen=True)
class PhoneHome:
    """One node's phone-home, waiting for its transaction."""

    node: Node
    ip: str
    path_id: str
    keys: HostKeys


#: The cloud-init configuration and the inventory that node documents are made from.
Snapshots = tuple[ConfigSnapshot, InventorySnapshot]


class Refreshing(Generic[T]):
    """A value served from memory and refreshed in a worker thread when older than ``ttl``.

    Node-facing handlers do not wait for the database while the value is younger than twice the TTL
    (stale-while-revalidate); an older one (the process was idle) is reloaded before it is served;
    writers in this process call :meth:`reload` so their change is visible at once.
    """

    def __init__(self, load: Callable[[T | None], T], ttl: float) -> None:
        self._load = load
        self._ttl = ttl
        self._value: T | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        #: Set on the event loop before a background refresh is submitted, cleared by the refresh. (A
        #: future stored after submitting could be stored after a fast refresh had already finished,
        #: and then no refresh would ever run again: another process's writes would never show.)
        self._refreshing = False

    def reload(self) -> T:
        with self._lock:
            return self._reload_locked()

    def refresh_if_stale(self) -> T:
        """The value, reloaded first unless it is younger than the TTL (waiters for one load share it).
        When the database cannot be reached, the last value is served for another TTL."""
        with self._lock:
            if self._value is not None and time.monotonic() - self._loaded_at <= self._ttl:
                return self._value
            try:
                return self._reload_locked()
            except Exception:
                if self._value is None:
                    raise
                log.exception("cloud-init cache refresh failed; serving the previous value")
                self._loaded_at = time.monotonic()
                return self._value

    def _reload_locked(self) -> T:
        value = self._load(self._value)
        self._value = value
        self._loaded_at = time.monotonic()
        return value

    def get_sync(self) -> T:
        value = self._value
        if value is None or time.monotonic() - self._loaded_at > self._ttl:
            return self.reload()
        return value

    def peek(self) -> T | None:
        """The value in memory, without waiting: past the TTL a refresh starts in a worker thread and the
        value is served meanwhile, up to twice the TTL. None before the first load and past twice the TTL
        (nobody asked for that long: another process may have written since), when :meth:`get` must
        wait for the database. Call on the event loop."""
        value = self._value
        if value is None:
            return None
        age = time.monotonic() - self._loaded_at
        if age > self._ttl and not self._refreshing:
            self._refreshing = True
            asyncio.get_running_loop().run_in_executor(None, self._background)
        return value if age <= 2 * self._ttl else None

    async def get(self) -> T:
        value = self.peek()
        if value is None:
            return await asyncio.to_thread(self.refresh_if_stale)
        return value

    def _background(self) -> None:
        try:
            self.refresh_if_stale()  # keeps serving the last good value during an outage
        finally:
            self._refreshing = False


class CloudInitService:
    """Entry point of every cloud-init operation."""

    def __init__(
        self,
        db: Database,
        inventory: InventoryCache,
        inventory_changed: ChangeSignal,
        events: BootEventRecorder,
        settings: CloudInitSettings,
        base_url: str,
    ) -> None:
        self.db = db
        self.settings = settings
        self.base_url = base_url
        self.started = time.monotonic()
        self.repo = CloudInitRepository()
        self._events = events
        self._inventory = inventory
        self._signal = inventory_changed
        self._resolver = ClientAddressResolver(settings.trusted_proxies)
        self._config = Refreshing(self._load_config, settings.cache_ttl)
        self._inv_generation = -1
        self._inv = Refreshing(self._load_inventory, settings.cache_ttl)
        self._phone_homes = GroupCommit(
            db, self._store_phone_homes, name="phone-home", after=self._phoned_home
        )
        self._meta: dict[str, tuple[int, Node, bytes]] = {}
        self._vendor: dict[str, tuple[int, Node, bytes]] = {}

    # caches -----------------------------------------------------------------------------------------

    def _load_config(self, previous: ConfigSnapshot | None) -> ConfigSnapshot:
        with self.db.read() as conn:
            # One tiny query decides; everything is read only after a write somewhere.
            revision = self.repo.revision(conn)
            if previous is not None and previous.revision == revision:
                return previous
            defaults = self.repo.get_defaults(conn)
            groups = {g.name: g for g in self.repo.list_groups(conn)}
            instances = {i.id: i for i in self.repo.list_instance_info(conn)}
        configs = {name: documents.decoded_config(g) for name, g in groups.items()}
        fresh = ConfigSnapshot(defaults, groups, configs, instances, revision=revision)
        if previous is not None and previous.same_content(fresh):
            return replace(previous, revision=revision)
        version = previous.version + 1 if previous is not None else 1
        return replace(fresh, version=version)

    def _load_inventory(self, previous: InventorySnapshot | None) -> InventorySnapshot:
        del previous
        generation = self._signal.generation
        snap = self._inventory.get()
        self._inv_generation = generation
        return snap

    def snapshots_now(self) -> Snapshots | None:
        """What the node documents are made from, if it is in memory and may be served without waiting
        (on the event loop; a refresh past the TTL runs in the background); None when a load from the
        database must come first (:meth:`snapshots`)."""
        if self._inv_generation != self._signal.generation:
            return None  # SMD changed in this process: its writer expects the change to show at once
        cfg, inv = self._config.peek(), self._inv.peek()
        if cfg is None or inv is None:
            return None
        return cfg, inv

    async def snapshots(self) -> Snapshots:
        """What the node documents are made from, loading it in a worker thread when needed."""
        if self._inv_generation != self._signal.generation:
            # SMD changed in this process: wait for the new inventory (in a thread, not on the loop).
            inv = await asyncio.to_thread(self._inv.reload)
        else:
            inv = await self._inv.get()
        return await self._config.get(), inv

    def _snapshots_sync(self) -> tuple[ConfigSnapshot, InventorySnapshot]:
        stale = self._inv_generation != self._signal.generation
        inv = self._inv.reload() if stale else self._inv.get_sync()
        return self._config.get_sync(), inv

    def _changed(self) -> None:
        self._config.reload()

    def warm(self) -> None:
        """Load the caches now (at process start), so the first requests of a storm do not wait."""
        self._config.reload()
        self._inv.reload()

    # node identity ---------------------------------------------------------------------------------

    def identify(
        self, snaps: Snapshots, peer: str | None, forwarded_for: str | None
    ) -> tuple[Node, str] | None:
        """The node behind a request and its address, or None when the address is unknown."""
        ip = self._resolver.client_ip(peer, forwarded_for)
        if ip is None:
            return None
        node = snaps[1].by_ip.get(ip)
        if node is None:
            log.info("cloud-init request from an unknown address", ip=ip, peer=peer)
            return None
        return node, ip

    def node(self, node_id: str) -> Node:
        """A node by xname for the admin (impersonation) routes."""
        _, inv = self._snapshots_sync()
        node = inv.by_xname.get(node_id)
        if node is None:
            raise NotFound(NODE_NOT_FOUND)
        return node

    # documents -------------------------------------------------------------------------------------

    def _meta_bytes(self, cfg: ConfigSnapshot, node: Node) -> bytes:
        hit = self._meta.get(node.xname)
        if hit is not None and hit[0] == cfg.version and hit[1] == node:
            return hit[2]
        body = documents.render_meta_data(
            node, cfg.defaults, cfg.groups, cfg.instances.get(node.xname)
        ).encode("utf-8")
        self._meta[node.xname] = (cfg.version, node, body)
        return body

    def _vendor_bytes(self, cfg: ConfigSnapshot, node: Node) -> bytes:
        hit = self._vendor.get(node.xname)
        if hit is not None and hit[0] == cfg.version and hit[1] == node:
            return hit[2]
        base = documents.base_url_for(cfg.defaults, cfg.instances.get(node.xname), self.base_url)
        body = documents.render_vendor_data(node, base).encode("utf-8")
        self._vendor[node.xname] = (cfg.version, node, body)
        return body

    @staticmethod
    def _group_bytes(cfg: ConfigSnapshot, node: Node, group: str) -> bytes:
        if group not in node.groups:
            raise NotFound("Group not found")
        return cfg.configs.get(group, documents.EMPTY_CONFIG).encode("utf-8")

    def meta_data(self, snaps: Snapshots, node: Node, ip: str) -> bytes:
        mac = node.interfaces[0].mac if node.interfaces else None
        self._events.record(f"{SOURCE} meta-data", SOURCE, xname=node.xname, mac=mac, ip=ip)
        return self._meta_bytes(snaps[0], node)

    def vendor_data(self, snaps: Snapshots, node: Node) -> bytes:
        return self._vendor_bytes(snaps[0], node)

    def group_config(self, snaps: Snapshots, node: Node, group: str) -> bytes:
        return self._group_bytes(snaps[0], node, group)

    def impersonate_meta_data(self, node_id: str) -> bytes:
        node = self.node(node_id)
        cfg, _ = self._snapshots_sync()
        return self._meta_bytes(cfg, node)

    def impersonate_vendor_data(self, node_id: str) -> bytes:
        node = self.node(node_id)
        cfg, _ = self._snapshots_sync()
        return self._vendor_bytes(cfg, node)

    def impersonate_group_config(self, node_id: str, group: str) -> bytes:
        node = self.node(node_id)
        cfg, _ = self._snapshots_sync()
        return self._group_bytes(cfg, node, group)

    # phone-home ------------------------------------------------------------------------------------

    def phone_home(self, node: Node, ip: str, path_id: str, keys: HostKeys) -> Future[None]:
        """Store the node's host keys and record the ``cloud-init done`` boot event. The future completes
        once the keys are committed: phone-homes arriving together share one transaction."""
        return self._phone_homes.submit(PhoneHome(node, ip, path_id, keys))

    def _store_phone_homes(self, conn: Connection, items: Sequence[PhoneHome]) -> None:
        self.repo.put_many_host_keys(conn, [(p.node.xname, p.ip, p.keys) for p in items])

    def _phoned_home(self, items: Sequence[PhoneHome]) -> None:
        for p in items:
            node, keys = p.node, p.keys
            mac = node.interfaces[0].mac if node.interfaces else None
            detail = {
                "id": p.path_id,
                "instance_id": keys.instance_id,
                "hostname": keys.hostname,
                "fqdn": keys.fqdn,
                "host_keys": [n for n in ("rsa", "ecdsa", "ed25519") if getattr(keys, f"pub_key_{n}")],
            }
            self._events.record(f"{SOURCE} done", SOURCE, xname=node.xname, mac=mac, ip=p.ip, detail=detail)
            log.info("cloud-init phone-home", xname=node.xname, ip=p.ip, instance_id=keys.instance_id)

    def host_keys(self, node_id: str) -> dict[str, object]:
        with self.db.read() as conn:
            row = self.repo.get_host_keys(conn, node_id)
        if row is None:
            raise NotFound(f"no phone-home received from {node_id}")
        return row

    # admin: cluster defaults ----------------------------------------------------------------------

    def get_defaults(self) -> ClusterDefaults:
        with self.db.read() as conn:
            return self.repo.get_defaults(conn)

    def set_defaults(self, update: ClusterDefaults) -> ClusterDefaults:
        if update.base_url and not update.base_url.startswith(("http://", "https://")):
            raise BadRequest(f"base-url {update.base_url!r} must start with http:// or https://")
        with self.db.transaction() as conn:
            merged = self.repo.get_defaults(conn).merged(update)
            self.repo.put_defaults(conn, merged)
            self.repo.bump_revision(conn)
        self._changed()
        return merged

    # admin: groups ---------------------------------------------------------------------------------

    def _validated(self, group: GroupData) -> GroupData:
        return validate_group(group, self.settings.max_config_bytes, self.settings.max_meta_data_bytes)

    def list_groups(self) -> list[GroupData]:
        with self.db.read() as conn:
            return self.repo.list_groups(conn)

    def get_group(self, name: str) -> GroupData:
        with self.db.read() as conn:
            group = self.repo.get_group(conn, name)
        if group is None:
            raise NotFound(f"group ({name}) not found")
        return group

    def add_group(self, group: GroupData) -> GroupData:
        if not group.name:
            raise Unprocessable("name is required")
        group = self._validated(group)
        with self.db.transaction() as conn:
            if not self.repo.insert_group(conn, group):
                raise Conflict(f"group '{group.name}' not added as it already exists")
            self.repo.bump_revision(conn)
        self._changed()
        return group

    def put_group(self, name: str, group: GroupData) -> GroupData:
        group = self._validated(group.model_copy(update={"name": name}))
        with self.db.transaction() as conn:
            self.repo.put_group(conn, group)
            self.repo.bump_revision(conn)
        self._changed()
        return group

    def delete_group(self, name: str) -> None:
        with self.db.transaction() as conn:
            if self.repo.delete_group(conn, name):
                self.repo.bump_revision(conn)
        self._changed()

    # admin: instance info --------------------------------------------------------------------------

    def get_instance_info(self, node_id: str) -> InstanceInfo:
        with self.db.read() as conn:
            info = self.repo.get_instance_info(conn, node_id)
        return info or InstanceInfo(id=node_id, instance_id=documents.stable_instance_id(node_id))

    def put_instance_info(self, node_id: str, info: InstanceInfo) -> InstanceInfo:
        """Replace a node's overrides; its instance-id is kept unless the body sets one."""
        if not node_id or len(node_id) > 64:
            raise BadRequest(f"invalid node id {node_id!r}")
        if len(info.instance_id) > 64:
            raise BadRequest("instance-id is longer than 64 characters")
        base = info.cloud_init_base_url
        if base and not base.startswith(("http://", "https://")):
            raise BadRequest(f"cloud-init-base-url {base!r} must start with http:// or https://")
        size = len(info.model_dump_json(by_alias=True))
        if size > self.settings.max_meta_data_bytes:
            raise BadRequest(f"instance info is {size} bytes, more than the limit")
        with self.db.transaction() as conn:
            existing = self.repo.get_instance_info(conn, node_id)
            instance_id = (
                info.instance_id
                or (existing.instance_id if existing else "")
                or documents.stable_instance_id(node_id)
            )
            stored = info.model_copy(
                update={"id": node_id, "instance_id": instance_id, "cloud_init_base_url": base.rstrip("/")}
            )
            self.repo.put_instance_info(conn, stored)
            self.repo.bump_revision(conn)
        self._changed()
        return stored
