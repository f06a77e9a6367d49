"""Namespace pair for the netboot benchmarks: nbb-s<pid> (198.18.0.1/16), nbb-c<pid> (198.18.0.2/16)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import NetnsPair, sh

SERVER_IP, CLIENT_IP, SUBNET = "198.18.0.1", "198.18.0.2", "198.18.0.0/16"
PAIR = NetnsPair.named("nbb", SERVER_IP, CLIENT_IP)
SRV, CLI, SRV_IF, CLI_IF = PAIR.srv, PAIR.cli, PAIR.srv_if, PAIR.cli_if


@contextlib.contextmanager
def lab() -> Iterator[None]:
    """Create the pair; always delete it (and anything left running inside) afterwards."""
    with PAIR.up():
        yield


def in_ns(ns: str, *argv: str) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]


__all__ = ["CLI", "CLIENT_IP", "CLI_IF", "SERVER_IP", "SRV", "SRV_IF", "SUBNET", "in_ns", "lab", "sh"]
