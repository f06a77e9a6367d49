"""Who gets which address and boot file: a pure function of the request, the inventory and the settings.

The server owns the protocol (sockets, destinations); it asks :meth:`Policy.handle` for an
:class:`Outcome` holding the reply (or ``None``: stay silent) and what to log and record. Nothing here does
I/O: the bootloop leases sit behind the :class:`LeaseStore` protocol.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pychami.core.inventory import InventorySnapshot, Node
from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import DhcpPacket, MessageType
from pychami.netboot.settings import NetbootSettings

#: RFC 2132 option 43 for PXE clients: PXE_DISCOVERY_CONTROL=8 (boot from the file, no boot server menu).
PXE_VENDOR_OPTIONS = bytes((6, 1, 8, 255))
#: iPXE encapsulated option 175 with 176 (no-pxedhcp) = 1: do not wait for a ProxyDHCP offer.
IPXE_NO_PROXYDHCP = bytes((176, 1, 1))


@dataclass(frozen=True)
class Served:
    """One subnet we answer for; ``on_link`` when it is the server's own segment (not via a relay)."""

    network: ipaddress.IPv4Network
    on_link: bool

    def __contains__(self, ip: str) -> bool:
        return _in(ip, self.network)


def _in(ip: str, network: ipaddress.IPv4Network) -> bool:
    try:
        number = int.from_bytes(socket.inet_aton(ip), "big")
    except OSError:
        return False
    return int(network.network_address) <= number <= int(network.broadcast_address)


@dataclass(frozen=True)
class Lease:
    mac: str
    ip: str
    expires: float


class LeaseStore(Protocol):
    """Bootloop leases for unknown MACs (in memory here; persisted by the daemon)."""

    def lookup(self, mac: str) -> Lease | None: ...

    def allocate(self, mac: str, now: float, ttl: int) -> Lease | None: ...

    def release(self, mac: str) -> None: ...


class MemoryLeases:
    """A lease table over an address range; expired leases are reused first-free."""

    def __init__(self, start: str, end: str) -> None:
        self._start = int(ipaddress.IPv4Address(start))
        self._end = int(ipaddress.IPv4Address(end))
        self.by_mac: dict[str, Lease] = {}
        self._by_ip: dict[str, str] = {}
        self.changed: list[tuple[str, Lease | None]] = []

    def load(self, leases: list[Lease]) -> None:
        for lease in leases:
            self.by_mac[lease.mac] = lease
            self._by_ip[lease.ip] = lease.mac

    def lookup(self, mac: str) -> Lease | None:
        return self.by_mac.get(mac)

    def allocate(self, mac: str, now: float, ttl: int) -> Lease | None:
        current = self.by_mac.get(mac)
        if current is not None:
            lease = Lease(mac, current.ip, now + ttl)
            self._put(lease)
            return lease
        for number in range(self._start, self._end + 1):
            ip = str(ipaddress.IPv4Address(number))
            holder = self._by_ip.get(ip)
            if holder is not None:
                held = self.by_mac.get(holder)
                if held is not None and held.expires > now:
                    continue
                self.release(holder)
            lease = Lease(mac, ip, now + ttl)
            self._put(lease)
            return lease
        return None

    def release(self, mac: str) -> None:
        lease = self.by_mac.pop(mac, None)
        if lease is not None:
            self._by_ip.pop(lease.ip, None)
            self.changed.append((mac, None))

    def _put(self, lease: Lease) -> None:
        self.by_mac[lease.mac] = lease
        self._by_ip[lease.ip] = lease.mac
        self.changed.append((lease.mac, lease))


@dataclass
class Outcome:
    """What the policy decided for one request."""

    reply: DhcpPacket | None
    #: ``firmware`` (PXE ROM / UEFI), ``ipxe``, or ``os`` (dhclient, udhcpc, ...).
    client: str
    node: Node | None = None
    ip: str | None = None
    #: Why there is no reply, or what was refused (logged as a warning when ``conflict``).
    reason: str = ""
    conflict: bool = False
    detail: dict[str, str] = field(default_factory=dict)


@dataclass
class _Index:
    """Per-snapshot lookups: MAC -> node and its addresses; addresses claimed by several MACs."""

    macs: dict[str, tuple[Node, tuple[str, ...]]]
    contested: set[str]


def build_index(snapshot: InventorySnapshot) -> _Index:
    owners: dict[str, set[str]] = {}
    macs: dict[str, tuple[Node, tuple[str, ...]]] = {}
    for node in snapshot.nodes:
        if node.state == "Empty" or not node.enabled:
            continue
        for iface in node.interfaces:
            ips = tuple(ip.address for ip in iface.ips if ip.address)
            macs[iface.mac.lower()] = (node, ips)
            for ip in ips:
                owners.setdefault(ip, set()).add(iface.mac.lower())
    return _Index(macs, {ip for ip, holders in owners.items() if len(holders) > 1})


def client_kind(req: DhcpPacket) -> str:
    uc = req.get(codec.OPT_USER_CLASS)
    if req.get(codec.OPT_IPXE) is not None or (uc is not None and b"iPXE" in codec.user_classes(uc)):
        return "ipxe"
    vc = req.get(codec.OPT_VENDOR_CLASS) or b""
    if vc.startswith(b"PXEClient") or req.get(codec.OPT_CLIENT_ARCH) is not None:
        return "firmware"
    return "os"


def client_arch(req: DhcpPacket) -> int | None:
    raw = req.get(codec.OPT_CLIENT_ARCH)
    if raw is None:
        return None
    return codec.client_arches(raw)[0]


class Policy:
    """Answers DHCP requests from the inventory (known MACs) and the unknown-MAC policy."""

    def __init__(
        self,
        cfg: NetbootSettings,
        *,
        boot_url: str,
        leases: LeaseStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if cfg.server_ip is None:
            raise ValueError("netboot.server_ip is not set")
        self.cfg = cfg
        self.server_ip = cfg.server_ip
        self.next_server = cfg.next_server or cfg.server_ip
        self.boot_url = boot_url.rstrip("/")
        self.arch_files = cfg.arch_files()
        server = ipaddress.IPv4Address(cfg.server_ip)
        self.subnets = [Served(net, server in net) for net in (ipaddress.IPv4Network(s) for s in cfg.subnets)]
        self._local = next((s for s in self.subnets if s.on_link), None)
        self.leases = leases
        self.clock = clock
        self._options_cache: dict[
            tuple[ipaddress.IPv4Network, str], tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]
        ] = {}
        self._server_id = codec.ip_value([cfg.server_ip])
        self._index: _Index | None = None
        self._indexed: InventorySnapshot | None = None

    # subnet selection ---------------------------------------------------------------------------

    def subnet_for(self, req: DhcpPacket) -> Served | None:
        """The relay's subnet (giaddr) or, for a direct request, the server's own one."""
        if req.giaddr != codec.UNSPECIFIED:
            return next((s for s in self.subnets if _in(req.giaddr, s.network)), None)
        return self._local

    def index(self, snapshot: InventorySnapshot) -> _Index:
        if self._indexed is not snapshot or self._index is None:
            self._index = build_index(snapshot)
            self._indexed = snapshot
        return self._index

    # the decision -------------------------------------------------------------------------------

    def handle(self, req: DhcpPacket, snapshot: InventorySnapshot) -> Outcome:
        """Decide the reply to one decoded request (raises :class:`codec.CodecError` on bad options)."""
        kind = client_kind(req)
        mtype = req.message_type
        if req.op != codec.BOOTREQUEST or mtype is None:
            return Outcome(None, kind, reason="not a DHCP request")
        if req.htype != 1 or req.hlen != 6:
            return Outcome(None, kind, reason=f"hardware type {req.htype}/{req.hlen} is not Ethernet")
        subnet = self.subnet_for(req)
        if subnet is None:
            return Outcome(None, kind, reason=f"relay address {req.giaddr} is in no served subnet")
        mac = req.mac
        entry = self.index(snapshot).macs.get(mac)
        if mtype is MessageType.INFORM:
            return self._inform(req, kind, subnet, entry[0] if entry else None)
        if entry is None or not entry[1]:
            return self._unknown(req, kind, subnet, mtype)
        node, ips = entry
        idx = self.index(snapshot)
        ip = next((a for a in ips if a in subnet), None)
        if ip is None:
            served = [a for a in ips if any(a in s for s in self.subnets)]
            if not served:
                return Outcome(
                    None,
                    kind,
                    node,
                    reason=f"address {', '.join(ips)} of {node.xname} is outside every served subnet",
                    conflict=True,
                )
            return Outcome(None, kind, node, reason=f"no address of {node.xname} on {subnet.network}")
        if ip in idx.contested:
            return Outcome(
                None, kind, node, ip, reason=f"address {ip} is assigned to several MACs", conflict=True
            )
        if ip == self.server_ip or ip in _edges(subnet.network):
            return Outcome(None, kind, node, ip, reason=f"address {ip} is reserved", conflict=True)
        return self._known(req, kind, subnet, node, ip, mtype)

    def _known(
        self, req: DhcpPacket, kind: str, subnet: Served, node: Node, ip: str, mtype: MessageType
    ) -> Outcome:
        lease = self.cfg.lease_time
        if mtype is MessageType.DISCOVER:
            reply = self._offer(
                req, MessageType.OFFER, ip, subnet, lease, node, kind, self._boot_file(req, kind)
            )
            return Outcome(reply, kind, node, ip)
        if mtype is MessageType.REQUEST:
            verdict = self._check_request(req, ip)
            if verdict is None:
                return Outcome(None, kind, node, ip, reason="request for another server")
            if not verdict:
                return Outcome(self._nak(req, "address not assigned to this client"), kind, node, ip)
            reply = self._offer(
                req, MessageType.ACK, ip, subnet, lease, node, kind, self._boot_file(req, kind)
            )
            return Outcome(reply, kind, node, ip)
        if mtype is MessageType.DECLINE:
            declined = _opt_ip(req, codec.OPT_REQUESTED_IP)
            return Outcome(
                None,
                kind,
                node,
                ip,
                reason=f"client declined {declined}: address in use on the wire",
                conflict=True,
            )
        return Outcome(None, kind, node, ip, reason=mtype.name.lower())

    def _check_request(self, req: DhcpPacket, ip: str) -> bool | None:
        """True: ACK; False: NAK; None: not for us (RFC 2131 4.3.2)."""
        server_id = _opt_ip(req, codec.OPT_SERVER_ID)
        requested = _opt_ip(req, codec.OPT_REQUESTED_IP)
        if server_id is not None:
            if server_id != self.server_ip:
                return None
            return requested == ip or (requested is None and req.ciaddr == ip)
        if requested is not None:
            return requested == ip
        if req.ciaddr != codec.UNSPECIFIED:
            return req.ciaddr == ip
        return False

    def _unknown(self, req: DhcpPacket, kind: str, subnet: Served, mtype: MessageType) -> Outcome:
        if self.cfg.unknown != "bootloop" or self.leases is None:
            return Outcome(None, kind, reason="unknown MAC (policy ignore)")
        mac, now, ttl = req.mac, self.clock(), self.cfg.bootloop.lease_time
        current = self.leases.lookup(mac)
        if mtype is MessageType.RELEASE:
            self.leases.release(mac)
            return Outcome(None, kind, ip=current.ip if current else None, reason="released")
        if mtype is MessageType.DECLINE:
            self.leases.release(mac)
            return Outcome(None, kind, reason="declined bootloop address", conflict=True)
        if current is not None and current.expires > now and kind != "ipxe" and mtype is MessageType.DISCOVER:
            # Next firmware boot of a looping node: drop its lease so it starts over (maybe known by now).
            self.leases.release(mac)
            return Outcome(
                self._nak(req, "bootloop: lease dropped"), kind, ip=current.ip, detail={"bootloop": "nak"}
            )
        if mtype is MessageType.REQUEST:
            if current is None or current.expires <= now:
                return Outcome(self._nak(req, "no lease"), kind, detail={"bootloop": "nak"})
            verdict = self._check_request(req, current.ip)
            if verdict is None:
                return Outcome(None, kind, ip=current.ip, reason="request for another server")
            if not verdict:
                self.leases.release(mac)
                return Outcome(
                    self._nak(req, "wrong address"), kind, ip=current.ip, detail={"bootloop": "nak"}
                )
            lease = self.leases.allocate(mac, now, ttl)
            mt = MessageType.ACK
        elif mtype is MessageType.DISCOVER:
            lease = self.leases.allocate(mac, now, ttl)
            mt = MessageType.OFFER
        else:
            return Outcome(None, kind, reason=mtype.name.lower())
        if lease is None:
            return Outcome(None, kind, reason="bootloop pool exhausted", conflict=True)
        if lease.ip not in subnet:
            return Outcome(None, kind, ip=lease.ip, reason=f"bootloop pool is not on {subnet.network}")
        boot = self.cfg.bootloop.script if kind == "ipxe" else self._boot_file(req, kind)
        reply = self._offer(req, mt, lease.ip, subnet, ttl, None, kind, boot)
        return Outcome(reply, kind, ip=lease.ip, detail={"bootloop": "lease"})

    def _inform(self, req: DhcpPacket, kind: str, subnet: Served, node: Node | None) -> Outcome:
        if req.ciaddr == codec.UNSPECIFIED or req.ciaddr not in subnet:
            return Outcome(None, kind, node, reason="INFORM from an address outside the subnet")
        reply = self._offer(req, MessageType.ACK, codec.UNSPECIFIED, subnet, None, node, kind, None)
        reply.ciaddr = req.ciaddr
        return Outcome(reply, kind, node, req.ciaddr)

    # reply construction -------------------------------------------------------------------------

    def _subnet_options(
        self, subnet: Served, giaddr: str
    ) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
        """Options that depend only on the subnet (and relay), before and after the hostname; cached."""
        key = (subnet.network, giaddr)
        cached = self._options_cache.get(key)
        if cached is not None:
            return cached
        net = subnet.network
        head = [
            (codec.OPT_SUBNET_MASK, net.netmask.packed),
            (codec.OPT_BROADCAST, net.broadcast_address.packed),
        ]
        router = self.cfg.router
        if router is None or ipaddress.IPv4Address(router) not in net:
            router = giaddr if giaddr != codec.UNSPECIFIED else None
        if router:
            head.append((codec.OPT_ROUTER, codec.ip_value([router])))
        if self.cfg.dns:
            head.append((codec.OPT_DNS, codec.ip_value(self.cfg.dns)))
        tail = []
        if self.cfg.domain:
            tail.append((codec.OPT_DOMAIN, self.cfg.domain.encode()))
        tail.append((codec.OPT_ROOT_PATH, self.next_server.encode()))
        if len(self._options_cache) > 1024:  # relays are few; bound it anyway
            self._options_cache.clear()
        self._options_cache[key] = (head, tail)
        return head, tail

    def _boot_file(self, req: DhcpPacket, kind: str) -> str | None:
        if kind == "ipxe":
            return f"{self.boot_url}/boot/v1/bootscript?mac={req.mac}"
        arch = client_arch(req)
        if arch is None:
            return None
        return self.arch_files.get(arch)

    def hostname(self, node: Node) -> str:
        try:
            if node.nid is not None:
                return self.cfg.hostname.format(nid=node.nid, xname=node.xname, index=node.nid)
            return self.cfg.hostname_fallback.format(xname=node.xname, nid=0, index=0)
        except (KeyError, ValueError, IndexError):
            return node.xname

    def _base(self, req: DhcpPacket, mtype: MessageType) -> DhcpPacket:
        return DhcpPacket(
            op=codec.BOOTREPLY,
            htype=req.htype,
            hlen=req.hlen,
            xid=req.xid,
            flags=req.flags,
            giaddr=req.giaddr,
            chaddr=req.chaddr,
            options=[
                (codec.OPT_MESSAGE_TYPE, bytes((mtype,))),
                (codec.OPT_SERVER_ID, self._server_id),
            ],
        )

    def _nak(self, req: DhcpPacket, message: str) -> DhcpPacket:
        reply = self._base(req, MessageType.NAK)
        reply.options.append((codec.OPT_MESSAGE, message.encode()))
        if req.giaddr != codec.UNSPECIFIED:
            reply.flags |= codec.FLAG_BROADCAST  # RFC 2131 4.3.2: the relay must broadcast a NAK
        _echo_relay(req, reply)
        return reply

    def _offer(
        self,
        req: DhcpPacket,
        mtype: MessageType,
        ip: str,
        subnet: Served,
        lease: int | None,
        node: Node | None,
        kind: str,
        boot: str | None,
    ) -> DhcpPacket:
        reply = self._base(req, mtype)
        reply.yiaddr = ip
        reply.siaddr = self.next_server
        if mtype is MessageType.ACK and req.ciaddr != codec.UNSPECIFIED:
            reply.ciaddr = req.ciaddr
        opts = reply.options
        if lease is not None:
            opts += _lease_options(lease)
        head, tail = self._subnet_options(subnet, req.giaddr)
        opts += head
        if node is not None:
            opts.append((codec.OPT_HOSTNAME, self.hostname(node).encode()))
        opts += tail
        if boot:
            opts.append((codec.OPT_TFTP_SERVER, self.next_server.encode()))
            opts.append((codec.OPT_BOOTFILE, boot.encode()))
            if len(boot) < 128:
                reply.file = boot.encode()
        if kind == "firmware" and (req.get(codec.OPT_VENDOR_CLASS) or b"").startswith(b"PXEClient"):
            opts.append((codec.OPT_VENDOR_CLASS, b"PXEClient"))
            opts.append((codec.OPT_VENDOR_SPECIFIC, PXE_VENDOR_OPTIONS))
        if kind == "ipxe" and self.cfg.ipxe_skip_proxydhcp:
            opts.append((codec.OPT_IPXE, IPXE_NO_PROXYDHCP))
        _echo_relay(req, reply)
        return reply


@functools.lru_cache(maxsize=16)
def _lease_options(lease: int) -> tuple[tuple[int, bytes], ...]:
    return (
        (codec.OPT_LEASE_TIME, codec.u32_value(lease)),
        (codec.OPT_RENEWAL, codec.u32_value(lease // 2)),
        (codec.OPT_REBINDING, codec.u32_value(lease * 7 // 8)),
    )


@functools.lru_cache(maxsize=256)
def _edges(network: ipaddress.IPv4Network) -> tuple[str, str]:
    return str(network.network_address), str(network.broadcast_address)


def _echo_relay(req: DhcpPacket, reply: DhcpPacket) -> None:
    """RFC 3046: option 82 comes back unchanged, as the last option."""
    agent = req.get(codec.OPT_RELAY_AGENT)
    if agent is not None and req.giaddr != codec.UNSPECIFIED:
        codec.decode_relay_agent(agent)  # malformed sub-options: refuse the request
        reply.options.append((codec.OPT_RELAY_AGENT, agent))


def _opt_ip(req: DhcpPacket, code: int) -> str | None:
    raw = req.get(code)
    if raw is None:
        return None
    if len(raw) != 4:
        raise codec.CodecError(f"option {code} must hold one IPv4 address")
    return codec.ip_list(raw)[0]


def max_reply_size(req: DhcpPacket) -> int:
    """Largest reply the client accepts (option 57, RFC 2132 9.10), at least 576-byte datagrams."""
    raw = req.get(codec.OPT_MAX_SIZE)
    if raw is None or len(raw) != 2:
        return codec.DEFAULT_MAX_SIZE
    return max(codec.DEFAULT_MAX_SIZE, min(int.from_bytes(raw, "big") - 28, 1472))
