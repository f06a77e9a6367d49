"""RedfishEndpoints (with the V2 parse) and ComponentEndpoints on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.smd.conftest import rfe_v2, scenario_nodes

RFE = "/hsm/v2/Inventory/RedfishEndpoints"
CE = "/hsm/v2/Inventory/ComponentEndpoints"


def test_v2_parse_creates_bmc_node_interfaces_and_endpoints(client: TestClient) -> None:
    """A V2 payload creates the NodeBMC and Node components, both interfaces and both component endpoints."""
    body = rfe_v2(
        "x1000c0s0b0", "52:54:00:be:ef:01", "172.16.0.1", "de:ca:fc:0f:fe:e1", "172.16.0.101", "compute1"
    )
    resp = client.post(RFE, json=body)
    assert resp.status_code == 201
    assert resp.json() == [{"URI": f"{RFE}/x1000c0s0b0"}]
    comps = client.get("/hsm/v2/State/Components").json()["Components"]
    assert comps == [
        {"ID": "x1000c0s0b0", "Type": "NodeBMC", "Enabled": True},
        {
            "ID": "x1000c0s0b0n0",
            "Type": "Node",
            "State": "On",
            "Flag": "OK",
            "Enabled": True,
            "Role": "Compute",
            "NID": 1,
        },
    ]
    ifaces = {i["MACAddress"]: i for i in client.get("/hsm/v2/Inventory/EthernetInterfaces").json()}
    assert ifaces["52:54:00:be:ef:01"]["ComponentID"] == "x1000c0s0b0n0"
    assert ifaces["52:54:00:be:ef:01"]["IPAddresses"] == [{"IPAddress": "172.16.0.1"}]
    assert ifaces["de:ca:fc:0f:fe:e1"]["ComponentID"] == "x1000c0s0b0"
    ces = client.get(f"{CE}?type=Node").json()["ComponentEndpoints"]
    assert len(ces) == 1
    ce = ces[0]
    assert ce["RedfishType"] == "ComputerSystem"
    assert ce["ComponentEndpointType"] == "ComponentEndpointComputerSystem"
    assert ce["OdataID"] == "/redfish/v1/Systems/x1000c0s0b0n0"
    assert ce["RedfishSystemInfo"]["Actions"]["#ComputerSystem.Reset"]["AllowableValues"] == [
        "On",
        "ForceOff",
        "ForceRestart",
    ]
    assert ce["RedfishSystemInfo"]["EthernetNICInfo"][0]["MACAddress"] == "52:54:00:be:ef:01"
    assert client.get(f"{CE}/x1000c0s0b0").json()["RedfishType"] == "Manager"


def test_rfe_golden_get(client: TestClient) -> None:
    """GET renders defaults (Hostname/FQDN = ID, Enabled true, NotYetQueried) in upstream's shape."""
    client.post(RFE, json={"ID": "x1000c0s0b0", "MACAddr": "DE:CA:FC:0F:FE:E1", "IPAddress": "172.16.0.101"})
    assert client.get(f"{RFE}/x1000c0s0b0").json() == {
        "ID": "x1000c0s0b0",
        "Type": "NodeBMC",
        "Hostname": "x1000c0s0b0",
        "Domain": "",
        "FQDN": "x1000c0s0b0",
        "Enabled": True,
        "User": "",
        "Password": "",
        "MACAddr": "de:ca:fc:0f:fe:e1",
        "IPAddress": "172.16.0.101",
        "RediscoverOnUpdate": False,
        "DiscoveryInfo": {"LastDiscoveryStatus": "NotYetQueried"},
    }


def test_existing_node_keeps_nid_and_role(client: TestClient) -> None:
    """Nodes posted before the RFE keep their NID and Role; the parse's NID (position+1) does not win."""
    client.post(
        "/hsm/v2/State/Components",
        json={"Components": [{"ID": "x1000c0s0b3n0", "State": "On", "NID": 4, "Role": "Service"}]},
    )
    client.post(
        RFE,
        json=rfe_v2(
            "x1000c0s0b3", "52:54:00:be:ef:04", "172.16.0.4", "de:ca:fc:0f:fe:e4", "172.16.0.104", "compute4"
        ),
    )
    node = client.get("/hsm/v2/State/Components/x1000c0s0b3n0").json()
    assert (node["NID"], node["Role"]) == (4, "Service")


def test_conflicts_and_wrapped_batch_are_atomic(client: TestClient) -> None:
    """A duplicate ID is a 409; a wrapped batch with one bad endpoint stores none of them."""
    assert client.post(RFE, json={"ID": "x1000c0s0b0"}).status_code == 201
    dup = client.post(RFE, json={"ID": "x1000c0s0b0"})
    assert dup.status_code == 409
    assert (
        dup.json()["detail"]
        == "operation would conflict with an existing resource that has the same FQDN or xname ID."
    )
    batch = {"RedfishEndpoints": [{"ID": "x1000c0s0b1"}, {"ID": "x1000c0s0b2n0"}]}
    bad = client.post(RFE, json=batch)
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("couldn't validate endpoint data:")
    assert [e["ID"] for e in client.get(RFE).json()["RedfishEndpoints"]] == ["x1000c0s0b0"]
    good = client.post(RFE, json={"RedfishEndpoints": [{"ID": "x1000c0s0b1"}, {"ID": "x1000c0s0b2"}]})
    assert good.status_code == 201
    assert good.headers["location"] == RFE
    assert len(good.json()) == 2


def test_put_reparses_with_force_and_patch(client: TestClient) -> None:
    """PUT upserts and re-parses (moving a MAC to the new system); PATCH changes single fields."""
    body = rfe_v2("x1000c0s0b0", "52:54:00:be:ef:01", "172.16.0.1", "de:ca:fc:0f:fe:e1", "172.16.0.101", "c1")
    assert client.put(f"{RFE}/x1000c0s0b0", json=body).status_code == 200
    body["Systems"][0]["ethernet_interfaces"][0]["ip"] = "172.16.0.9"
    assert client.put(f"{RFE}/x1000c0s0b0", json=body).status_code == 200
    iface = client.get("/hsm/v2/Inventory/EthernetInterfaces/525400beef01").json()
    assert iface["IPAddresses"] == [{"IPAddress": "172.16.0.9"}]
    patched = client.patch(f"{RFE}/x1000c0s0b0", json={"Enabled": False, "User": "root"})
    assert patched.status_code == 200
    assert patched.json()["Enabled"] is False and patched.json()["User"] == "root"
    assert client.patch(f"{RFE}/x1000c0s0b0", json={"Bogus": 1}).status_code == 400


def test_delete_rfe_removes_component_endpoints(client: TestClient) -> None:
    """Deleting an endpoint removes its component endpoints; collection deletes count."""
    client.post(
        RFE,
        json=rfe_v2(
            "x1000c0s0b0", "52:54:00:be:ef:01", "172.16.0.1", "de:ca:fc:0f:fe:e1", "172.16.0.101", "c1"
        ),
    )
    assert client.delete(f"{RFE}/x1000c0s0b0").json()["message"] == "deleted 1 entry"
    assert client.get(CE).json() == {"ComponentEndpoints": []}
    assert client.delete(RFE).status_code == 404
    assert client.get(f"{CE}/x1000c0s0b0n0").status_code == 404


def test_invalid_v2_payload_stores_nothing(client: TestClient) -> None:
    """A V2 payload with a bad NIC MAC is a 400 and creates no endpoint, component or interface."""
    body = rfe_v2("x1000c0s0b0", "52:54:00:be:ef", "172.16.0.1", "de:ca:fc:0f:fe:e1", "172.16.0.101", "c1")
    assert client.post(RFE, json=body).status_code == 400
    assert client.get(RFE).json() == {"RedfishEndpoints": []}
    assert client.get("/hsm/v2/State/Components").json() == {"Components": []}
    assert client.get("/hsm/v2/Inventory/EthernetInterfaces").json() == []


def test_discover_sequence_with_overwrite(client: TestClient) -> None:
    """The discover-static --overwrite sequence (PUT components, BulkNID, POST RFE, PUT on 409) converges."""
    for comp in scenario_nodes(1):
        client.put(f"/hsm/v2/State/Components/{comp['ID']}", json={"Component": comp, "Force": True})
    body = rfe_v2("x1000c0s0b0", "52:54:00:be:ef:01", "172.16.0.1", "de:ca:fc:0f:fe:e1", "172.16.0.101", "c1")
    client.post(RFE, json=body)
    assert client.post(RFE, json=body).status_code == 409
    assert client.put(f"{RFE}/x1000c0s0b0", json=body).status_code == 200
    nodes = client.get("/hsm/v2/State/Components?type=node").json()["Components"]
    assert [(n["ID"], n["NID"]) for n in nodes] == [("x1000c0s0b0n0", 1)]
