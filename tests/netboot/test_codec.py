"""DHCPv4 codec: captured real-client exchanges, option overload, encapsulated options, fuzzing."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import CodecError, DhcpPacket, MessageType

FIXTURES = Path(__file__).parent / "fixtures"


def exchanges() -> list[tuple[str, str, bytes]]:
    out = []
    for path in sorted(FIXTURES.glob("*.hex")):
        for line in path.read_text().splitlines():
            direction, _, hexdata = line.partition(" ")
            out.append((path.stem, direction, bytes.fromhex(hexdata)))
    return out


CAPTURED = exchanges()


def test_fixtures_cover_every_client() -> None:
    """Captures of dhclient, udhcpc and dhcpcd (and iPXE when recorded) are present, both directions."""
    clients = {name for name, _, _ in CAPTURED}
    assert {"dhclient", "udhcpc", "dhcpcd"} <= clients
    for name in clients:
        kinds = [codec.decode(d).message_type for n, _, d in CAPTURED if n == name]
        assert MessageType.DISCOVER in kinds
        assert MessageType.REQUEST in kinds
        assert MessageType.OFFER in kinds
        assert MessageType.ACK in kinds


@pytest.mark.parametrize(
    ("client", "direction", "raw"), CAPTURED, ids=lambda v: v if isinstance(v, str) else ""
)
def test_captured_round_trip(client: str, direction: str, raw: bytes) -> None:
    """Each captured datagram decodes and encodes back to the identical bytes."""
    packet = codec.decode(raw)
    assert packet.op == (codec.BOOTREQUEST if direction == ">" else codec.BOOTREPLY)
    assert packet.mac == "52:54:00:ca:fe:01"
    assert codec.encode(packet) == raw


def test_dhclient_discover_fields() -> None:
    """dhclient's DISCOVER carries its hostname option and parameter request list as sent on the wire."""
    raw = next(d for n, w, d in CAPTURED if n == "dhclient" and w == ">")
    packet = codec.decode(raw)
    assert packet.message_type is MessageType.DISCOVER
    params = packet.get(codec.OPT_PARAM_REQUEST)
    assert params is not None
    assert codec.OPT_SUBNET_MASK in params
    assert codec.OPT_ROUTER in params
    assert codec.OPT_HOSTNAME in params


def test_udhcpc_pxe_options() -> None:
    """udhcpc sent the PXE vendor class and the option-93 architecture it was told to send."""
    raw = next(d for n, w, d in CAPTURED if n == "udhcpc" and w == ">")
    packet = codec.decode(raw)
    assert packet.get(codec.OPT_VENDOR_CLASS) == b"PXEClient:Arch:00000:UNDI:002001"
    assert codec.client_arches(packet.get(codec.OPT_CLIENT_ARCH) or b"") == [0]


def test_server_ack_options_decode() -> None:
    """The ACK captured from our server to dhclient holds address, mask, router, DNS, hostname, lease."""
    raw = [d for n, w, d in CAPTURED if n == "dhclient" and w == "<"][-1]
    ack = codec.decode(raw)
    assert ack.message_type is MessageType.ACK
    assert ack.yiaddr == "198.18.0.50"
    assert codec.ip_list(ack.get(codec.OPT_SUBNET_MASK) or b"") == ["255.255.0.0"]
    assert codec.ip_list(ack.get(codec.OPT_ROUTER) or b"") == ["198.18.0.1"]
    assert ack.get(codec.OPT_HOSTNAME) == b"nid001"
    assert codec.u32(ack.get(codec.OPT_LEASE_TIME) or b"") == 3600


def _packet(options: list[tuple[int, bytes]]) -> DhcpPacket:
    return DhcpPacket(xid=0x1234, chaddr=bytes.fromhex("525400000001") + bytes(10), options=options)


def test_long_option_split_and_joined() -> None:
    """An option over 255 bytes is split into instances (RFC 3396) and joined again on decode."""
    value = bytes(range(256)) * 2
    raw = codec.encode(_packet([(codec.OPT_MESSAGE_TYPE, b"\x01"), (224, value)]))
    assert raw.count(bytes((224, 255))) == 2
    assert codec.decode(raw).get(224) == value


def test_overload_spills_into_file_and_sname() -> None:
    """Options that do not fit the size limit go to file then sname with option 52 = 3, and come back."""
    options = [(codec.OPT_MESSAGE_TYPE, b"\x02")] + [(200 + i, bytes([i]) * 60) for i in range(7)]
    raw = codec.encode(_packet(options), max_size=codec.DEFAULT_MAX_SIZE)
    assert len(raw) <= codec.DEFAULT_MAX_SIZE
    assert bytes((codec.OPT_OVERLOAD, 1, 3)) in raw
    back = codec.decode(raw)
    assert dict(back.options) == dict(options)
    assert back.file == b""
    assert back.sname == b""


def test_overload_file_only() -> None:
    """Option 52 = 1 reads options from the file field only; sname stays a server name."""
    p = _packet([(codec.OPT_MESSAGE_TYPE, b"\x05")])
    raw = bytearray(codec.encode(p))
    raw[108 : 108 + 5] = bytes((12, 3)) + b"abc"  # hostname option inside file
    raw[108 + 5] = 255
    raw[44:48] = b"srv\x00"
    end = raw.index(255, 243)
    raw[end : end + 4] = bytes((52, 1, 1, 255))
    back = codec.decode(bytes(raw))
    assert back.get(12) == b"abc"
    assert back.sname == b"srv"


def test_relay_agent_and_encapsulated() -> None:
    """Option 82 sub-options and 43/175 encapsulated options decode to (code, value) lists."""
    agent = codec.encode_suboptions([(1, b"eth0/1"), (2, b"sw-1")])
    assert codec.decode_relay_agent(agent) == [(1, b"eth0/1"), (2, b"sw-1")]
    assert codec.decode_suboptions(bytes((176, 1, 1, 255)), where="175") == [(176, b"\x01")]
    with pytest.raises(CodecError):
        codec.decode_relay_agent(bytes((1, 5, 1)))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b[:239], "shorter"),
        (lambda b: b[:236] + b"XXXX" + b[240:], "cookie"),
        (lambda b: b"\x03" + b[1:], "op 3"),
        (lambda b: b[:2] + b"\x11" + b[3:], "hlen"),
        (lambda b: b[:240] + bytes((53, 10, 1)), "runs past"),
        (lambda b: b[:240] + bytes((53,)), "truncated"),
        (lambda b: b[:240] + bytes((52, 1, 9, 255)), "overload"),
        (lambda b: b[:240] + bytes((52, 1, 1, 255)), "no END"),
    ],
)
def test_malformed_rejected(mutate: object, message: str) -> None:
    """Each kind of malformed input raises CodecError naming the problem."""
    base = codec.encode(_packet([(codec.OPT_MESSAGE_TYPE, b"\x01")]))
    assert callable(mutate)
    with pytest.raises(CodecError, match=message):
        codec.decode(mutate(base))


def test_value_helpers_strict() -> None:
    """Typed option readers refuse wrong lengths instead of guessing."""
    with pytest.raises(CodecError):
        codec.u32(b"\x00\x01")
    with pytest.raises(CodecError):
        codec.ip_list(b"\x01\x02\x03")
    with pytest.raises(CodecError):
        codec.client_arches(b"\x00")
    assert codec.user_classes(b"iPXE") == [b"iPXE"]
    assert codec.user_classes(b"\x04iPXE\x03foo") == [b"iPXE", b"foo"]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=700))
def test_fuzz_random_bytes(data: bytes) -> None:
    """Arbitrary bytes either decode or raise CodecError; nothing else escapes."""
    with contextlib.suppress(CodecError):
        codec.decode(data)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_fuzz_mutated_captures(data: st.DataObject) -> None:
    """Truncated and bit-flipped real packets never crash the decoder, and good ones re-encode."""
    raw = bytearray(data.draw(st.sampled_from([d for _, _, d in CAPTURED])))
    for _ in range(data.draw(st.integers(0, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    try:
        packet = codec.decode(bytes(raw))
    except CodecError:
        return
    assert codec.decode(codec.encode(packet)).options == packet.options


options_strategy = st.lists(
    st.tuples(st.integers(1, 254).filter(lambda c: c != codec.OPT_OVERLOAD), st.binary(max_size=300)),
    max_size=6,
    unique_by=lambda o: o[0],
)


@settings(max_examples=300, deadline=None)
@given(options_strategy, st.integers(0, 2**32 - 1), st.binary(min_size=16, max_size=16))
def test_encode_decode_property(options: list[tuple[int, bytes]], xid: int, chaddr: bytes) -> None:
    """decode(encode(p)) gives p back for any options that fit, spilling via overload when needed."""
    packet = DhcpPacket(xid=xid, chaddr=chaddr, options=options)
    try:
        raw = codec.encode(packet, max_size=codec.DEFAULT_MAX_SIZE)
    except CodecError:
        assert (
            sum(len(v) + 2 for _, v in options)
            > codec.DEFAULT_MAX_SIZE - codec.HEADER_LEN - 4 + 127 + 63 - 20
        )
        return
    assert len(raw) <= codec.DEFAULT_MAX_SIZE
    back = codec.decode(raw)
    assert dict(back.options) == dict(options)
    assert back.xid == xid
    assert back.chaddr == chaddr


def test_ipxe_discover_and_reply() -> None:
    """QEMU's iPXE ROM announces itself (user class iPXE, option 175, arch 0) and our reply carries
    the BSS boot-script URL and 175.176=1."""
    packets = [(w, codec.decode(d)) for n, w, d in CAPTURED if n == "ipxe"]
    discover = next(p for w, p in packets if w == ">")
    assert discover.get(codec.OPT_USER_CLASS) == b"iPXE"
    assert discover.get(codec.OPT_IPXE) is not None
    assert codec.client_arches(discover.get(codec.OPT_CLIENT_ARCH) or b"") == [0]
    assert (discover.get(codec.OPT_VENDOR_CLASS) or b"").startswith(b"PXEClient:Arch:00000")
    offer = next(p for w, p in packets if w == "<")
    url = b"http://198.18.0.1:8081/boot/v1/bootscript?mac=52:54:00:ca:fe:01"
    assert offer.get(codec.OPT_BOOTFILE) == url
    assert codec.decode_suboptions(offer.get(codec.OPT_IPXE) or b"", where="175") == [(176, b"\x01")]
