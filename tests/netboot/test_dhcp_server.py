"""DHCP server packet handling without sockets: destinations (RFC 2131 4.1), events, fuzzing."""

from __future__ import annotations

import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import CodecError, MessageType
from pychami.netboot.dhcp.policy import Policy
from pychami.netboot.dhcp.server import BROADCAST, RECEIVE_BUFFER, DhcpServer, open_socket
from pychami.netboot.events import ListEvents
from tests.netboot.conftest import (
    BOOT_URL,
    IPXE_USER_CLASS,
    KNOWN_IP,
    KNOWN_MAC,
    SERVER,
    ip,
    node,
    request,
    snapshot,
)
from tests.netboot.conftest import settings as nb_settings
from tests.netboot.test_codec import CAPTURED

INVENTORY = snapshot(node(1, KNOWN_MAC, KNOWN_IP, "10.77.0.21"))


def server() -> tuple[DhcpServer, ListEvents]:
    events = ListEvents()
    srv = DhcpServer(Policy(nb_settings(), boot_url=BOOT_URL), lambda: INVENTORY, events, interfaces=["vsrv"])
    return srv, events


def test_unicast_to_new_client_needs_arp() -> None:
    """No broadcast flag and no address yet: unicast to yiaddr, with the client's MAC for the ARP entry."""
    srv, events = server()
    reply = srv.process(codec.encode(request(MessageType.DISCOVER)))
    assert reply is not None
    assert (reply.host, reply.port) == (KNOWN_IP, 68)
    assert reply.arp_mac == bytes.fromhex(KNOWN_MAC.replace(":", ""))
    assert events.stages() == ["dhcp_discover", "dhcp_offer"]
    assert events.items[1]["xname"] == "x3000c0s1b0n0"
    assert events.items[1]["detail"]["client"] == "os"


def test_broadcast_flag_and_nak_are_broadcast() -> None:
    """The broadcast flag, and every NAK, go to 255.255.255.255:68."""
    srv, _ = server()
    reply = srv.process(codec.encode(request(MessageType.DISCOVER, flags=codec.FLAG_BROADCAST)))
    assert reply is not None
    assert reply.host == BROADCAST
    nak = srv.process(codec.encode(request(MessageType.REQUEST, options=[(50, ip("198.18.0.99"))])))
    assert nak is not None
    assert nak.host == BROADCAST
    assert codec.decode(nak.data).message_type is MessageType.NAK


def test_renewal_is_unicast_to_ciaddr() -> None:
    """A RENEW (ciaddr set) is answered by unicast to ciaddr."""
    srv, events = server()
    reply = srv.process(codec.encode(request(MessageType.REQUEST, ciaddr=KNOWN_IP)))
    assert reply is not None
    assert (reply.host, reply.port, reply.arp_mac) == (KNOWN_IP, 68, None)
    assert events.stages() == ["dhcp_request", "dhcp_ack"]


def test_relayed_reply_goes_to_relay_port() -> None:
    """A relayed request is answered to giaddr on port 67; a relayed NAK has the broadcast bit."""
    srv, _ = server()
    reply = srv.process(codec.encode(request(MessageType.DISCOVER, giaddr="10.77.0.1")))
    assert reply is not None
    assert (reply.host, reply.port) == ("10.77.0.1", 67)
    nak = srv.process(
        codec.encode(request(MessageType.REQUEST, giaddr="10.77.0.1", options=[(50, ip("10.77.0.5"))]))
    )
    assert nak is not None
    assert codec.decode(nak.data).broadcast


def test_ipxe_events_name_the_client() -> None:
    """Boot events tell firmware from iPXE and carry the boot file handed out."""
    srv, events = server()
    srv.process(codec.encode(request(MessageType.DISCOVER, options=[IPXE_USER_CLASS])))
    offer = events.items[-1]
    assert offer["stage"] == "dhcp_offer"
    assert offer["detail"]["client"] == "ipxe"
    assert offer["detail"]["file"].startswith(f"{BOOT_URL}/boot/v1/bootscript?mac=")


def test_reply_respects_max_message_size() -> None:
    """A reply never exceeds the client's option 57 (or 576-byte datagrams when absent)."""
    srv, _ = server()
    long_domain = nb_settings(domain="d" * 120)
    srv.policy = Policy(long_domain, boot_url=BOOT_URL + "/" + "p" * 150)
    reply = srv.process(codec.encode(request(MessageType.DISCOVER, options=[IPXE_USER_CLASS])))
    assert reply is not None
    assert len(reply.data) <= codec.DEFAULT_MAX_SIZE
    assert codec.decode(reply.data).get(codec.OPT_DOMAIN) == b"d" * 120


def test_server_id_not_ours_is_silent() -> None:
    """A REQUEST selecting another server gets no reply and counts as dropped."""
    srv, _ = server()
    req = request(MessageType.REQUEST, options=[(50, ip(KNOWN_IP)), (54, ip("198.18.0.200"))])
    assert srv.process(codec.encode(req)) is None
    assert srv.stats["dropped"] == 1
    assert srv.policy.server_ip == SERVER


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=800))
def test_fuzz_random_datagrams(data: bytes) -> None:
    """Random datagrams never raise and never produce a reply unless they decode as a request."""
    srv, _ = server()
    reply = srv.process(data)
    if reply is not None:
        assert codec.decode(data).op == codec.BOOTREQUEST


@settings(max_examples=500, deadline=None)
@given(st.data())
def test_fuzz_mutated_real_requests(data: st.DataObject) -> None:
    """Truncated, corrupted or option-overflowing real requests: no crash, and no reply when malformed."""
    requests = [d for _, w, d in CAPTURED if w == ">"]
    raw = bytearray(data.draw(st.sampled_from(requests)))
    raw[28:34] = bytes.fromhex(KNOWN_MAC.replace(":", ""))
    for _ in range(data.draw(st.integers(0, 6))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        raw += bytes((data.draw(st.integers(1, 254)), 255)) + bytes(data.draw(st.integers(0, 40)))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    srv, _ = server()
    reply = srv.process(bytes(raw))
    try:
        codec.decode(bytes(raw))
    except CodecError:
        assert reply is None
        return
    if reply is not None:
        assert codec.decode(reply.data).op == codec.BOOTREPLY


def test_retransmission_queued_behind_an_answered_copy_is_not_answered_twice() -> None:
    """The same client, xid and message type within the duplicate window gets one answer; after the
    window (the answer was lost) it is answered again; another xid or type is never held back."""
    now = [100.0]
    events = ListEvents()
    srv = DhcpServer(
        Policy(nb_settings(), boot_url=BOOT_URL),
        lambda: INVENTORY,
        events,
        interfaces=["vsrv"],
        clock=lambda: now[0],
    )
    discover = codec.encode(request(MessageType.DISCOVER))
    assert srv.process(discover) is not None
    now[0] += 0.1
    assert srv.process(discover) is None
    assert srv.stats["duplicates"] == 1
    assert events.stages() == ["dhcp_discover", "dhcp_offer"]  # the copy is no boot event either
    other = request(MessageType.DISCOVER)
    other.xid += 1
    assert srv.process(codec.encode(other)) is not None
    now[0] += srv.duplicate_window
    assert srv.process(discover) is not None
    assert srv.stats["duplicates"] == 1


def test_socket_holds_a_storm_burst() -> None:
    """The DHCP socket's receive buffer is the storm size, past net.core.rmem_max (root, as on port 67)."""
    sock = open_socket("", "127.0.0.1", 0)
    try:
        # Linux reports twice the size asked for (bookkeeping overhead).
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) >= RECEIVE_BUFFER
    finally:
        sock.close()
