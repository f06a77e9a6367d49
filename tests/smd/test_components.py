"""``/hsm/v2/State/Components`` on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.smd.conftest import scenario_nodes

BASE = "/hsm/v2/State/Components"


def _ids(resp_json: dict[str, list[dict[str, object]]]) -> list[object]:
    return [c["ID"] for c in resp_json["Components"]]


def test_post_then_get_golden(client: TestClient) -> None:
    """A posted node reads back with upstream's keys, order, defaults and omitted empties."""
    resp = client.post(BASE, json={"Components": [{"ID": "x1000c0s0b0n0", "State": "on", "NID": 1}]})
    assert resp.status_code == 204
    assert resp.content == b""
    got = client.get(f"{BASE}/x1000c0s0b0n0")
    assert got.status_code == 200
    assert got.text == (
        '{"ID":"x1000c0s0b0n0","Type":"Node","State":"On","Flag":"OK","Enabled":true,"Role":"Compute","NID":1}\n'
    )


def test_type_is_derived_and_xname_normalised(client: TestClient) -> None:
    """Type comes from the xname whatever the client says; xnames lose case and leading zeros."""
    client.post(BASE, json={"Components": [{"ID": "X1000C00S0B0", "Type": "Node", "State": "Ready"}]})
    got = client.get(f"{BASE}/x1000c0s0b0").json()
    assert got["ID"] == "x1000c0s0b0"
    assert got["Type"] == "NodeBMC"
    assert "NID" not in got and "Role" not in got


def test_node_without_nid_gets_bogus_nid(client: TestClient) -> None:
    """A node posted without NID gets SMD's computed NID (cab+1)*16384 + ... ."""
    client.post(BASE, json={"Components": [{"ID": "x3c1s2b1n1", "State": "On"}]})
    assert client.get(f"{BASE}/x3c1s2b1n1").json()["NID"] == 4 * 16384 + 1 * 2048 + 2 * 32 + 1 * 4 + 1


def test_post_without_force_skips_existing(client: TestClient) -> None:
    """POST of an existing component without Force changes nothing and still answers 204."""
    client.post(BASE, json={"Components": [{"ID": "x1000c0s0b0n0", "State": "On", "NID": 1}]})
    resp = client.post(BASE, json={"Components": [{"ID": "x1000c0s0b0n0", "State": "Off", "NID": 9}]})
    assert resp.status_code == 204
    got = client.get(f"{BASE}/x1000c0s0b0n0").json()
    assert (got["State"], got["NID"]) == ("On", 1)


def test_force_updates_only_state_fields(client: TestClient) -> None:
    """With Force, State/Flag change but NID, Role and Enabled are kept (why --overwrite needs BulkNID)."""
    client.post(
        BASE, json={"Components": [{"ID": "x1000c0s0b0n0", "State": "On", "NID": 1, "Role": "Service"}]}
    )
    body = {
        "Components": [
            {
                "ID": "x1000c0s0b0n0",
                "State": "Off",
                "Flag": "Alert",
                "NID": 7,
                "Role": "Compute",
                "Enabled": False,
                "Arch": "arm",
            }
        ],
        "Force": True,
    }
    assert client.post(BASE, json=body).status_code == 204
    got = client.get(f"{BASE}/x1000c0s0b0n0").json()
    assert got["State"] == "Off" and got["Flag"] == "Alert" and got["Arch"] == "ARM"
    assert got["NID"] == 1 and got["Role"] == "Service" and got["Enabled"] is True


def test_invalid_component_stores_nothing(client: TestClient) -> None:
    """One invalid component in a batch is a 400 with upstream's text, and none of the batch is stored."""
    body = {"Components": [{"ID": "x1000c0s0b0n0", "State": "On"}, {"ID": "foo", "State": "On"}]}
    resp = client.post(BASE, json=body)
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json() == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "couldn't validate components: xname ID 'foo' is invalid",
    }
    assert client.get(BASE).json() == {"Components": []}


def test_state_is_required(client: TestClient) -> None:
    """A component without State is refused with upstream's message."""
    resp = client.post(BASE, json={"Components": [{"ID": "x1000c0s0b0n0"}]})
    assert resp.status_code == 400
    assert resp.json()["detail"] == "couldn't validate components: state '' is invalid"


def test_empty_list_is_missing_components(client: TestClient) -> None:
    """An empty component list answers 400 Missing Components."""
    resp = client.post(BASE, json={"Components": []})
    assert resp.status_code == 400
    assert resp.json()["detail"] == "Missing Components"


def test_filters_case_insensitive_or_and_negation(client: TestClient) -> None:
    """Query keys ignore case, repeats are OR, '!' negates, trailing slash is tolerated."""
    client.post(BASE, json={"Components": [*scenario_nodes(3), {"ID": "x1000c0s0b0", "State": "Ready"}]})
    client.patch(f"{BASE}/x1000c0s0b1n0/StateData", json={"State": "Off"})
    assert _ids(client.get(f"{BASE}/?TYPE=nodebmc").json()) == ["x1000c0s0b0"]
    assert _ids(client.get(f"{BASE}?type=Node&type=NodeBMC&state=!off").json()) == [
        "x1000c0s0b0",
        "x1000c0s0b0n0",
        "x1000c0s0b2n0",
    ]
    assert _ids(client.get(f"{BASE}?nid_start=2&nid_end=3").json()) == ["x1000c0s0b1n0", "x1000c0s0b2n0"]
    assert client.get(f"{BASE}?type=Node&nidonly=true").json()["Components"][0] == {
        "ID": "x1000c0s0b0n0",
        "NID": 1,
    }


def test_bad_filter_value_is_400(client: TestClient) -> None:
    """An unknown enum value in a filter is a 400, not an empty result."""
    assert client.get(f"{BASE}?state=sideways").status_code == 400


def test_put_patch_delete(client: TestClient) -> None:
    """PUT creates, PATCH endpoints change one field, DELETE removes, each with upstream's status."""
    resp = client.put(f"{BASE}/x1000c0s0b0n0", json={"Component": {"State": "On", "NID": 3}, "Force": True})
    assert resp.status_code == 204
    assert client.patch(f"{BASE}/x1000c0s0b0n0/StateData", json={"State": "Ready"}).status_code == 204
    assert client.patch(f"{BASE}/x1000c0s0b0n0/Enabled", json={"Enabled": False}).status_code == 204
    assert (
        client.patch(f"{BASE}/x1000c0s0b0n0/Role", json={"Role": "service", "SubRole": "worker"}).status_code
        == 204
    )
    assert client.patch(f"{BASE}/x1000c0s0b0n0/NID", json={"NID": 42}).status_code == 204
    assert (
        client.patch(f"{BASE}/x1000c0s0b0n0/SoftwareStatus", json={"SoftwareStatus": "AdminDown"}).status_code
        == 204
    )
    got = client.get(f"{BASE}/x1000c0s0b0n0").json()
    assert got == {
        "ID": "x1000c0s0b0n0",
        "Type": "Node",
        "State": "Ready",
        "Flag": "OK",
        "Enabled": False,
        "SoftwareStatus": "AdminDown",
        "Role": "Service",
        "SubRole": "Worker",
        "NID": 42,
    }
    assert client.get(f"{BASE}/ByNID/42").json()["ID"] == "x1000c0s0b0n0"
    assert client.delete(f"{BASE}/x1000c0s0b0n0").json() == {"code": 0, "message": "deleted 1 entry"}
    missing = client.get(f"{BASE}/x1000c0s0b0n0")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no such xname."


def test_put_id_mismatch(client: TestClient) -> None:
    """PUT with a body ID that differs from the URL is refused."""
    resp = client.put(f"{BASE}/x1000c0s0b0n0", json={"Component": {"ID": "x1000c0s0b1n0", "State": "On"}})
    assert resp.status_code == 400
    assert resp.json()["detail"] == "ID in URL and POST body do not match"


def test_bulk_nid_and_bulk_patches_are_atomic(client: TestClient) -> None:
    """BulkNID sets every NID; a bulk patch naming an unknown component changes nothing."""
    client.post(BASE, json={"Components": scenario_nodes(2)})
    body = {
        "Components": [{"ID": "x1000c0s0b0n0", "Type": "", "NID": 10}, {"ID": "x1000c0s0b1n0", "NID": 11}]
    }
    assert client.patch(f"{BASE}/BulkNID", json=body).status_code == 204
    assert [c["NID"] for c in client.get(BASE).json()["Components"]] == [10, 11]
    bad = {"ComponentIDs": ["x1000c0s0b0n0", "x9c0s0b0n0"], "State": "Off"}
    assert client.patch(f"{BASE}/BulkStateData", json=bad).status_code == 404
    assert client.get(f"{BASE}/x1000c0s0b0n0").json()["State"] == "On"
    good = {"ComponentIDs": ["x1000c0s0b0n0", "x1000c0s0b1n0"], "Enabled": False}
    assert client.patch(f"{BASE}/BulkEnabled", json=good).status_code == 204
    assert client.patch(f"{BASE}/BulkFlagOnly", json={**good, "Flag": "warning"}).status_code == 204
    assert client.patch(f"{BASE}/BulkRole", json={**good, "Role": "Storage"}).status_code == 204
    assert client.patch(f"{BASE}/BulkSoftwareStatus", json={**good, "SoftwareStatus": "x"}).status_code == 204
    comp = client.get(f"{BASE}/x1000c0s0b1n0").json()
    assert (comp["Enabled"], comp["Flag"], comp["Role"], comp["SoftwareStatus"]) == (
        False,
        "Warning",
        "Storage",
        "x",
    )


def test_query_endpoints(client: TestClient) -> None:
    """POST Query by ComponentIDs plus filters, and ByNID/Query by ranges."""
    client.post(BASE, json={"Components": scenario_nodes(5)})
    q = client.post(f"{BASE}/Query", json={"ComponentIDs": ["x1000c0s0b1n0", "x1000c0s0b3n0"], "nid": [2]})
    assert _ids(q.json()) == ["x1000c0s0b1n0"]
    r = client.post(f"{BASE}/ByNID/Query", json={"NIDRanges": ["1-2", "5"]})
    assert _ids(r.json()) == ["x1000c0s0b0n0", "x1000c0s0b1n0", "x1000c0s0b4n0"]
    assert client.post(f"{BASE}/ByNID/Query", json={"NIDRanges": ["4-1"]}).status_code == 400


def test_delete_all(client: TestClient) -> None:
    """DELETE on the collection counts what it deleted; on an empty table it is a 404."""
    client.post(BASE, json={"Components": scenario_nodes(5)})
    assert client.delete(BASE).json() == {"code": 0, "message": "deleted 5 entries"}
    resp = client.delete(BASE)
    assert resp.status_code == 404
    assert resp.json()["detail"] == "no entries to delete"


def test_malformed_json_is_400_and_stores_nothing(client: TestClient) -> None:
    """Malformed JSON answers 400 (upstream answers 500: documented difference)."""
    resp = client.post(BASE, content=b'{"Components": [', headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["detail"].startswith("error decoding JSON")
    assert client.get(BASE).json() == {"Components": []}


def test_wrong_types_are_400(client: TestClient) -> None:
    """A wrong JSON type (NID as an object) is a 400 naming the field."""
    resp = client.post(BASE, json={"Components": [{"ID": "x1000c0s0b0n0", "State": "On", "NID": {"a": 1}}]})
    assert resp.status_code == 400
    assert "NID" in resp.json()["detail"]
