"""``/hsm/v2/Inventory/EthernetInterfaces`` on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

BASE = "/hsm/v2/Inventory/EthernetInterfaces"
IFACE = {
    "Description": "Interface 0 for compute1",
    "MACAddress": "52:54:00:BE:EF:01",
    "ComponentID": "x1000c0s0b0n0",
    "IPAddresses": [{"IPAddress": "172.16.0.1", "Network": "management"}],
}


def test_create_and_get_golden(client: TestClient) -> None:
    """POST answers 201 {"URI"} with Location; the object has the MAC-derived ID, type and timestamp."""
    resp = client.post(BASE, json={**IFACE, "ID": "ignored"})
    assert resp.status_code == 201
    assert resp.json() == {"URI": f"{BASE}/525400beef01"}
    assert resp.headers["location"] == f"{BASE}/525400beef01"
    got = client.get(f"{BASE}/525400beef01").json()
    last = got.pop("LastUpdate")
    assert last.endswith("Z") and "T" in last
    assert got == {
        "ID": "525400beef01",
        "Description": "Interface 0 for compute1",
        "MACAddress": "52:54:00:be:ef:01",
        "ComponentID": "x1000c0s0b0n0",
        "Type": "Node",
        "IPAddresses": [{"IPAddress": "172.16.0.1", "Network": "management"}],
    }


def test_duplicate_mac_conflicts(client: TestClient) -> None:
    """A second interface with the same MAC (any spelling) is a 409 with upstream's text."""
    client.post(BASE, json=IFACE)
    resp = client.post(BASE, json={**IFACE, "MACAddress": "52-54-00-be-ef-01"})
    assert resp.status_code == 409
    assert resp.json()["detail"] == (
        "operation would conflict with an existing component ethernet interface"
        " that has the same MAC address."
    )


def test_invalid_mac_and_ip_rejected(client: TestClient) -> None:
    """Invalid MACs and IPs answer 400 and store nothing."""
    assert client.post(BASE, json={**IFACE, "MACAddress": "52:54:00:be:ef"}).status_code == 400
    bad_ip = {**IFACE, "IPAddresses": [{"IPAddress": "172.16.0.300"}]}
    assert client.post(BASE, json=bad_ip).status_code == 400
    assert client.post(BASE, json={**IFACE, "IPAddresses": [{"Network": "x"}]}).status_code == 400
    assert client.get(BASE).json() == []


def test_collection_filters_are_a_bare_array(client: TestClient) -> None:
    """GET returns a bare array, filtered by MACAddress, ComponentID, IPAddress, Type (any key case)."""
    client.post(BASE, json=IFACE)
    client.post(
        BASE,
        json={
            "MACAddress": "de:ca:fc:0f:fe:e1",
            "ComponentID": "x1000c0s0b0",
            "IPAddresses": [{"IPAddress": "172.16.0.101"}],
        },
    )
    assert [i["ID"] for i in client.get(f"{BASE}/").json()] == ["525400beef01", "decafc0ffee1"]
    assert [i["ID"] for i in client.get(f"{BASE}?macaddress=DE:CA:FC:0F:FE:E1").json()] == ["decafc0ffee1"]
    assert [i["ID"] for i in client.get(f"{BASE}?ComponentID=x1000c0s0b0n0").json()] == ["525400beef01"]
    assert [i["ID"] for i in client.get(f"{BASE}?IPAddress=172.16.0.101").json()] == ["decafc0ffee1"]
    assert [i["ID"] for i in client.get(f"{BASE}?type=NodeBMC").json()] == ["decafc0ffee1"]
    assert client.get(f"{BASE}?newerthan=not-a-time").status_code == 400
    assert client.get(f"{BASE}?OlderThan=2000-01-01T00:00:00Z").json() == []


def test_patch_and_ip_subresources(client: TestClient) -> None:
    """PATCH replaces fields and the IP list; IPAddresses can be added, patched and removed one by one."""
    client.post(BASE, json=IFACE)
    assert client.patch(f"{BASE}/525400beef01", json={}).status_code == 400
    patched = client.patch(f"{BASE}/525400beef01", json={"ComponentID": "x1000c0s0b1n0", "IPAddresses": []})
    assert patched.status_code == 200
    assert patched.json()["ComponentID"] == "x1000c0s0b1n0" and patched.json()["IPAddresses"] == []
    added = client.post(f"{BASE}/525400beef01/IPAddresses", json={"IPAddress": "10.1.0.5", "Network": "hsn"})
    assert added.status_code == 201
    assert client.post(f"{BASE}/525400beef01/IPAddresses", json={"IPAddress": "10.1.0.5"}).status_code == 409
    assert (
        client.patch(f"{BASE}/525400beef01/IPAddresses/10.1.0.5", json={"Network": "mgmt"}).status_code == 200
    )
    assert client.get(f"{BASE}/525400beef01/IPAddresses").json() == [
        {"IPAddress": "10.1.0.5", "Network": "mgmt"}
    ]
    assert client.delete(f"{BASE}/525400beef01/IPAddresses/10.1.0.5").status_code == 200
    assert client.delete(f"{BASE}/525400beef01").json() == {"code": 0, "message": "deleted 1 entry"}
    gone = client.get(f"{BASE}/525400beef01")
    assert gone.status_code == 404
    assert gone.json()["detail"] == "No such component ethernet interface: 525400beef01"


def test_deleting_component_unlinks_interface(client: TestClient) -> None:
    """Deleting a component leaves its interface but the interface no longer refers to it."""
    client.post("/hsm/v2/State/Components", json={"Components": [{"ID": "x1000c0s0b0n0", "State": "On"}]})
    client.post(BASE, json=IFACE)
    client.delete("/hsm/v2/State/Components/x1000c0s0b0n0")
    got = client.get(f"{BASE}/525400beef01").json()
    assert (got["ComponentID"], got["Type"]) == ("", "")
