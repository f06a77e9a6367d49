"""A minimal TFTP read client for tests that need what the real clients cannot do on demand:
windowsize with simulated loss, aborting after the OACK like UEFI firmware, raw traversal names."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from pychami.netboot.tftp import protocol as tp


class TftpFailed(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"error {code}: {message}")
        self.code = code


@dataclass
class Result:
    data: bytes
    oack: dict[str, str] = field(default_factory=dict)
    retransmits_seen: int = 0


def fetch(
    port: int,
    name: str,
    options: dict[str, str] | None = None,
    *,
    host: str = "127.0.0.1",
    drop: frozenset[int] = frozenset(),
    abort_after_oack: bool = False,
    timeout: float = 5.0,
) -> Result:
    """Download ``name``; blocks in ``drop`` are ignored the first time they arrive (simulated loss)."""
    opts = dict(options or {})
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    try:
        sock.sendto(tp.encode(tp.Request(tp.RRQ, name, "octet", opts)), (host, port))
        blksize, window = 512, 1
        out = bytearray()
        expected, in_window = 1, 0
        result = Result(b"")
        dropped: set[int] = set()
        seen: set[int] = set()
        peer = None
        while True:
            raw, addr = sock.recvfrom(70000)
            if peer is None:
                peer = addr
            pkt = tp.decode(raw)
            if isinstance(pkt, tp.Error):
                raise TftpFailed(pkt.code, pkt.message)
            if isinstance(pkt, tp.OptionAck):
                result.oack = pkt.options
                if abort_after_oack:
                    sock.sendto(tp.encode(tp.Error(tp.ErrorCode.OPTION_REFUSED, "abort")), peer)
                    return result
                blksize = int(pkt.options.get("blksize", "512"))
                window = int(pkt.options.get("windowsize", "1"))
                sock.sendto(tp.encode(tp.Ack(0)), peer)
                continue
            assert isinstance(pkt, tp.Data)
            absolute = (
                expected + ((pkt.block - expected) & 0xFFFF) if pkt.block != expected & 0xFFFF else expected
            )
            if pkt.block != expected & 0xFFFF:
                if absolute - expected > 0x8000 or absolute in seen:
                    result.retransmits_seen += 1
                continue  # out of order: wait for the server to resend from the gap
            if expected in drop and expected not in dropped:
                dropped.add(expected)
                continue
            seen.add(expected)
            out += pkt.payload
            in_window += 1
            last = len(pkt.payload) < blksize
            if last or in_window == window:
                sock.sendto(tp.encode(tp.Ack(expected & 0xFFFF)), peer)
                in_window = 0
            expected += 1
            if last:
                result.data = bytes(out)
                return result
    finally:
        sock.close()
