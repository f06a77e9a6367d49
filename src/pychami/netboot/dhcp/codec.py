"""DHCPv4 wire format (RFC 2131/2132): a pure, strict codec.

``decode`` turns bytes into a :class:`DhcpPacket` or raises :class:`CodecError`; it never raises anything
else, whatever the input. Options keep their order; repeated instances of one option are joined (RFC 3396)
and option 52 (overload) pulls extra options out of the ``file``/``sname`` fields. ``encode`` is the
inverse: long options are split, and options that do not fit in ``max_size`` spill into ``file`` and
``sname`` with option 52 set.
"""

from __future__ import annotations

import functools
import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum

MAGIC_COOKIE = b"\x63\x82\x53\x63"
#: Fixed BOOTP header (236 bytes) plus the magic cookie.
HEADER_LEN = 240
#: RFC 1542: BOOTP relays and old clients expect at least this much; we pad replies to it.
MIN_PACKET = 300
#: RFC 2131: every client accepts 576-byte IP datagrams, i.e. 548 bytes of DHCP message.
DEFAULT_MAX_SIZE = 548
_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")

OPT_PAD = 0
OPT_END = 255
OPT_SUBNET_MASK = 1
OPT_ROUTER = 3
OPT_DNS = 6
OPT_HOSTNAME = 12
OPT_DOMAIN = 15
OPT_ROOT_PATH = 17
OPT_BROADCAST = 28
OPT_VENDOR_SPECIFIC = 43
OPT_REQUESTED_IP = 50
OPT_LEASE_TIME = 51
OPT_OVERLOAD = 52
OPT_MESSAGE_TYPE = 53
OPT_SERVER_ID = 54
OPT_PARAM_REQUEST = 55
OPT_MESSAGE = 56
OPT_MAX_SIZE = 57
OPT_RENEWAL = 58
OPT_REBINDING = 59
OPT_VENDOR_CLASS = 60
OPT_CLIENT_ID = 61
OPT_TFTP_SERVER = 66
OPT_BOOTFILE = 67
OPT_USER_CLASS = 77
OPT_CLIENT_ARCH = 93
OPT_CLIENT_NDI = 94
OPT_UUID = 97
OPT_RELAY_AGENT = 82
OPT_IPXE = 175

#: The all-zero address of BOOTP fields that are not set (not a bind address).
UNSPECIFIED = "0.0.0.0"  # noqa: S104

BOOTREQUEST = 1
BOOTREPLY = 2
FLAG_BROADCAST = 0x8000


class MessageType(IntEnum):
    DISCOVER = 1
    OFFER = 2
    REQUEST = 3
    DECLINE = 4
    ACK = 5
    NAK = 6
    RELEASE = 7
    INFORM = 8


_MESSAGE_TYPES = {bytes((t,)): t for t in MessageType}


class CodecError(ValueError):
    """The bytes are not a well-formed DHCPv4 message (or an option value is malformed)."""


@dataclass
class DhcpPacket:
    """One BOOTP/DHCP message. Addresses are dotted strings; ``chaddr`` holds ``hlen`` meaningful bytes."""

    op: int = BOOTREQUEST
    htype: int = 1
    hlen: int = 6
    hops: int = 0
    xid: int = 0
    secs: int = 0
    flags: int = 0
    ciaddr: str = UNSPECIFIED
    yiaddr: str = UNSPECIFIED
    siaddr: str = UNSPECIFIED
    giaddr: str = UNSPECIFIED
    chaddr: bytes = b"\x00" * 16
    sname: bytes = b""
    file: bytes = b""
    #: Options in wire order (code, value); at most one entry per code after decoding.
    options: list[tuple[int, bytes]] = field(default_factory=list)

    # option access -------------------------------------------------------------------------------

    def get(self, code: int) -> bytes | None:
        for c, v in self.options:
            if c == code:
                return v
        return None

    def set(self, code: int, value: bytes) -> None:
        """Replace (or append) option ``code``."""
        for i, (c, _) in enumerate(self.options):
            if c == code:
                self.options[i] = (code, value)
                return
        self.options.append((code, value))

    def remove(self, code: int) -> None:
        self.options = [(c, v) for c, v in self.options if c != code]

    @property
    def message_type(self) -> MessageType | None:
        for code, value in self.options:
            if code == OPT_MESSAGE_TYPE:
                return _MESSAGE_TYPES.get(value) if len(value) == 1 else None
        return None

    @property
    def mac(self) -> str:
        """The hardware address as ``aa:bb:cc:dd:ee:ff`` (lower case)."""
        return self.chaddr[: self.hlen].hex(":")

    @property
    def broadcast(self) -> bool:
        return bool(self.flags & FLAG_BROADCAST)

    def copy(self) -> DhcpPacket:
        return replace(self, options=list(self.options))


# ---------------------------------------------------------------------------------------------------
# decoding


_ip = socket.inet_ntoa


@functools.lru_cache(maxsize=65536)
def _ip_bytes(text: str) -> bytes:
    parts = text.split(".")
    if len(parts) != 4:
        raise CodecError(f"not an IPv4 address: {text!r}")
    try:
        values = [int(p) for p in parts]
    except ValueError as exc:
        raise CodecError(f"not an IPv4 address: {text!r}") from exc
    if any(not 0 <= v <= 255 for v in values) or any(not p.isdigit() for p in parts):
        raise CodecError(f"not an IPv4 address: {text!r}")
    return bytes(values)


def parse_options(data: bytes, *, where: str = "options", need_end: bool = False) -> list[tuple[int, bytes]]:
    """Split a TLV option area into ``(code, value)`` pairs, in order; PAD skipped, stops at END."""
    out: list[tuple[int, bytes]] = []
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == OPT_PAD:
            i += 1
            continue
        if code == OPT_END:
            return out
        if i + 1 >= n:
            raise CodecError(f"{where}: option {code} truncated before its length")
        length = data[i + 1]
        end = i + 2 + length
        if end > n:
            raise CodecError(f"{where}: option {code} length {length} runs past the end")
        out.append((code, data[i + 2 : end]))
        i = end
    if need_end:
        raise CodecError(f"{where}: no END option")
    return out


def _merge(pairs: Iterable[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
    """Join repeated instances of one option (RFC 3396 long options), keeping first-seen order."""
    pairs = list(pairs)
    if len({code for code, _ in pairs}) == len(pairs):
        return pairs
    order: list[int] = []
    values: dict[int, bytearray] = {}
    for code, value in pairs:
        if code in values:
            values[code] += value
        else:
            order.append(code)
            values[code] = bytearray(value)
    return [(code, bytes(values[code])) for code in order]


def decode(data: bytes) -> DhcpPacket:
    """Parse one DHCPv4 message; raise :class:`CodecError` on anything malformed."""
    if len(data) < HEADER_LEN:
        raise CodecError(f"message of {len(data)} bytes is shorter than the {HEADER_LEN}-byte header")
    (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file_) = (
        _HEADER.unpack_from(data, 0)
    )
    if op not in (BOOTREQUEST, BOOTREPLY):
        raise CodecError(f"op {op} is neither BOOTREQUEST nor BOOTREPLY")
    if hlen > 16:
        raise CodecError(f"hlen {hlen} exceeds the 16-byte chaddr field")
    if data[236:240] != MAGIC_COOKIE:
        raise CodecError("missing DHCP magic cookie")
    pairs = parse_options(data[HEADER_LEN:])
    overload = 0
    for code, value in pairs:
        if code == OPT_OVERLOAD:
            if len(value) != 1 or value[0] not in (1, 2, 3):
                raise CodecError(f"option 52 (overload) has invalid value {value.hex()}")
            overload = value[0]
    sname_out, file_out = sname.rstrip(b"\x00"), file_.rstrip(b"\x00")
    if overload & 1:  # RFC 2131 4.1: file is read before sname
        pairs += parse_options(file_, where="file field", need_end=True)
        file_out = b""
    if overload & 2:
        pairs += parse_options(sname, where="sname field", need_end=True)
        sname_out = b""
    merged = [(c, v) for c, v in _merge(pairs) if c != OPT_OVERLOAD]
    return DhcpPacket(
        op=op,
        htype=htype,
        hlen=hlen,
        hops=hops,
        xid=xid,
        secs=secs,
        flags=flags,
        ciaddr=_ip(ciaddr),
        yiaddr=_ip(yiaddr),
        siaddr=_ip(siaddr),
        giaddr=_ip(giaddr),
        chaddr=chaddr,
        sname=sname_out,
        file=file_out,
        options=merged,
    )


# ---------------------------------------------------------------------------------------------------
# encoding


def _tlv(code: int, value: bytes) -> bytes:
    if not 0 < code < 255:
        raise CodecError(f"option code {code} is out of range 1-254")
    if len(value) <= 255:
        return bytes((code, len(value))) + value
    return b"".join(bytes((code, len(chunk))) + chunk for chunk in _chunks(value))


def _chunks(value: bytes) -> list[bytes]:
    return [value[i : i + 255] for i in range(0, len(value), 255)]


def _field(value: bytes, size: int, name: str) -> bytes:
    if len(value) > size:
        raise CodecError(f"{name} of {len(value)} bytes does not fit in {size}")
    return value.ljust(size, b"\x00")


def encode(packet: DhcpPacket, *, max_size: int = 1500) -> bytes:
    """Serialise a packet; options that overflow ``max_size`` go to ``file``/``sname`` (option 52).

    Whole options are placed first-fit (options field, then file, then sname); only an option that fits
    nowhere whole is split across the areas (RFC 3396), which the decoder joins back in that order.
    """
    if packet.hlen > 16:
        raise CodecError(f"hlen {packet.hlen} exceeds 16")
    options = [(c, v) for c, v in packet.options if c != OPT_OVERLOAD]
    room = max(max_size, MIN_PACKET) - HEADER_LEN - 1  # END byte
    whole = [_tlv(code, value) for code, value in options]
    sname, file_ = packet.sname, packet.file
    if sum(len(item) for item in whole) <= room:
        main = b"".join(whole)
    else:
        areas = [bytearray(), bytearray(), bytearray()]
        caps = [room - 3, 0 if packet.file else 127, 0 if packet.sname else 63]
        for (code, value), item in zip(options, whole, strict=True):
            spot = next((i for i in range(3) if len(areas[i]) + len(item) <= caps[i]), None)
            if spot is not None:
                areas[spot] += item
                continue
            rest = value
            for i in range(3):
                free = caps[i] - len(areas[i])
                if free < 3:
                    continue
                n = min(free - 2, 255, len(rest))
                areas[i] += bytes((code, n)) + rest[:n]
                rest = rest[n:]
                if not rest:
                    break
            if rest:
                raise CodecError("options do not fit even with option 52 overload")
        overload = (1 if areas[1] else 0) | (2 if areas[2] else 0)
        main = bytes(areas[0]) + bytes((OPT_OVERLOAD, 1, overload))
        if areas[1]:
            file_ = bytes(areas[1]) + bytes((OPT_END,))
        if areas[2]:
            sname = bytes(areas[2]) + bytes((OPT_END,))
    header = _HEADER.pack(
        packet.op,
        packet.htype,
        packet.hlen,
        packet.hops,
        packet.xid & 0xFFFFFFFF,
        packet.secs & 0xFFFF,
        packet.flags & 0xFFFF,
        _ip_bytes(packet.ciaddr),
        _ip_bytes(packet.yiaddr),
        _ip_bytes(packet.siaddr),
        _ip_bytes(packet.giaddr),
        _field(packet.chaddr, 16, "chaddr"),
        _field(sname, 64, "sname"),
        _field(file_, 128, "file"),
    )
    out = header + MAGIC_COOKIE + main + bytes((OPT_END,))
    return out.ljust(MIN_PACKET, b"\x00")


# ---------------------------------------------------------------------------------------------------
# option values


def decode_suboptions(data: bytes, *, where: str) -> list[tuple[int, bytes]]:
    """Encapsulated options (43, 82, 175): TLVs; PAD/END honoured for 43/175 as RFC 2132 allows."""
    return parse_options(data, where=where)


def encode_suboptions(items: Iterable[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for code, value in items:
        if not 0 < code < 255 or len(value) > 255:
            raise CodecError(f"sub-option {code} with {len(value)} bytes cannot be encoded")
        out += bytes((code, len(value))) + value
    return bytes(out)


def decode_relay_agent(data: bytes) -> list[tuple[int, bytes]]:
    """Option 82 (RFC 3046): sub-options with no PAD/END, each at least one byte is not required."""
    out: list[tuple[int, bytes]] = []
    i, n = 0, len(data)
    while i < n:
        if i + 1 >= n:
            raise CodecError("option 82: sub-option truncated before its length")
        code, length = data[i], data[i + 1]
        if i + 2 + length > n:
            raise CodecError(f"option 82: sub-option {code} runs past the end")
        out.append((code, data[i + 2 : i + 2 + length]))
        i += 2 + length
    return out


def ip_value(addresses: Sequence[str]) -> bytes:
    return b"".join(_ip_bytes(a) for a in addresses)


def ip_list(value: bytes) -> list[str]:
    if len(value) % 4 or not value:
        raise CodecError(f"address list of {len(value)} bytes is not a multiple of 4")
    return [_ip(value[i : i + 4]) for i in range(0, len(value), 4)]


def u32_value(number: int) -> bytes:
    return struct.pack("!I", number & 0xFFFFFFFF)


def u32(value: bytes) -> int:
    if len(value) != 4:
        raise CodecError(f"32-bit option of {len(value)} bytes")
    return int(struct.unpack("!I", value)[0])


def client_arches(value: bytes) -> list[int]:
    """Option 93 (RFC 4578): a list of 16-bit architecture types."""
    if len(value) % 2 or not value:
        raise CodecError(f"option 93 of {len(value)} bytes is not a list of 16-bit types")
    return [int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value), 2)]


def user_classes(value: bytes) -> list[bytes]:
    """Option 77: RFC 3004 length-prefixed list; iPXE and many clients send one bare string instead."""
    items: list[bytes] = []
    i = 0
    while i < len(value):
        length = value[i]
        if length == 0 or i + 1 + length > len(value):
            return [value]  # not RFC 3004 framed: a plain string (iPXE sends b"iPXE")
        items.append(value[i + 1 : i + 1 + length])
        i += 1 + length
    return items
