"""The DHCPv4 daemon (asyncio): sockets per interface, relays, reply destinations (RFC 2131 4.1).

The protocol lives here, the decisions in :mod:`pychami.netboot.dhcp.policy`. :meth:`DhcpServer.process`
turns one datagram into at most one reply and its destination without touching a socket, so tests can
fuzz it directly.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

from pychami.core.inventory import InventorySnapshot
from pychami.core.logs import get_logger
from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import CodecError, MessageType
from pychami.netboot.dhcp.policy import Outcome, Policy, max_reply_size
from pychami.netboot.events import EventSink

log = get_logger("pychami.netboot.dhcp")

BROADCAST = "255.255.255.255"
_STAGES = {t: f"dhcp_{t.name.lower()}" for t in MessageType}
_SIOCSARP = 0x8955
_BURST = 64
#: Seconds during which a request identical in client, xid and type to one just answered is not
#: answered again. In a boot storm the socket queue holds both the original and the client's
#: retransmission (clients wait at least 1 s); answering the copy too only doubles the queue.
DUPLICATE_WINDOW = 1.0
_ANSWERED_MAX = 100_000
_ATF_COM = 0x02


@dataclass(frozen=True)
class Reply:
    data: bytes
    host: str
    port: int
    #: Unicast to a client that has no address yet: needs an ARP entry for (host, mac) first.
    arp_mac: bytes | None = None


class DhcpServer:
    def __init__(
        self,
        policy: Policy,
        inventory: Callable[[], InventorySnapshot],
        events: EventSink,
        *,
        interfaces: list[str],
        port: int = 67,
        client_port: int = 68,
        relay_port: int = 67,
        bind_address: str = "0.0.0.0",  # noqa: S104 - DHCP servers must receive broadcasts
        duplicate_window: float = DUPLICATE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.duplicate_window = duplicate_window
        self._clock = clock
        #: (chaddr, xid, message type) -> when it was last answered (see :data:`DUPLICATE_WINDOW`).
        self._answered: dict[tuple[bytes, int, MessageType | None], float] = {}
        self.inventory = inventory
        self.events = events
        self.interfaces = interfaces
        self.port = port
        self.client_port = client_port
        self.relay_port = relay_port
        self.bind_address = bind_address
        self._sockets: list[socket.socket] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stats = {"received": 0, "replied": 0, "dropped": 0, "malformed": 0, "duplicates": 0}

    # pure part ----------------------------------------------------------------------------------

    def process(self, data: bytes, interface: str = "") -> Reply | None:
        """Decode, decide, encode; ``None`` for anything malformed or unanswered. Never raises."""
        self.stats["received"] += 1
        try:
            req = codec.decode(data)
            key = (req.chaddr, req.xid, req.message_type)
            now = self._clock()
            answered = self._answered.get(key)
            if answered is not None and now - answered < self.duplicate_window:
                self.stats["duplicates"] += 1  # a retransmission queued behind the copy just answered
                return None
            outcome = self.policy.handle(req, self.inventory())
            reply = self._destination(req, outcome)
        except (CodecError, ValueError) as exc:
            self.stats["malformed"] += 1
            log.debug("malformed DHCP message dropped", error=str(exc), interface=interface)
            return None
        self._report(req, outcome, interface)
        if reply is None:
            self.stats["dropped"] += 1
        else:
            self.stats["replied"] += 1
            if len(self._answered) >= _ANSWERED_MAX:
                self._answered = {k: t for k, t in self._answered.items() if now - t < self.duplicate_window}
            self._answered[key] = now
        return reply

    def _destination(self, req: codec.DhcpPacket, outcome: Outcome) -> Reply | None:
        pkt = outcome.reply
        if pkt is None:
            return None
        data = codec.encode(pkt, max_size=max_reply_size(req))
        if req.giaddr != codec.UNSPECIFIED:
            return Reply(data, req.giaddr, self.relay_port)
        if pkt.message_type is MessageType.NAK:
            return Reply(data, BROADCAST, self.client_port)
        if req.ciaddr != codec.UNSPECIFIED:
            return Reply(data, req.ciaddr, self.client_port)
        if req.broadcast or pkt.yiaddr == codec.UNSPECIFIED:
            return Reply(data, BROADCAST, self.client_port)
        return Reply(data, pkt.yiaddr, self.client_port, arp_mac=req.chaddr[: req.hlen])

    def _report(self, req: codec.DhcpPacket, outcome: Outcome, interface: str) -> None:
        """Boot events for known nodes (and bootloop clients); a log line per ACK/NAK, like dnsmasq."""
        mtype = req.message_type
        node = outcome.node
        xname = node.xname if node else None
        if outcome.conflict:
            log.warning(
                "DHCP request refused",
                reason=outcome.reason,
                xname=xname,
                ip=outcome.ip,
                mac=req.mac,
                interface=interface,
            )
        if mtype is None or (node is None and not outcome.detail and outcome.reply is None):
            return  # unknown MACs under "ignore" would flood the timeline
        detail = {"client": outcome.client, **outcome.detail}
        if outcome.reason:
            detail["reason"] = outcome.reason
        mac = req.mac
        record = self.events.record
        record(_STAGES[mtype], "netboot", xname=xname, mac=mac, ip=outcome.ip, detail=detail)
        reply = outcome.reply
        if reply is None:
            return
        rtype = reply.message_type
        assert rtype is not None
        boot = reply.get(codec.OPT_BOOTFILE)
        if boot:
            detail = {**detail, "file": boot.decode(errors="replace")}
        record(_STAGES[rtype], "netboot", xname=xname, mac=mac, ip=outcome.ip, detail=detail)
        if rtype is not MessageType.OFFER:
            log.info(
                f"DHCP{rtype.name}",
                xname=xname,
                ip=outcome.ip,
                mac=mac,
                client=outcome.client,
                file=detail.get("file"),
                interface=interface,
            )

    # sockets ------------------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        for iface in self.interfaces:
            sock = open_socket(iface, self.bind_address, self.port)
            # A reader callback that drains the socket: one loop wakeup serves a burst of requests,
            # without a transport/protocol call per datagram.
            loop.add_reader(sock.fileno(), self._drain, sock, iface)
            self._sockets.append(sock)
        self._loop = loop
        log.info("DHCP server listening", interfaces=self.interfaces, port=self.port)

    def _drain(self, sock: socket.socket, iface: str) -> None:
        for _ in range(_BURST):  # bounded, so TFTP transfers on the same loop get their turn
            try:
                data = sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.debug("DHCP socket error", error=str(exc), interface=iface)
                return
            reply = self.process(data, iface)
            if reply is not None:
                self.send(sock, reply, iface)

    def close(self) -> None:
        for sock in self._sockets:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self._sockets.clear()

    async def stop(self) -> None:
        self.close()
        await asyncio.sleep(0)

    def send(self, sock: socket.socket, reply: Reply, iface: str) -> None:
        if reply.arp_mac is not None and not _add_arp(sock, reply.host, reply.arp_mac, iface):
            reply = Reply(reply.data, BROADCAST, reply.port)
        try:
            sock.sendto(reply.data, (reply.host, reply.port))
        except OSError as exc:  # includes a full send buffer: the client will retransmit
            log.warning("DHCP reply not sent", host=reply.host, error=str(exc))


#: Receive buffer of a DHCP socket: a storm's burst of DISCOVERs (10,000 nodes powered on at once) waits
#: in it instead of being dropped and retransmitted 4 s later (an skb takes 1-2 KiB of it per message).
RECEIVE_BUFFER = 32 * 1024 * 1024
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)


def open_socket(iface: str, address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    if iface:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    try:  # root (as port 67 usually is) may go past net.core.rmem_max
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RECEIVE_BUFFER)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.bind((address, port))
    sock.setblocking(False)
    return sock


def _add_arp(sock: socket.socket | None, ip: str, mac: bytes, iface: str) -> bool:
    """Teach the kernel the client's MAC so a unicast reply reaches a client without an address yet."""
    if sock is None or not iface or len(mac) != 6:
        return False
    req = struct.pack(
        "=HH4s8sH14si16s16s",
        socket.AF_INET,
        0,
        socket.inet_aton(ip),
        b"",
        1,  # ARPHRD_ETHER
        mac,
        _ATF_COM,
        b"",
        iface.encode()[:15],
    )
    try:
        fcntl.ioctl(sock.fileno(), _SIOCSARP, req)
    except OSError:
        return False
    return True
