"""BSS fixtures: an app with a fixed SMD inventory (the scenario's five nodes plus edge cases)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.core.db import Database
from pychami.core.inventory import Interface, IPAddress, Node, static_source
from pychami.core.settings import Settings, load_settings
from pychami.server import create_app
from tests.conftest import issue

ADVERTISE = "http://172.16.0.254:8081"
DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"


def scenario_nodes() -> list[Node]:
    """The five compute nodes of the example cluster, as SMD would describe them."""
    return [
        Node(
            xname=f"x1000c0s0b{i - 1}n0",
            nid=i,
            role="Compute",
            endpoint_enabled=True,
            interfaces=(Interface(f"52:54:00:be:ef:0{i}", (IPAddress(f"172.16.0.{i}", "management"),)),),
            groups=("compute",),
        )
        for i in range(1, 6)
    ]


EXTRA_NODES = [
    # Disabled in SMD: BSS must treat it as unknown.
    Node(xname="x1000c1s0b0n0", nid=10, enabled=False, interfaces=(Interface("52:54:00:00:00:10"),)),
    # Its component endpoint is disabled: unknown too.
    Node(xname="x1000c1s1b0n0", nid=11, endpoint_enabled=False, interfaces=(Interface("52:54:00:00:00:11"),)),
    # Two NICs and two groups, for the precedence rules.
    Node(
        xname="x1000c1s2b0n0",
        nid=12,
        interfaces=(Interface("52:54:00:00:00:12"), Interface("52:54:00:00:00:13")),
        groups=("login", "compute"),
    ),
    # No NID at all.
    Node(xname="x1000c1s3b0n0", nid=None, interfaces=(Interface("52:54:00:00:00:14"),)),
]


def boot_debug() -> dict[str, Any]:
    """The scenario's boot-debug.yaml payload (what ``ochami bss boot params set`` sends)."""
    data = yaml.safe_load((DATA / "boot-debug.yaml").read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture
def bss_settings(tmp_path: Path, db_url: str) -> Settings:
    return load_settings(data_dir=tmp_path / "data", db=db_url, advertise_url=ADVERTISE)


@pytest.fixture
def bss_app(bss_settings: Settings, db: Database) -> FastAPI:
    return create_app(
        bss_settings,
        db=db,
        migrate_schema=False,
        inventory_source=static_source([*scenario_nodes(), *EXTRA_NODES]),
    )


@pytest.fixture
def admin(bss_app: FastAPI) -> Iterator[TestClient]:
    """A client with an admin token."""
    with TestClient(bss_app) as c:
        c.headers["Authorization"] = f"Bearer {issue(bss_app, 'admin')}"
        yield c


@pytest.fixture
def node_client(bss_app: FastAPI) -> Iterator[TestClient]:
    """A client without a token, as a booting node."""
    with TestClient(bss_app) as c:
        yield c


@pytest.fixture
def bss_token(bss_app: FastAPI) -> Callable[..., str]:
    def make(*scopes: str) -> str:
        return issue(bss_app, *scopes)

    return make


def golden(name: str) -> str:
    return (GOLDEN / name).read_text()
