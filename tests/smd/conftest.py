"""SMD test data: the scenario's first node as ochami discover static sends it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def rfe_v2(bmc: str, node_mac: str, node_ip: str, bmc_mac: str, bmc_ip: str, name: str) -> dict[str, Any]:
    """A RedfishEndpoint V2 body exactly as ``ochami discover static`` builds it (spec §1.9)."""
    node = f"{bmc}n0"
    return {
        "ID": bmc,
        "Type": "NodeBMC",
        "Name": name,
        "UUID": "",
        "MACAddr": bmc_mac,
        "IPAddress": bmc_ip,
        "FQDN": "",
        "DiscoveryInfo": {"LastAttempt": "0001-01-01T00:00:00Z"},
        "SchemaVersion": 1,
        "Systems": [
            {
                "uri": f"https://demo.openchami.cluster:8443/redfish/v1/Systems/{node}",
                "uuid": f"sys-{bmc}",
                "name": name,
                "ethernet_interfaces": [
                    {"mac": node_mac, "ip": node_ip, "name": node, "description": f"Interface 0 for {name}"}
                ],
                "actions": ["On", "ForceOff", "ForceRestart"],
            }
        ],
        "Managers": [
            {
                "uri": f"https://demo.openchami.cluster:8443/redfish/v1/Managers/{bmc}",
                "uuid": f"mgr-{bmc}",
                "name": bmc,
                "type": "NodeBMC",
                "description": "",
                "actions": None,
                "ethernet_interfaces": [
                    {"mac": bmc_mac, "ip": bmc_ip, "name": bmc, "description": f"Interface for BMC {bmc}"}
                ],
            }
        ],
    }


def scenario_nodes(n: int = 5) -> list[dict[str, Any]]:
    return [
        {"ID": f"x1000c0s0b{i}n0", "Type": "Node", "State": "On", "Enabled": True, "NID": i + 1}
        for i in range(n)
    ]


def scenario_rfes(n: int = 5) -> list[dict[str, Any]]:
    return [
        rfe_v2(
            f"x1000c0s0b{i}",
            f"52:54:00:be:ef:{i + 1:02x}",
            f"172.16.0.{i + 1}",
            f"de:ca:fc:0f:fe:{0xE1 + i:02x}",
            f"172.16.0.{101 + i}",
            f"compute{i + 1}",
        )
        for i in range(n)
    ]


@pytest.fixture
def discovered(client: TestClient) -> TestClient:
    """The scenario's five nodes loaded the way discover static loads them."""
    assert client.post("/hsm/v2/State/Components", json={"Components": scenario_nodes()}).status_code == 204
    for body in scenario_rfes():
        assert client.post("/hsm/v2/Inventory/RedfishEndpoints", json=body).status_code == 201
    resp = client.post(
        "/hsm/v2/groups",
        json={
            "label": "compute",
            "description": "The compute group",
            "members": {"ids": [f"x1000c0s0b{i}n0" for i in range(5)]},
        },
    )
    assert resp.status_code == 201
    return client
