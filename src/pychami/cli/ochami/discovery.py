"""``discover static`` without I/O: read a nodes file, find every problem in it, build the SMD payloads.

Both upstream formats are accepted: ``nodes:`` whose nodes carry ``bmc_mac``/``bmc_ip`` (the tutorial's),
``bmcs:`` + ``nodes:`` with ``bmc:`` references (ochami >= 0.6), and a bare top-level list of nodes.
Validation covers the whole file before anything is sent, so one typo never leaves half a cluster.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pychami.core.errors import BadRequest

NODE_KEYS = {
    "name", "nid", "xname", "bmc_mac", "bmc_ip", "bmc_fqdn", "bmc", "group", "groups", "interfaces",
}  # fmt: skip
IFACE_KEYS = {"mac_addr", "ip_addrs", "name", "description"}
IP_KEYS = {"name", "network", "ip_addr"}
BMC_KEYS = {"name", "xname", "mac", "ip", "fqdn", "description"}
REDFISH_ACTIONS = [
    "On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "Nmi", "ForceOn",
    "PushPowerButton", "PowerCycle", "Suspend", "Pause", "Resume",
]  # fmt: skip

_NODE_XNAME = re.compile(r"^x(\d+)c(\d+)s(\d+)b(\d+)n(\d+)$", re.IGNORECASE)
_BMC_XNAME = re.compile(r"^x(\d+)c(\d+)s(\d+)b(\d+)$", re.IGNORECASE)
_MAC = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$", re.IGNORECASE)
_LABEL = re.compile(r"^[-a-z0-9:._]+$")
_UUID_NS = uuid.UUID("6f1c5f0e-8a55-4b0e-9d4c-2b7f0c0d5e11")


class DiscoveryInvalid(BadRequest):
    """The nodes file has problems; ``problems`` lists every one of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"nodes file has {count}, nothing was sent:\n  " + "\n  ".join(problems))


@dataclass
class IP:
    """One address of an interface."""

    addr: str
    network: str | None


@dataclass
class Interface:
    """One NIC of a node."""

    mac: str
    ips: list[IP]

    @property
    def smd_id(self) -> str:
        """SMD's EthernetInterface ID: the MAC lower-cased without separators."""
        return self.mac.replace(":", "")


@dataclass
class NodeSpec:
    """One node of the file, normalised."""

    name: str
    xname: str
    nid: int
    bmc: str
    groups: list[str]
    interfaces: list[Interface]


@dataclass
class BMCSpec:
    """One BMC (Redfish endpoint), normalised."""

    name: str
    xname: str
    mac: str | None
    ip: str | None
    fqdn: str
    nodes: list[NodeSpec] = field(default_factory=list)


@dataclass
class Plan:
    """What to send: nodes, BMCs with their nodes, and groups with their members (in file order)."""

    nodes: list[NodeSpec]
    bmcs: list[BMCSpec]
    groups: dict[str, list[str]]
    warnings: list[str]


def normalise_xname(value: str) -> str:
    """Lower-case and strip leading zeros of each number, as SMD does."""
    return re.sub(r"\d+", lambda m: str(int(m.group())), value.strip().lower())


def normalise_mac(value: str) -> str:
    """Lower-case with colons."""
    return value.strip().lower().replace("-", ":")


def bmc_of(node_xname: str) -> str:
    """The BMC xname of a node xname (``x1000c0s0b0n0`` -> ``x1000c0s0b0``)."""
    return node_xname[: node_xname.rindex("n")]


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.macs: dict[str, str] = {}
        self.ips: dict[str, str] = {}

    def mac(self, where: str, key: str, value: Any) -> str | None:
        if not isinstance(value, str) or not _MAC.match(value.strip()):
            self.problems.append(f"{where}: invalid MAC address in '{key}': {value!r}")
            return None
        mac = normalise_mac(value)
        if mac in self.macs:
            self.problems.append(f"{where}: duplicate MAC address {mac} (also used by {self.macs[mac]})")
        else:
            self.macs[mac] = where
        return mac

    def ip(self, where: str, key: str, value: Any) -> str | None:
        try:
            addr = str(ipaddress.ip_address(str(value).strip()))
        except ValueError:
            self.problems.append(f"{where}: invalid IP address in '{key}': {value!r}")
            return None
        if addr in self.ips:
            self.problems.append(f"{where}: duplicate IP address {addr} (also used by {self.ips[addr]})")
        else:
            self.ips[addr] = where
        return addr

    def unknown(self, where: str, item: Mapping[str, Any], known: set[str]) -> None:
        for key in item:
            if key not in known:
                self.warnings.append(f"{where}: unknown key {key!r} ignored")


def _where(kind: str, index: int, item: Any) -> str:
    if isinstance(item, Mapping):
        label = item.get("name") or item.get("xname")
        if label:
            return f"{kind} {index} ({label})"
    return f"{kind} {index}"


def _as_list(doc: Any) -> tuple[list[Any], list[Any] | None]:
    if isinstance(doc, list):
        return doc, None
    if isinstance(doc, Mapping):
        nodes = doc.get("nodes")
        if not isinstance(nodes, list):
            raise DiscoveryInvalid(["the file needs a 'nodes' list"])
        bmcs = doc.get("bmcs")
        if bmcs is not None and not isinstance(bmcs, list):
            raise DiscoveryInvalid(["'bmcs' must be a list"])
        return nodes, bmcs
    raise DiscoveryInvalid(["the file must hold a 'nodes:' mapping or a list of nodes"])


def plan(doc: Any) -> Plan:
    """Validate a decoded nodes file completely and return what to send, or raise DiscoveryInvalid."""
    raw_nodes, raw_bmcs = _as_list(doc)
    if not raw_nodes:
        raise DiscoveryInvalid(["the file lists no nodes"])
    chk = _Checker()
    if isinstance(doc, Mapping):
        chk.unknown("the file", doc, {"nodes", "bmcs"})
    legacy = raw_bmcs is None and any(
        isinstance(n, Mapping) and ("bmc_mac" in n or "bmc_ip" in n) for n in raw_nodes
    )
    bmcs: dict[str, BMCSpec] = {}
    bmc_by_name: dict[str, str] = {}
    for i, b in enumerate(raw_bmcs or [], 1):
        where = _where("bmc", i, b)
        if not isinstance(b, Mapping):
            chk.problems.append(f"{where}: must be a mapping")
            continue
        chk.unknown(where, b, BMC_KEYS)
        missing = [k for k in ("xname", "mac", "ip") if b.get(k) in (None, "")]
        if missing:
            chk.problems.append(f"{where}: missing key(s): {', '.join(missing)}")
        xname = None
        if b.get("xname") not in (None, ""):
            xname = normalise_xname(str(b["xname"]))
            if not _BMC_XNAME.match(xname):
                chk.problems.append(f"{where}: invalid BMC xname {b['xname']!r} (expected like x1000c0s0b0)")
                xname = None
            elif xname in bmcs:
                chk.problems.append(f"{where}: duplicate BMC xname {xname}")
                xname = None
        mac = chk.mac(where, "mac", b["mac"]) if b.get("mac") not in (None, "") else None
        ip = chk.ip(where, "ip", b["ip"]) if b.get("ip") not in (None, "") else None
        if xname:
            name = str(b.get("name") or xname)
            bmcs[xname] = BMCSpec(name, xname, mac, ip, str(b.get("fqdn") or ""))
            bmc_by_name.setdefault(name, xname)

    nodes: list[NodeSpec] = []
    xnames: dict[str, str] = {}
    nid_seen: dict[int, str] = {}
    groups: dict[str, list[str]] = {}
    for i, n in enumerate(raw_nodes, 1):
        where = _where("node", i, n)
        if not isinstance(n, Mapping):
            chk.problems.append(f"{where}: must be a mapping")
            continue
        chk.unknown(where, n, NODE_KEYS)
        required = ["name", "nid", "xname"] + (["bmc_mac", "bmc_ip"] if legacy else [])
        missing = [k for k in required if n.get(k) in (None, "")]
        if missing:
            chk.problems.append(f"{where}: missing key(s): {', '.join(missing)}")
        xname = None
        if n.get("xname") not in (None, ""):
            xname = normalise_xname(str(n["xname"]))
            if not _NODE_XNAME.match(xname):
                chk.problems.append(
                    f"{where}: invalid node xname {n['xname']!r} (expected like x1000c0s0b0n0)"
                )
                xname = None
            elif xname in xnames:
                chk.problems.append(f"{where}: duplicate xname {xname} (also used by {xnames[xname]})")
                xname = None
            else:
                xnames[xname] = where
        nid = n.get("nid")
        if nid is not None:
            if isinstance(nid, bool) or not isinstance(nid, int) or nid < 1:
                chk.problems.append(f"{where}: invalid NID {nid!r} (expected a positive integer)")
                nid = None
            elif nid in nid_seen:
                chk.problems.append(f"{where}: duplicate NID {nid} (also used by {nid_seen[nid]})")
            else:
                nid_seen[nid] = where
        bmc_xname = _node_bmc(where, n, xname, legacy, bmcs, bmc_by_name, chk)
        node_groups = _groups(where, n, chk)
        interfaces = _interfaces(where, n, chk)
        if xname and isinstance(nid, int) and bmc_xname and "name" in n and n["name"] not in (None, ""):
            node = NodeSpec(str(n["name"]), xname, nid, bmc_xname, node_groups, interfaces)
            nodes.append(node)
            bmcs[bmc_xname].nodes.append(node)
            for g in node_groups:
                groups.setdefault(g, []).append(xname)
    if chk.problems:
        raise DiscoveryInvalid(chk.problems)
    return Plan(nodes, [b for b in bmcs.values() if b.nodes], groups, chk.warnings)


def _groups(where: str, n: Mapping[str, Any], chk: _Checker) -> list[str]:
    raw: list[Any] = []
    if n.get("group") not in (None, ""):
        raw.append(n["group"])
    more = n.get("groups")
    if more is not None:
        if isinstance(more, list):
            raw.extend(more)
        else:
            chk.problems.append(f"{where}: 'groups' must be a list")
    out: list[str] = []
    for g in raw:
        label = str(g).strip().lower()
        if not isinstance(g, str) or not _LABEL.match(label):
            chk.problems.append(f"{where}: invalid group label {g!r} (allowed: a-z 0-9 - : . _)")
        elif label not in out:
            out.append(label)
    return out


def _interfaces(where: str, n: Mapping[str, Any], chk: _Checker) -> list[Interface]:
    raw = n.get("interfaces")
    if raw is None:
        return []
    if not isinstance(raw, list):
        chk.problems.append(f"{where}: 'interfaces' must be a list")
        return []
    out: list[Interface] = []
    for j, iface in enumerate(raw, 1):
        iw = f"{where} interface {j}"
        if not isinstance(iface, Mapping):
            chk.problems.append(f"{iw}: must be a mapping")
            continue
        chk.unknown(iw, iface, IFACE_KEYS)
        if iface.get("mac_addr") in (None, ""):
            chk.problems.append(f"{iw}: missing key(s): mac_addr")
            mac = None
        else:
            mac = chk.mac(iw, "mac_addr", iface["mac_addr"])
        ips: list[IP] = []
        raw_ips = iface.get("ip_addrs") or []
        if not isinstance(raw_ips, list):
            chk.problems.append(f"{iw}: 'ip_addrs' must be a list")
            raw_ips = []
        for k, entry in enumerate(raw_ips, 1):
            ipw = f"{iw} ip_addrs {k}"
            if not isinstance(entry, Mapping):
                chk.problems.append(f"{ipw}: must be a mapping")
                continue
            chk.unknown(ipw, entry, IP_KEYS)
            if entry.get("ip_addr") in (None, ""):
                chk.problems.append(f"{ipw}: missing key(s): ip_addr")
                continue
            addr = chk.ip(ipw, "ip_addr", entry["ip_addr"])
            network = entry.get("network") or entry.get("name")
            if addr:
                ips.append(IP(addr, str(network) if network else None))
        if mac:
            out.append(Interface(mac, ips))
    return out


def _node_bmc(
    where: str,
    n: Mapping[str, Any],
    xname: str | None,
    legacy: bool,
    bmcs: dict[str, BMCSpec],
    bmc_by_name: dict[str, str],
    chk: _Checker,
) -> str | None:
    if legacy:
        bmc = bmc_of(xname) if xname else None
        if bmc is not None and bmc in bmcs:
            # several nodes behind one BMC: they must agree on it, and that is no duplicate
            known = bmcs[bmc]
            mac_s = normalise_mac(str(n.get("bmc_mac") or ""))
            if mac_s and known.mac and mac_s != known.mac:
                chk.problems.append(f"{where}: bmc_mac {mac_s} differs from {known.mac} given for BMC {bmc}")
            return bmc
        mac = chk.mac(where, "bmc_mac", n["bmc_mac"]) if n.get("bmc_mac") not in (None, "") else None
        ip = chk.ip(where, "bmc_ip", n["bmc_ip"]) if n.get("bmc_ip") not in (None, "") else None
        if bmc is not None:
            bmcs[bmc] = BMCSpec(str(n.get("name") or bmc), bmc, mac, ip, str(n.get("bmc_fqdn") or ""))
        return bmc
    ref = n.get("bmc")
    if ref in (None, ""):
        if not xname:
            return None
        bmc = bmc_of(xname)
        if bmc not in bmcs:
            bmcs[bmc] = BMCSpec(bmc, bmc, None, None, "")
        return bmc
    ref_s = str(ref)
    if ref_s in bmc_by_name:
        return bmc_by_name[ref_s]
    if normalise_xname(ref_s) in bmcs:
        return normalise_xname(ref_s)
    chk.problems.append(f"{where}: bmc {ref_s!r} is not listed under 'bmcs'")
    return None


# -- payloads ---------------------------------------------------------------------------------------
def stable_uuid(*parts: str) -> str:
    """A UUID derived from names, so re-running discovery sends the same UUIDs (idempotent)."""
    return str(uuid.uuid5(_UUID_NS, "/".join(parts)))


def component(node: NodeSpec) -> dict[str, Any]:
    """The Component of a node."""
    return {"ID": node.xname, "Type": "Node", "State": "On", "Enabled": True, "NID": node.nid}


def redfish_endpoint(bmc: BMCSpec, smd_base: str) -> dict[str, Any]:
    """The RedfishEndpoint V2 payload of a BMC and its nodes (spec §1.9 step 2)."""
    parts = urlsplit(smd_base)
    root = f"{parts.scheme}://{parts.netloc}"
    manager_uuid = stable_uuid("manager", bmc.xname)
    systems = []
    for node in bmc.nodes:
        systems.append(
            {
                "uri": f"{root}/redfish/v1/Systems/{node.xname}",
                "uuid": stable_uuid("system", node.xname),
                "name": node.name,
                "ethernet_interfaces": [
                    {
                        "mac": iface.mac,
                        "ip": iface.ips[0].addr if iface.ips else "",
                        "name": node.xname,
                        "description": f"Interface {j} for {node.name}",
                    }
                    for j, iface in enumerate(node.interfaces)
                ],
                "actions": list(REDFISH_ACTIONS),
            }
        )
    body: dict[str, Any] = {
        "ID": bmc.xname,
        "Type": "NodeBMC",
        "Name": bmc.name,
        "UUID": manager_uuid,
        "MACAddr": bmc.mac or "",
        "IPAddress": bmc.ip or "",
        "FQDN": bmc.fqdn,
        "DiscoveryInfo": {"LastAttempt": "0001-01-01T00:00:00Z"},
        "SchemaVersion": 1,
        "Systems": systems,
        "Managers": [
            {
                "uri": f"{root}/redfish/v1/Managers/{bmc.xname}",
                "uuid": manager_uuid,
                "name": bmc.xname,
                "type": "NodeBMC",
                "description": "",
                "actions": None,
                "ethernet_interfaces": (
                    [
                        {
                            "mac": bmc.mac,
                            "ip": bmc.ip or "",
                            "name": bmc.xname,
                            "description": f"Interface for BMC {bmc.xname}",
                        }
                    ]
                    if bmc.mac
                    else []
                ),
            }
        ],
    }
    if not bmc.fqdn:
        del body["FQDN"]
    return body


def interface_ips(iface: Interface) -> list[dict[str, str]]:
    """The IPAddresses list of an interface, with the network names the RFE payload cannot carry."""
    return [{"IPAddress": ip.addr, **({"Network": ip.network} if ip.network else {})} for ip in iface.ips]


def needs_ip_patch(iface: Interface) -> bool:
    """True when SMD's RFE parse alone would lose information (a network name, or a second IP)."""
    return len(iface.ips) > 1 or any(ip.network for ip in iface.ips)


def group_body(label: str, members: list[str]) -> dict[str, Any]:
    """The group of step 4."""
    return {"label": label, "description": f"The {label} group", "members": {"ids": members}}
