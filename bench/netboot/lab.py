"""Namespace pair for the netboot benchmarks: nbb-s (nbbs 198.18.0.1/16), nbb-c (nbbc 198.18.0.2/16)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator

SRV, CLI = "nbb-s", "nbb-c"
SRV_IF, CLI_IF = "nbbs", "nbbc"
SERVER_IP, CLIENT_IP, SUBNET = "198.18.0.1", "198.18.0.2", "198.18.0.0/16"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


@contextlib.contextmanager
def lab() -> Iterator[None]:
    """Create the pair; always delete it (and anything left running inside) afterwards."""
    try:
        for ns in (SRV, CLI):
            sh("ip", "netns", "del", ns, check=False)  # left over by an interrupted run
            sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", SRV_IF, "type", "veth", "peer", "name", CLI_IF)
        sh("ip", "link", "set", SRV_IF, "netns", SRV)
        sh("ip", "link", "set", CLI_IF, "netns", CLI)
        sh("ip", "-n", SRV, "addr", "add", f"{SERVER_IP}/16", "dev", SRV_IF)
        sh("ip", "-n", CLI, "addr", "add", f"{CLIENT_IP}/16", "dev", CLI_IF)
        for ns, dev in ((SRV, SRV_IF), (CLI, CLI_IF)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        yield
    finally:
        for ns in (CLI, SRV):
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            sh("ip", "netns", "del", ns, check=False)


def in_ns(ns: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]
