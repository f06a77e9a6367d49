"""TFTP packets (RFC 1350) with option negotiation (RFC 2347), blksize (2348), timeout/tsize (2349)
and windowsize (7440). Pure: bytes in, dataclasses out, :class:`TftpCodecError` on anything malformed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

RRQ = 1
WRQ = 2
DATA = 3
ACK = 4
ERROR = 5
OACK = 6

MIN_BLKSIZE = 8
MAX_BLKSIZE = 65464
DEFAULT_BLKSIZE = 512
MAX_WINDOWSIZE = 65535


class ErrorCode(IntEnum):
    NOT_DEFINED = 0
    FILE_NOT_FOUND = 1
    ACCESS_VIOLATION = 2
    DISK_FULL = 3
    ILLEGAL_OPERATION = 4
    UNKNOWN_TID = 5
    FILE_EXISTS = 6
    NO_SUCH_USER = 7
    OPTION_REFUSED = 8


class TftpCodecError(ValueError):
    """Malformed TFTP packet."""


@dataclass(frozen=True)
class Request:
    """RRQ or WRQ; option names are lower-cased, values kept as text."""

    opcode: int
    filename: str
    mode: str
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Data:
    block: int
    payload: bytes


@dataclass(frozen=True)
class Ack:
    block: int


@dataclass(frozen=True)
class Error:
    code: int
    message: str


@dataclass(frozen=True)
class OptionAck:
    options: dict[str, str]


Packet = Request | Data | Ack | Error | OptionAck


def _strings(body: bytes) -> list[str]:
    if not body.endswith(b"\x00"):
        raise TftpCodecError("string fields are not NUL-terminated")
    try:
        return body[:-1].decode("ascii").split("\x00")
    except UnicodeDecodeError as exc:
        raise TftpCodecError("non-ASCII bytes in a string field") from exc


def _options(items: list[str]) -> dict[str, str]:
    if len(items) % 2:
        raise TftpCodecError("option without a value")
    out: dict[str, str] = {}
    for name, value in zip(items[::2], items[1::2], strict=True):
        if not name:
            raise TftpCodecError("empty option name")
        out.setdefault(name.lower(), value)  # RFC 2347: the first instance wins
    return out


def decode(data: bytes) -> Packet:
    """Parse one datagram."""
    if len(data) < 2:
        raise TftpCodecError("datagram shorter than an opcode")
    opcode = int.from_bytes(data[:2], "big")
    body = data[2:]
    if opcode in (RRQ, WRQ):
        items = _strings(body)
        if len(items) < 2 or not items[0]:
            raise TftpCodecError("request without filename or mode")
        return Request(opcode, items[0], items[1].lower(), _options(items[2:]))
    if opcode == DATA:
        if len(body) < 2:
            raise TftpCodecError("DATA without block number")
        return Data(int.from_bytes(body[:2], "big"), body[2:])
    if opcode == ACK:
        if len(body) != 2:
            raise TftpCodecError("ACK must carry exactly a block number")
        return Ack(int.from_bytes(body, "big"))
    if opcode == ERROR:
        if len(body) < 3:
            raise TftpCodecError("ERROR too short")
        code = int.from_bytes(body[:2], "big")
        if not body.endswith(b"\x00"):
            raise TftpCodecError("ERROR message not NUL-terminated")
        return Error(code, body[2:-1].decode("ascii", errors="replace"))
    if opcode == OACK:
        if not body:
            return OptionAck({})
        return OptionAck(_options(_strings(body)))
    raise TftpCodecError(f"unknown opcode {opcode}")


def _ascii(text: str) -> bytes:
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise TftpCodecError(f"not ASCII: {text!r}") from exc
    if b"\x00" in raw:
        raise TftpCodecError("NUL inside a string field")
    return raw + b"\x00"


def encode(packet: Packet) -> bytes:
    if isinstance(packet, Request):
        body = _ascii(packet.filename) + _ascii(packet.mode)
        for name, value in packet.options.items():
            body += _ascii(name) + _ascii(value)
        return struct.pack("!H", packet.opcode) + body
    if isinstance(packet, Data):
        return struct.pack("!HH", DATA, packet.block & 0xFFFF) + packet.payload
    if isinstance(packet, Ack):
        return struct.pack("!HH", ACK, packet.block & 0xFFFF)
    if isinstance(packet, Error):
        return struct.pack("!HH", ERROR, packet.code) + _ascii(packet.message)
    body = b"".join(_ascii(k) + _ascii(v) for k, v in packet.options.items())
    return struct.pack("!H", OACK) + body


def data_header(block: int) -> bytes:
    """The 4 bytes before a DATA payload (hot path: avoids building a dataclass per block)."""
    return struct.pack("!HH", DATA, block & 0xFFFF)


@dataclass(frozen=True)
class Negotiated:
    """Transfer parameters after option negotiation; ``acked`` is what goes into the OACK."""

    blksize: int = DEFAULT_BLKSIZE
    timeout: float = 1.0
    windowsize: int = 1
    acked: dict[str, str] = field(default_factory=dict)


def negotiate(
    options: dict[str, str], size: int, *, max_blksize: int = MAX_BLKSIZE, max_window: int = 64
) -> Negotiated:
    """Accept the options we support with values clamped to our limits; ignore the rest (RFC 2347)."""
    acked: dict[str, str] = {}
    blksize, timeout, window = DEFAULT_BLKSIZE, 1.0, 1
    raw = options.get("blksize")
    if raw is not None and raw.isdigit() and int(raw) >= MIN_BLKSIZE:
        blksize = min(int(raw), max_blksize, MAX_BLKSIZE)
        acked["blksize"] = str(blksize)
    raw = options.get("timeout")
    if raw is not None and raw.isdigit() and 1 <= int(raw) <= 255:
        timeout = float(int(raw))
        acked["timeout"] = raw
    raw = options.get("tsize")
    if raw is not None and raw.isdigit():
        acked["tsize"] = str(size)
    raw = options.get("windowsize")
    if raw is not None and raw.isdigit() and 1 <= int(raw) <= MAX_WINDOWSIZE:
        window = min(int(raw), max_window)
        acked["windowsize"] = str(window)
    return Negotiated(blksize, timeout, window, acked)
