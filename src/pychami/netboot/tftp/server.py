"""Read-only TFTP daemon (asyncio): RFC 1350 + options (blksize, tsize, timeout, windowsize).

Each transfer gets its own socket (its TID) and a small state machine: optional OACK, then windows of
DATA blocks, each window retransmitted on timeout up to ``retries`` times. Files come from one root
directory (paths that leave it are refused) plus the virtual ``config.ipxe`` and ``default`` scripts of
upstream's iPXE binaries.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from pychami.core.inventory import InventorySnapshot
from pychami.core.logs import get_logger
from pychami.netboot.events import EventSink
from pychami.netboot.tftp import protocol as tp
from pychami.netboot.tftp.protocol import ErrorCode, TftpCodecError

log = get_logger("pychami.netboot.tftp")

#: Upstream's iPXE binaries chain ``tftp://${root-path}/config.ipxe``, which chains the DHCP filename.
CONFIG_IPXE = b"#!ipxe\n\necho Booting from ${filename}\nchain ${filename}\n"
#: Served to unknown (bootloop) nodes: iPXE reboots and the node tries DHCP again later.
DEFAULT_SCRIPT = b"#!ipxe\nreboot\n"
VIRTUAL_FILES = {"config.ipxe": CONFIG_IPXE, "default": DEFAULT_SCRIPT}


class Refused(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Source:
    """Bytes of one file: an open descriptor (read with pread) or an in-memory buffer."""

    size: int
    fd: int | None = None
    buffer: bytes | None = None
    #: (path, mtime_ns) of a real file, the key of the server's content cache.
    key: tuple[str, int] | None = None

    def read(self, offset: int, length: int) -> bytes:
        if self.buffer is not None:
            return self.buffer[offset : offset + length]  # one copy per block, cheaper than pread
        assert self.fd is not None
        return os.pread(self.fd, length, offset)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def resolve(root: Path | None, filename: str, *, follow_symlinks: bool = True) -> Source:
    """Open ``filename`` under ``root`` (virtual files if absent); :class:`Refused` for anything else.

    Names with ``..`` are refused before touching the disk. Symlinks inside the root are the admin's
    doing and are followed (Debian's ``/usr/lib/ipxe/ipxe.efi`` points to ``/boot``) unless
    ``follow_symlinks`` is off; then a link whose target leaves the root is refused too.
    """
    name = filename.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts) or "\x00" in name:
        raise Refused(ErrorCode.ACCESS_VIOLATION, "path leaves the TFTP root")
    relative = "/".join(parts)
    if root is not None and parts:
        base = root.resolve()
        target = base / relative
        if not follow_symlinks:
            target = target.resolve()
            if target != base and base not in target.parents:
                raise Refused(ErrorCode.ACCESS_VIOLATION, "path leaves the TFTP root")
        if target.is_file():
            try:
                fd = os.open(target, os.O_RDONLY)
            except OSError as exc:
                raise Refused(ErrorCode.ACCESS_VIOLATION, "cannot read file") from exc
            st = os.fstat(fd)
            return Source(st.st_size, fd=fd, key=(str(target), st.st_mtime_ns))
    if relative in VIRTUAL_FILES:
        data = VIRTUAL_FILES[relative]
        return Source(len(data), buffer=data)
    raise Refused(ErrorCode.FILE_NOT_FOUND, "File not found")


def netascii(data: bytes) -> bytes:
    return data.replace(b"\r", b"\r\x00").replace(b"\n", b"\r\n")


class TftpServer:
    def __init__(
        self,
        root: Path | None,
        events: EventSink,
        *,
        host: str = "0.0.0.0",  # noqa: S104 - PXE clients reach the server on any local address
        port: int = 69,
        timeout: float = 1.0,
        retries: int = 5,
        max_blksize: int = tp.MAX_BLKSIZE,
        max_window: int = 64,
        inventory: Callable[[], InventorySnapshot] | None = None,
        follow_symlinks: bool = True,
    ) -> None:
        self.root = root
        self.follow_symlinks = follow_symlinks
        self.events = events
        self.host = host
        self.port = port
        self.timeout = timeout
        self.retries = retries
        self.max_blksize = max_blksize
        self.max_window = max_window
        self.inventory = inventory
        self._transport: asyncio.DatagramTransport | None = None
        self.transfers: set[Transfer] = set()
        self._cache: dict[tuple[str, int], bytes] = {}
        self.cache_max_file = 64 * 1024 * 1024
        self.cache_max_total = 256 * 1024 * 1024
        self.completed = 0

    @property
    def bound_port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Listener(self), local_addr=(self.host, self.port), reuse_port=False
        )
        log.info("TFTP server listening", host=self.host, port=self.bound_port, root=str(self.root))

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        for t in list(self.transfers):
            t.finish("server stopping")

    def _cached(self, source: Source) -> Source:
        """Serve boot binaries from memory: the same few files go to every node (keyed on mtime)."""
        if source.key is None or source.size > self.cache_max_file:
            return source
        data = self._cache.get(source.key)
        if data is None:
            data = source.read(0, source.size)
            if len(data) != source.size:  # changed under us: serve from the descriptor
                return source
            if sum(len(v) for v in self._cache.values()) + len(data) > self.cache_max_total:
                self._cache.clear()
            self._cache[source.key] = data
        source.close()
        return Source(len(data), buffer=data)

    async def stop(self) -> None:
        """Close every socket and let the loop run their close callbacks."""
        self.close()
        for _ in range(3):
            await asyncio.sleep(0)

    def xname_of(self, ip: str) -> str | None:
        if self.inventory is None:
            return None
        node = self.inventory().by_ip.get(ip)
        return node.xname if node else None

    def request(self, data: bytes, addr: tuple[str, int]) -> bytes | None:
        """Handle one datagram on port 69; returns an immediate error datagram, if any. Never raises."""
        try:
            pkt = tp.decode(data)
        except TftpCodecError:
            return None  # garbage: not worth an answer
        if not isinstance(pkt, tp.Request):
            return tp.encode(tp.Error(ErrorCode.ILLEGAL_OPERATION, "expected a request"))
        if pkt.opcode == tp.WRQ:
            return tp.encode(tp.Error(ErrorCode.ACCESS_VIOLATION, "read-only server"))
        if pkt.mode not in ("octet", "netascii"):
            return tp.encode(tp.Error(ErrorCode.ILLEGAL_OPERATION, f"unsupported mode {pkt.mode}"))
        try:
            source = resolve(self.root, pkt.filename, follow_symlinks=self.follow_symlinks)
        except Refused as exc:
            log.info("TFTP request refused", file=pkt.filename, client=addr[0], reason=exc.message)
            return tp.encode(tp.Error(exc.code, exc.message))
        source = self._cached(source)
        if pkt.mode == "netascii":
            whole = netascii(source.read(0, source.size))
            source.close()
            source = Source(len(whole), buffer=whole)
        neg = tp.negotiate(pkt.options, source.size, max_blksize=self.max_blksize, max_window=self.max_window)
        transfer = Transfer(self, pkt.filename, source, neg, addr)
        self.transfers.add(transfer)
        asyncio.get_running_loop().create_task(transfer.open())
        return None


class _Listener(asyncio.DatagramProtocol):
    def __init__(self, server: TftpServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        host = str(addr[0])
        answer = self.server.request(data, (host, addr[1]))
        if answer is not None and self.transport is not None:
            self.transport.sendto(answer, addr)


class Transfer(asyncio.DatagramProtocol):
    """One read transfer: OACK (if options), then windowed DATA with retransmission."""

    def __init__(
        self, server: TftpServer, filename: str, source: Source, neg: tp.Negotiated, client: tuple[str, int]
    ) -> None:
        self.server = server
        self.filename = filename
        self.source = source
        self.neg = neg
        self.client = client
        self.blksize = neg.blksize
        self.window = neg.windowsize
        self.timeout = neg.timeout if "timeout" in neg.acked else server.timeout
        #: Number of DATA blocks (the last one shorter than blksize, possibly empty).
        self.blocks = source.size // self.blksize + 1
        self.base = 1  # first unacknowledged block (absolute numbering)
        self.sent_upto = 0
        self.tries = 0
        self.transport: asyncio.DatagramTransport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.oack_pending = bool(neg.acked)
        self.started = time.monotonic()
        self.done = False
        self.xname = server.xname_of(client[0])

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        host = self.server.host
        try:
            await loop.create_datagram_endpoint(
                lambda: self, local_addr=(host, 0), remote_addr=self.client, family=socket.AF_INET
            )
        except OSError as exc:
            self.finish(f"cannot open transfer socket: {exc}")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)
        self.server.events.record(
            "tftp_start",
            "netboot",
            xname=self.xname,
            ip=self.client[0],
            detail={"file": self.filename, "size": self.source.size, **self.neg.acked},
        )
        log.debug("TFTP transfer", file=self.filename, client=self.client[0], options=self.neg.acked)
        self._send_current()

    def _send_current(self) -> None:
        if self.transport is None or self.done:
            return
        if self.oack_pending:
            self.transport.sendto(tp.encode(tp.OptionAck(self.neg.acked)))
        else:
            last = min(self.base + self.window - 1, self.blocks)
            for block in range(self.base, last + 1):
                offset = (block - 1) * self.blksize
                payload = self.source.read(offset, self.blksize)
                self.transport.sendto(tp.data_header(block) + payload)
            self.sent_upto = last
        self._arm()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(self.timeout, self._expired)

    def _expired(self) -> None:
        self.tries += 1
        if self.tries > self.server.retries:
            self.finish("timed out")
            return
        self._send_current()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        try:
            pkt = tp.decode(data)
        except TftpCodecError:
            return
        if isinstance(pkt, tp.Error):
            if self.oack_pending and pkt.code == ErrorCode.OPTION_REFUSED:
                # UEFI firmware asks for tsize, reads the OACK, aborts, then asks again for real.
                self.finish("client aborted after option acknowledgement", aborted=True)
            else:
                self.finish(f"client error {pkt.code}: {pkt.message}")
            return
        if not isinstance(pkt, tp.Ack):
            return
        if self.oack_pending:
            if pkt.block == 0:
                self.oack_pending = False
                self.tries = 0
                self._send_current()
            return
        # Map the 16-bit block number onto the window in flight [base-1, sent_upto].
        delta = (pkt.block - (self.base - 1)) & 0xFFFF
        if delta == 0 or delta > self.sent_upto - self.base + 1:
            return  # duplicate or stale ACK: never resend on one (RFC 1350, Sorcerer's Apprentice)
        acked = self.base - 1 + delta
        if acked >= self.blocks:
            self.finish(None)
            return
        self.base = acked + 1
        self.tries = 0
        # A whole window acknowledged: the next one. A partial one (RFC 7440): resend from the gap.
        self._send_current()

    def error_received(self, exc: Exception) -> None:
        self.finish(f"socket error: {exc}")

    def finish(self, error: str | None, *, aborted: bool = False) -> None:
        if self.done:
            return
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
        if self.transport is not None:
            self.transport.close()
        self.source.close()
        self.server.transfers.discard(self)
        elapsed = time.monotonic() - self.started
        if error is None:
            self.server.completed += 1
            stage, detail = "tftp_done", {"file": self.filename, "bytes": self.source.size}
            log.info(
                "TFTP sent",
                file=self.filename,
                client=self.client[0],
                bytes=self.source.size,
                seconds=round(elapsed, 3),
                xname=self.xname,
            )
        else:
            stage = "tftp_abort" if aborted else "tftp_error"
            detail = {"file": self.filename, "reason": error}
            log.info("TFTP transfer ended", file=self.filename, client=self.client[0], reason=error)
        self.server.events.record(stage, "netboot", xname=self.xname, ip=self.client[0], detail=detail)
