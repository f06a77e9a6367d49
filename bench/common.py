"""Helpers shared by the benchmarks: RSS, CPU time, percentiles, network namespace pairs, a minimal
HTTP/1.1 client; the server process comes from tests.live."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.live import Server, free_port, pychami_server

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a supervisor and its workers, nginx and its workers)."""
    found = [pid]
    for current in found:
        try:
            kids = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        found.extend(int(k) for k in kids)
    return found


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:.1f} ms, p99 {percentile(values, 99) * 1000:.1f} ms, "
        f"mean {statistics.fmean(values) * 1000:.1f} ms"
    )


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


@dataclass(frozen=True)
class NetnsPair:
    """Two network namespaces joined by a veth pair; names carry a tag so parallel runs never collide."""

    srv: str
    cli: str
    srv_if: str
    cli_if: str
    server_ip: str
    client_ip: str
    prefix: int = 16

    @classmethod
    def named(cls, stem: str, server_ip: str, client_ip: str, prefix: int = 16) -> NetnsPair:
        tag = f"{os.getpid() % 100000}"
        return cls(
            f"{stem}-s{tag}", f"{stem}-c{tag}", f"{stem}s{tag}", f"{stem}c{tag}", server_ip, client_ip, prefix
        )

    def run_in(self, ns: str, *argv: str) -> list[str]:
        return ["ip", "netns", "exec", ns, *argv]

    @contextlib.contextmanager
    def up(self) -> Iterator[NetnsPair]:
        """Create the pair; always delete it (and kill anything left running inside) afterwards."""
        try:
            for ns in (self.srv, self.cli):
                sh("ip", "netns", "del", ns, check=False)  # left over by an interrupted run
                sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", self.srv_if, "type", "veth", "peer", "name", self.cli_if)
            sh("ip", "link", "set", self.srv_if, "netns", self.srv)
            sh("ip", "link", "set", self.cli_if, "netns", self.cli)
            sh("ip", "-n", self.srv, "addr", "add", f"{self.server_ip}/{self.prefix}", "dev", self.srv_if)
            sh("ip", "-n", self.cli, "addr", "add", f"{self.client_ip}/{self.prefix}", "dev", self.cli_if)
            for ns, dev in ((self.srv, self.srv_if), (self.cli, self.cli_if)):
                sh("ip", "-n", ns, "link", "set", "lo", "up")
                sh("ip", "-n", ns, "link", "set", dev, "up")
            yield self
        finally:
            for ns in (self.cli, self.srv):
                for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                sh("ip", "netns", "del", ns, check=False)


class Conn:
    """A minimal HTTP/1.1 client connection (Content-Length bodies only), to keep the load client cheap."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int, source: str | None = None) -> Conn:
        local = (source, 0) if source else None
        reader, writer = await asyncio.open_connection(host, port, local_addr=local)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, extra: str = "", body: bytes = b""
    ) -> tuple[int, bytes, dict[bytes, bytes]]:
        """Status, body and lower-case headers of one request on this connection."""
        length = f"Content-Length: {len(body)}\r\n" if body or method == "POST" else ""
        self.writer.write(f"{method} {path} HTTP/1.1\r\nHost: bench\r\n{extra}{length}\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name:
                headers[name.strip().lower()] = value.strip()
        size = int(headers.get(b"content-length", b"0"))
        data = b""
        if size and method != "HEAD":
            data = await self.reader.readexactly(size)
        return status, data, headers

    async def get(self, path: str, extra: str = "") -> tuple[int, bytes]:
        status, data, _ = await self.request("GET", path, extra)
        return status, data

    def close(self) -> None:
        self.writer.close()


__all__ = [
    "ROOT",
    "Conn",
    "NetnsPair",
    "Server",
    "cpu_seconds",
    "free_port",
    "percentile",
    "process_tree",
    "pychami_server",
    "rss_mb",
    "sh",
    "summary",
]
