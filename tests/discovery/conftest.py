"""Fixtures for magellan: real sushy-tools emulators (TLS + basic auth) started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.discovery.emulators import Emulator, FakeSystem, TLSFiles, free_port, make_tls, running_emulators

EMULATOR_ADDRESSES = ["127.0.0.101", "127.0.0.102", "127.0.0.103"]
#: A non-Redfish HTTP listener on the emulators' port: open to TCP, rejected by the probe.
DECOY_ADDRESS = "127.0.0.104"
#: Addresses covered by the scan subnet, with nothing listening on them.
SCAN_SUBNET = "127.0.0.96/28"

SYSTEMS = {
    "127.0.0.101": [
        FakeSystem("0a000001-0000-4000-8000-000000000001", "node-a0", ("52:54:00:0a:00:01",), "On"),
        FakeSystem(
            "0a000001-0000-4000-8000-000000000002", "node-a1", ("52:54:00:0a:00:02", "52:54:00:0a:01:02")
        ),
    ],
    "127.0.0.102": [FakeSystem("0b000001-0000-4000-8000-000000000001", "node-b0", ("52:54:00:0b:00:01",))],
    "127.0.0.103": [
        FakeSystem("0c000001-0000-4000-8000-000000000001", "node-c0", ("52:54:00:0c:00:01",), "On")
    ],
}

BMC_IDS = {"127.0.0.101": "x1000c0s0b0", "127.0.0.102": "x1000c0s1b0", "127.0.0.103": "x1000c0s2b0"}


@pytest.fixture(scope="session")
def bmc_tls(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A CA and a server certificate for the emulator addresses."""
    return make_tls(tmp_path_factory.mktemp("bmc-tls"), [*EMULATOR_ADDRESSES, DECOY_ADDRESS])


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory, bmc_tls: TLSFiles) -> Iterator[list[Emulator]]:
    """Three sushy-emulators on 127.0.0.101-103, one shared port, TLS and basic auth."""
    port = free_port([*EMULATOR_ADDRESSES, DECOY_ADDRESS])
    emus = [Emulator(addr, port, list(SYSTEMS[addr])) for addr in EMULATOR_ADDRESSES]
    with running_emulators(emus, bmc_tls, tmp_path_factory.mktemp("sushy")) as running:
        yield running


@pytest.fixture
def cache_path(tmp_path: Path) -> Path:
    """A fresh magellan cache file."""
    return tmp_path / "assets.db"
