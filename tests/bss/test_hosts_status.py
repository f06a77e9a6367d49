"""Hosts, dumpstate, endpoint history, service status endpoints and the bss settings section."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pychami.bss.settings import BSSSettings, load_bss_settings
from pychami.core.db import Database
from pychami.core.errors import ConfigError
from pychami.core.inventory import Interface, InventorySnapshot, Node
from pychami.core.settings import load_settings
from pychami.server import create_app


def test_hosts_lists_smd_nodes(node_client: TestClient) -> None:
    """GET /hosts shows every SMD node with FQDN, MAC and EndpointEnabled."""
    hosts = node_client.get("/boot/v1/hosts").json()
    assert len(hosts) == 9
    assert hosts[0] == {
        "ID": "x1000c0s0b0n0",
        "Type": "Node",
        "State": "On",
        "Enabled": True,
        "Role": "Compute",
        "NID": 1,
        "FQDN": "",
        "MAC": ["52:54:00:be:ef:01"],
        "EndpointEnabled": True,
    }


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("name=x1000c0s0b1n0", ["x1000c0s0b1n0"]),
        ("mac=52:54:00:BE:EF:03", ["x1000c0s0b2n0"]),
        ("nid=4,5", ["x1000c0s0b3n0", "x1000c0s0b4n0"]),
        ("name=x1000c1s1b0n0&nid=1", ["x1000c1s1b0n0", "x1000c0s0b0n0"]),
    ],
)
def test_hosts_filters(node_client: TestClient, query: str, ids: list[str]) -> None:
    """GET /hosts filters by name, mac and nid (comma lists allowed)."""
    assert [h["ID"] for h in node_client.get(f"/boot/v1/hosts?{query}").json()] == ids


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("name=x9c0s0b0n0", 404, "Not Found - Unknown host name 'x9c0s0b0n0'"),
        ("mac=52:54:00:00:00:99", 404, "Not Found - Unknown MAC address '52:54:00:00:00:99'"),
        ("nid=99", 404, "Not Found - Unknown NID '99'"),
        ("nid=x", 400, "Bad Request - Invalid nid 'x'"),
    ],
)
def test_hosts_unknown(node_client: TestClient, query: str, status: int, detail: str) -> None:
    """Unknown hosts answer 404 and malformed NIDs 400, with upstream's texts."""
    resp = node_client.get(f"/boot/v1/hosts?{query}")
    assert resp.status_code == status
    assert resp.json()["detail"] == detail


class MutableSource:
    """An inventory that changes behind BSS's back, as SMD does in another process."""

    def __init__(self) -> None:
        self.nodes = [Node("x1000c0s0b0n0", 1, interfaces=(Interface("52:54:00:be:ef:01"),))]
        self.fail = False

    def load_inventory(self) -> InventorySnapshot:
        if self.fail:
            raise RuntimeError("SMD unreachable")
        return InventorySnapshot(nodes=tuple(self.nodes))


@pytest.fixture
def mutable(tmp_path: Path, db_url: str, db: Database) -> Iterator[tuple[TestClient, MutableSource]]:
    source = MutableSource()
    app = create_app(
        load_settings(data_dir=tmp_path / "m", db=db_url),
        db=db,
        migrate_schema=False,
        inventory_source=source,
    )
    with TestClient(app) as client:
        yield client, source


def test_post_hosts_refreshes_from_smd(mutable: tuple[TestClient, MutableSource]) -> None:
    """POST /hosts reloads the node list at once (204)."""
    client, source = mutable
    assert len(client.get("/boot/v1/hosts").json()) == 1
    source.nodes.append(Node("x1000c0s0b1n0", 2))
    resp = client.post("/boot/v1/hosts")
    assert resp.status_code == 204
    assert [h["ID"] for h in client.get("/boot/v1/hosts").json()] == ["x1000c0s0b0n0", "x1000c0s0b1n0"]


def test_unchanged_inventory_keeps_its_snapshot(mutable: tuple[TestClient, MutableSource]) -> None:
    """A reload that finds the same nodes keeps the snapshot object (memoised scripts stay valid)."""
    client, source = mutable
    service = client.app.state.ctx.registry["bss"]
    first = service.inventory.get()
    client.post("/boot/v1/hosts")
    assert service.inventory.get() is first
    source.nodes.append(Node("x1000c0s0b1n0", 2))
    client.post("/boot/v1/hosts")
    assert service.inventory.get() is not first


def test_hsm_status_reports_smd_errors(mutable: tuple[TestClient, MutableSource]) -> None:
    """service/hsm and status/all answer 500 with "error" when SMD cannot be read."""
    client, source = mutable
    assert client.get("/boot/v1/service/hsm").json() == {"bss-status-hsm": "connected"}
    source.fail = True
    client.post("/boot/v1/hosts")
    resp = client.get("/boot/v1/service/hsm")
    assert resp.status_code == 500
    assert resp.json() == {"bss-status-hsm": "error"}
    assert client.get("/boot/v1/service/status/all").status_code == 500


def test_dumpstate(admin: TestClient) -> None:
    """dumpstate holds the hosts and the boot parameters."""
    admin.post("/boot/v1/bootparameters", json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://k"})
    state = admin.get("/boot/v1/dumpstate").json()
    assert set(state) == {"Components", "Params"}
    assert len(state["Components"]) == 9
    assert state["Params"][0]["macs"] == ["52:54:00:be:ef:01"]


def test_endpoint_history_filters(admin: TestClient, node_client: TestClient) -> None:
    """endpoint-history lists the last boot-script fetch per node, filtered by name and endpoint."""
    admin.post("/boot/v1/bootparameters", json={"groups": ["compute"], "kernel": "http://k"})
    node_client.get("/boot/v1/bootscript?mac=52:54:00:be:ef:01")
    node_client.get("/boot/v1/bootscript?nid=2")
    names = [e["name"] for e in node_client.get("/boot/v1/endpoint-history").json()]
    assert names == ["x1000c0s0b0n0", "x1000c0s0b1n0"]
    assert node_client.get("/boot/v1/endpoint-history?endpoint=user-data").json() == []
    assert (
        len(node_client.get("/boot/v1/endpoint-history?name=x1000c0s0b1n0&endpoint=bootscript").json()) == 1
    )
    resp = node_client.get("/boot/v1/endpoint-history?endpoint=kernel")
    assert resp.status_code == 400


def test_service_endpoints(node_client: TestClient, db: Database) -> None:
    """The service routes answer upstream's shapes."""
    backend = "postgres" if db.dialect == "postgresql" else "sqlite"
    assert node_client.get("/boot/v1/service/status").text == '{"bss-status":"running"}\n'
    assert node_client.get("/boot/v1/service/version").json() == {"bss-version": "0.1.0"}
    assert node_client.get("/boot/v1/service/storage/status").json() == {
        "bss-storage-backend": {"name": backend, "status": "connected"}
    }
    assert node_client.get("/boot/v1/service/status/all").json() == {
        "bss-version": "0.1.0",
        "bss-status": "running",
        "bss-status-hsm": "connected",
        "bss-storage-backend": {"name": backend, "status": "connected"},
    }


def test_settings_defaults_follow_the_advertised_url() -> None:
    """Without bss settings, chain and ds= URLs derive from the server's advertised URL."""
    opts = BSSSettings().script_options("http://10.0.0.1:8081")
    assert opts.chain_url == "http://10.0.0.1:8081"
    assert opts.datasource == "nocloud-net;s=http://10.0.0.1:8081/cloud-init/"
    assert (opts.retry_delay, opts.unknown_delay) == (30, 10)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({"retry_dealy": 5}, "bss.retry_dealy"),
        ({"retry_delay": -1}, "bss.retry_delay"),
        ({"cache_ttl": 0}, "bss.cache_ttl"),
    ],
)
def test_bad_settings_name_the_key(raw: dict[str, object], fragment: str) -> None:
    """An invalid bss section fails at start with the offending key named."""
    with pytest.raises(ConfigError, match=fragment):
        load_bss_settings(raw)
