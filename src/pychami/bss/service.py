"""BSS domain rules: add / set / update / delete semantics, lookups with precedence, boot scripts.

Writes are one transaction each (a bad item stores nothing) and invalidate the in-process cache. The
boot-script path reads only the caches (:mod:`pychami.bss.cache`), never the database.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from pychami import __version__
from pychami.bss import identifiers as ident
from pychami.bss import ipxe
from pychami.bss.cache import InventoryView, ParamsIndex, RefreshingCache
from pychami.bss.ipxe import BootConfig, ScriptOptions
from pychami.bss.repository import Assignment, BootParamsRepository
from pychami.bss.schemas import BootParams, to_wire
from pychami.core.db import Database
from pychami.core.errors import BadRequest, Conflict, NotFound
from pychami.core.events import BootEventRecorder
from pychami.core.inventory import InventorySnapshot, Node

#: Precedence of the sources of a node's boot parameters, strongest first.
PRECEDENCE = ("mac", "xname", "nid", "group")
#: ``endpoint=`` values of the endpoint history and the boot-event stage each one reads.
HISTORY_ENDPOINTS = {"bootscript": "bootscript", "user-data": "user-data"}


#: Known-node script heads kept per snapshot pair before the memo starts over (~1 KiB each).
MAX_REMEMBERED = 50_000
#: ``(mac, name, nid, json)`` of a boot-script request.
AnswerKey = tuple[str, str, int | None, bool]
_SCRIPT_TYPE = "text/plain; charset=UTF-8"


@dataclass(frozen=True, slots=True)
class ScriptAnswer:
    body: bytes
    media_type: str
    known: bool


def effective_config(
    node: Node, index: ParamsIndex, request_mac: str | None = None
) -> tuple[BootConfig | None, tuple[str, str] | None]:
    """The configuration a node boots and where it comes from: MAC > xname > NID > group.

    The MAC the node asked with is tried before its other MACs; groups are tried in label order.
    """
    macs = [request_mac] if request_mac else []
    macs += [m for m in node.macs if m != request_mac]
    for mac in macs:
        config = index.get("mac", mac)
        if config is not None:
            return config, ("mac", mac)
    config = index.get("xname", node.xname)
    if config is not None:
        return config, ("xname", node.xname)
    if node.nid is not None:
        config = index.get("nid", str(node.nid))
        if config is not None:
            return config, ("nid", str(node.nid))
    for label in sorted(node.groups):
        config = index.get("group", label)
        if config is not None:
            return config, ("group", label)
    return None, None


def group_by_config(assignments: Sequence[Assignment]) -> list[dict[str, Any]]:
    """Upstream's GET shape: one object per distinct configuration with all its identifiers."""
    grouped: dict[int, tuple[BootConfig, dict[str, list[str]]]] = {}
    for a in assignments:
        entry = grouped.setdefault(a.config_id, (a.config, {k: [] for k in PRECEDENCE}))
        entry[1][a.kind].append(a.key)
    return [
        to_wire(
            config,
            hosts=keys["xname"],
            macs=keys["mac"],
            nids=[int(n) for n in keys["nid"]],
            groups=keys["group"],
        )
        for config, keys in grouped.values()
    ]


def _index_of(assignments: Sequence[Assignment]) -> ParamsIndex:
    by_kind: dict[str, dict[str, BootConfig]] = {k: {} for k in PRECEDENCE}
    for a in assignments:
        by_kind[a.kind][a.key] = a.config
    return ParamsIndex(by_kind)


def _go_list(items: Sequence[object]) -> str:
    return "[" + " ".join(str(i) for i in items) + "]"


def host_to_wire(node: Node) -> dict[str, Any]:
    """A node as BSS's ``/hosts`` shows it: SMD component fields plus FQDN, MAC, EndpointEnabled."""
    out: dict[str, Any] = {"ID": node.xname, "Type": "Node", "State": node.state, "Enabled": node.enabled}
    if node.role:
        out["Role"] = node.role
    if node.subrole:
        out["SubRole"] = node.subrole
    if node.nid is not None:
        out["NID"] = node.nid
    if node.arch:
        out["Arch"] = node.arch
    out["FQDN"] = node.fqdn
    out["MAC"] = list(node.macs)
    out["EndpointEnabled"] = node.endpoint_enabled is not False
    return out


class BSSService:
    """Entry point of every BSS operation."""

    def __init__(
        self,
        db: Database,
        inventory: InventoryView,
        events: BootEventRecorder,
        options: ScriptOptions,
        cache_ttl: float = 2.0,
    ) -> None:
        self.db = db
        self.inventory = inventory
        self.events = events
        self.options = options
        self.repo = BootParamsRepository()
        #: Rendered known-node answers, valid for one (params index, inventory snapshot) pair.
        self._answers: dict[AnswerKey, tuple[bytes, str, str | None]] = {}
        self._answers_for: tuple[object, object] = (None, None)
        self.params_cache: RefreshingCache[ParamsIndex] = RefreshingCache(
            self._load_versioned_index, cache_ttl, "params", probe=self.store_version
        )

    def warm(self) -> None:
        """Load the caches now (at process start), so the first requests of a storm do not wait."""
        self.params_cache.get()
        self.inventory.get()

    # reads ----------------------------------------------------------------------------------------

    def load_index(self) -> ParamsIndex:
        return self._load_versioned_index()[0]

    def _load_versioned_index(self) -> tuple[ParamsIndex, object]:
        with self.db.read() as conn:
            version = self.repo.version(conn)  # first: a racing write can only make us reload again
            return _index_of(self.repo.all(conn)), version

    def store_version(self) -> int:
        with self.db.read() as conn:
            return self.repo.version(conn)

    def all_params(self) -> list[dict[str, Any]] | None:
        """Every configuration with its identifiers; None (JSON ``null``) for an empty store."""
        with self.db.read() as conn:
            assignments = self.repo.all(conn)
        return group_by_config(assignments) or None

    def query_params(
        self, *, macs: Sequence[str], names: Sequence[str], nids: Sequence[int], groups: Sequence[str]
    ) -> list[dict[str, Any]]:
        """GET with filters. ``macs``/``nids``/``groups`` match stored identifiers (grouped per
        configuration); each ``name`` is resolved like the boot script does and its object carries
        ``source``, the identifier whose parameters applied."""
        if not (macs or names or nids or groups):
            raise BadRequest("No specified data requested")
        pairs = [("mac", ident.normalise_mac(m)) for m in macs]
        pairs += [("nid", str(n)) for n in nids]
        pairs += [("group", g) for g in groups]
        with self.db.read() as conn:
            found = self.repo.find(conn, pairs)
            everything = self.repo.all(conn) if names else []
        results = group_by_config([found[p] for p in dict.fromkeys(pairs) if p in found])
        if names:
            index = _index_of(everything)
            snapshot = self.inventory.get()
            for name in dict.fromkeys(names):
                xname = ident.normalise_xname(name)
                node = snapshot.by_xname.get(xname)
                if node is not None:
                    config, source = effective_config(node, index)
                else:
                    config = index.get("xname", xname)
                    source = ("xname", xname) if config is not None else None
                if config is not None and source is not None:
                    results.append(to_wire(config, hosts=[xname], source=source))
        if not results:
            objs = [
                label
                for label, given in (("Hosts", names), ("MACs", macs), ("NIDs", nids), ("groups", groups))
                if given
            ]
            text = ", ".join(objs[:-1]) + (" or " if len(objs) > 1 else "") + objs[-1]
            raise NotFound(f"Cannot find boot parameters for requested {text}")
        return results

    # writes ---------------------------------------------------------------------------------------

    def add(self, bp: BootParams) -> None:
        """POST: add the identifiers not stored yet; 400 when every one already exists."""
        pairs = bp.identifiers()
        if not pairs:
            raise BadRequest("Bad Request: postgres.Add: no hosts, macs, nids or groups specified")
        with self.db.transaction() as conn:
            existing = self.repo.find(conn, pairs)
            new = [p for p in pairs if p not in existing]
            if not new:
                raise BadRequest("Bad Request: postgres.Add: data already exists")
            if not bp.kernel:
                raise BadRequest("Bad Request: postgres.Add: kernel URI cannot be blank")
            self._insert(conn, new, bp.config())
            self.repo.bump_version(conn)
        self.params_cache.invalidate()

    def set(self, bp: BootParams) -> None:
        """PUT: add missing identifiers and update existing ones."""
        if not bp.has_config:
            raise BadRequest("No data")
        pairs = bp.identifiers()
        with self.db.transaction() as conn:
            existing = self.repo.find(conn, pairs)
            new = [p for p in pairs if p not in existing]
            if new:
                if not bp.kernel:
                    raise BadRequest(
                        "Bad Request: postgres.Set: failed to add new boot configuration: "
                        "postgres.Add: kernel URI cannot be blank"
                    )
                self._insert(conn, new, bp.config())
            self._update(conn, [existing[p] for p in pairs if p in existing], bp)
            self.repo.bump_version(conn)
        self.params_cache.invalidate()

    def update(self, bp: BootParams) -> None:
        """PATCH: change existing identifiers only; 404 when any is missing."""
        pairs = bp.identifiers()
        with self.db.transaction() as conn:
            existing = self.repo.find(conn, pairs)
            missing = [p for p in pairs if p not in existing]
            if missing:
                by_kind = {k: [key for kind, key in missing if kind == k] for k in PRECEDENCE}
                data = (
                    f"nodes table: macs={_go_list(by_kind['mac'])} xnames={_go_list(by_kind['xname'])} "
                    f"nids={_go_list(by_kind['nid'])}"
                )
                if by_kind["group"]:
                    data += f" groups={_go_list(by_kind['group'])}"
                raise NotFound(f"Not Found: postgres.Update: data does not exist: {data}")
            if not bp.has_config:
                raise NotFound(
                    "Not Found: postgres.Update: must specify at least one of params, kernel, or initrd"
                )
            self._update(conn, [existing[p] for p in pairs], bp)
            self.repo.bump_version(conn)
        self.params_cache.invalidate()

    def delete(self, bp: BootParams) -> None:
        """DELETE: remove the listed identifiers, and configurations equal to the given fields."""
        if not bp.has_identifiers and not bp.has_config:
            raise BadRequest(
                "postgres.Delete: no hosts, macs, nids, groups, kernel, initrd or params specified"
            )
        with self.db.transaction() as conn:
            if bp.has_identifiers:
                self.repo.unassign(conn, bp.identifiers())
            if bp.has_config:
                self.repo.delete_configs_matching(conn, bp.kernel, bp.initrd, bp.params)
            self.repo.prune_configs(conn)
            self.repo.bump_version(conn)
        self.params_cache.invalidate()

    def _insert(self, conn: Any, pairs: list[tuple[str, str]], config: BootConfig) -> None:
        try:
            self.repo.assign(conn, pairs, self.repo.config_id(conn, config))
        except IntegrityError as exc:
            raise Conflict("Conflict: the boot parameters were changed concurrently; retry") from exc

    def _update(self, conn: Any, current: list[Assignment], bp: BootParams) -> None:
        targets: dict[BootConfig, list[tuple[str, str]]] = {}
        for a in current:
            merged = BootConfig(
                kernel=bp.kernel or a.config.kernel,
                initrd=bp.initrd or a.config.initrd,
                params=bp.params or a.config.params,
            )
            if merged != a.config:
                targets.setdefault(merged, []).append((a.kind, a.key))
        for config, pairs in targets.items():
            self.repo.reassign(conn, pairs, self.repo.config_id(conn, config))
        if targets:
            self.repo.prune_configs(conn)

    # boot scripts ---------------------------------------------------------------------------------

    def bootscript(
        self,
        *,
        mac: str,
        name: str,
        nid: int | None,
        retry: int,
        arch: str,
        ts: int | None,
        want_json: bool,
        ip: str | None,
    ) -> ScriptAnswer:
        """The answer to ``GET /boot/v1/bootscript``, from the caches only."""
        snapshot = self.inventory.get()
        index = self.params_cache.get()
        if self._answers_for[0] is not index or self._answers_for[1] is not snapshot:
            self._answers = {}
            self._answers_for = (index, snapshot)
        key = (mac, name, nid, want_json)
        hit = self._answers.get(key)
        if hit is not None:
            # Same node, same snapshots: same script but for the retry counter. The event is new.
            body, xname, boot_mac_hit = hit
            self.events.record(
                "bootscript",
                "bss",
                xname=xname,
                mac=boot_mac_hit,
                ip=ip,
                detail={"known": True, "retry": retry, **({"arch": arch} if arch else {})},
            )
            return self._answer(body, retry, want_json)
        boot_mac: str | None = None
        node: Node | None
        if mac:
            boot_mac = ident.request_mac(mac)
            if boot_mac is None:
                raise BadRequest(f"Bad Request - Invalid MAC '{mac}'")
            node = snapshot.by_mac.get(boot_mac)
            descr = f"MAC {mac}" + (f" ({node.xname})" if node else "")
        elif name:
            node = snapshot.by_xname.get(ident.normalise_xname(name))
            descr = name + (f" ({node.xname})" if node and node.xname != name else "")
        elif nid is not None:
            node = snapshot.by_nid.get(nid)
            descr = f"NID {nid}" + (f" ({node.xname})" if node else "")
        else:
            raise BadRequest("Need a mac=, name=, or nid= parameter")

        config = None
        if node is not None:
            config, _source = effective_config(node, index, boot_mac)
        known = node is not None and node.bootable and config is not None and bool(config.kernel)
        self.events.record(
            "bootscript",
            "bss",
            xname=node.xname if node else None,
            mac=boot_mac,
            ip=ip,
            detail={"known": known, "retry": retry, **({"arch": arch} if arch else {})},
        )
        if not known:
            return self._unknown(node, mac, name, nid, arch, ts, descr)
        assert node is not None
        assert config is not None
        nid_text = str(node.nid) if node.nid is not None else ""
        if want_json:
            doc = ipxe.boot_json(
                config, xname=node.xname, nid=nid_text, boot_mac=boot_mac, datasource=self.options.datasource
            )
            body = (json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
            self._remember(key, body, node.xname, boot_mac)
            return self._answer(body, retry, want_json)
        chain_mac = mac or (node.macs[0] if node.macs else "")
        chain_key = f"mac={chain_mac}" if chain_mac else f"name={node.xname}"
        head = ipxe.known_script_head(
            config,
            xname=node.xname,
            nid=nid_text,
            boot_mac=boot_mac,
            chain_key=chain_key,
            options=self.options,
        ).encode("utf-8")
        self._remember(key, head, node.xname, boot_mac)
        return self._answer(head, retry, want_json)

    @staticmethod
    def _answer(body: bytes, retry: int, want_json: bool) -> ScriptAnswer:
        if want_json:
            return ScriptAnswer(body, "application/json", True)
        # The head ends in "&retry="; upstream writes the script and one more newline.
        return ScriptAnswer(body + b"%d\n\n" % (retry + 1), _SCRIPT_TYPE, True)

    def _remember(self, key: AnswerKey, body: bytes, xname: str, boot_mac: str | None) -> None:
        if len(self._answers) >= MAX_REMEMBERED:
            self._answers = {}
        self._answers[key] = (body, xname, boot_mac)

    def _unknown(
        self, node: Node | None, mac: str, name: str, nid: int | None, arch: str, ts: int | None, descr: str
    ) -> ScriptAnswer:
        if node is not None:
            name = name or node.xname
            nid = node.nid if node.nid is not None else nid
            mac = mac or (node.macs[0] if node.macs else "")
        descr = "Unknown " + descr + (f" architecture {arch}" if arch else "")
        if arch:
            raise NotFound(f"{descr}: this host not configured for booting.")
        self.inventory.refresh_in_background()
        if mac:
            key = f"mac={mac}"
        elif name:
            key = f"name={name}"
        else:
            key = f"nid={nid}"
        stamp = ts if ts is not None else int(time.time())
        script = ipxe.unknown_script(key, stamp, self.options)
        return ScriptAnswer(ipxe.response_body(script), "text/plain; charset=UTF-8", False)

    # hosts, history, status -----------------------------------------------------------------------

    def hosts(
        self, *, names: Sequence[str], macs: Sequence[str], nids: Sequence[str]
    ) -> list[dict[str, Any]] | None:
        snapshot = self.inventory.get()
        if not (names or macs or nids):
            return [host_to_wire(n) for n in snapshot.nodes] or None
        found: list[Node] = []
        for name in names:
            node = snapshot.by_xname.get(ident.normalise_xname(name))
            if node is None:
                raise NotFound(f"Not Found - Unknown host name '{name}'")
            found.append(node)
        for mac in macs:
            norm = ident.request_mac(mac)
            node = snapshot.by_mac.get(norm) if norm else None
            if node is None:
                raise NotFound(f"Not Found - Unknown MAC address '{mac}'")
            found.append(node)
        for text in nids:
            nid = ident.parse_nid(text)
            if nid is None:
                raise BadRequest(f"Bad Request - Invalid nid '{text}'")
            node = snapshot.by_nid.get(nid)
            if node is None:
                raise NotFound(f"Not Found - Unknown NID '{text}'")
            found.append(node)
        return [host_to_wire(n) for n in found]

    def refresh_hosts(self) -> InventorySnapshot:
        return self.inventory.refresh()

    def dumpstate(self) -> dict[str, Any]:
        return {"Components": self.hosts(names=(), macs=(), nids=()), "Params": self.all_params()}

    def endpoint_history(self, name: str, endpoint: str) -> list[dict[str, Any]]:
        if endpoint and endpoint not in HISTORY_ENDPOINTS:
            raise BadRequest(f"Bad Request - Invalid endpoint '{endpoint}' (bootscript or user-data)")
        self.events.flush()
        endpoints = [endpoint] if endpoint else list(HISTORY_ENDPOINTS)
        out: list[dict[str, Any]] = []
        with self.db.read() as conn:
            for ep in endpoints:
                for xname, ts in self.repo.last_access(conn, HISTORY_ENDPOINTS[ep], name or None):
                    stamp = ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
                    out.append({"name": xname, "endpoint": ep, "last_epoch": int(stamp.timestamp())})
        out.sort(key=lambda r: (r["name"], r["endpoint"]))
        return out

    def storage_status(self) -> tuple[bool, dict[str, str]]:
        name = "postgres" if self.db.dialect == "postgresql" else self.db.dialect
        try:
            self.db.ping()
        except Exception:
            return False, {"name": name, "status": "error"}
        return True, {"name": name, "status": "connected"}

    def hsm_status(self) -> bool:
        try:
            self.inventory.get()
        except Exception:
            return False
        return self.inventory.last_error is None

    @property
    def version(self) -> str:
        return __version__
