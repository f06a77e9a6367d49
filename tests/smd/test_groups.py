"""Groups, memberships and partitions on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.smd.conftest import scenario_nodes


def _load(client: TestClient) -> None:
    client.post("/hsm/v2/State/Components", json={"Components": scenario_nodes(3)})


def test_group_lifecycle_golden(client: TestClient) -> None:
    """Create, read (lower-camel keys, omitted tags), patch, list labels, delete."""
    _load(client)
    resp = client.post(
        "/hsm/v2/groups",
        json={
            "label": "Compute",
            "description": "The compute group",
            "members": {"ids": ["x1000c0s0b0n0", "x1000c0s0b1n0"]},
        },
    )
    assert resp.status_code == 201
    assert resp.json() == [{"URI": "/hsm/v2/groups/compute"}]
    assert client.get("/hsm/v2/groups/compute").text == (
        '{"label":"compute","description":"The compute group",'
        '"members":{"ids":["x1000c0s0b0n0","x1000c0s0b1n0"]}}\n'
    )
    assert client.patch("/hsm/v2/groups/compute", json={"tags": ["Slurm"]}).status_code == 204
    assert client.get("/hsm/v2/groups?tag=slurm").json()[0]["tags"] == ["slurm"]
    assert client.get("/hsm/v2/groups/labels").json() == ["compute"]
    assert client.delete("/hsm/v2/groups/compute").json() == {"code": 0, "message": "deleted 1 entry"}
    assert client.get("/hsm/v2/groups").json() == []
    missing = client.get("/hsm/v2/groups/compute")
    assert missing.status_code == 404 and missing.json()["detail"] == "No such group: compute"


def test_group_validation(client: TestClient) -> None:
    """Bad labels, unknown members and duplicates are refused and store nothing."""
    _load(client)
    assert client.post("/hsm/v2/groups", json={"label": "bad label"}).status_code == 400
    unknown = client.post("/hsm/v2/groups", json={"label": "g", "members": {"ids": ["x9c0s0b0n0"]}})
    assert unknown.status_code == 400
    assert client.post("/hsm/v2/groups", json={"label": "g", "members": {"ids": ["nope"]}}).status_code == 400
    assert client.get("/hsm/v2/groups").json() == []
    client.post("/hsm/v2/groups", json={"label": "g"})
    dup = client.post("/hsm/v2/groups", json={"label": "g"})
    assert dup.status_code == 409
    assert dup.json()["detail"].startswith("operation would conflict with an existing group")
    assert client.patch("/hsm/v2/groups/g", json={}).status_code == 400
    assert client.patch("/hsm/v2/groups/none", json={"description": "x"}).status_code == 404


def test_members_and_memberships(client: TestClient) -> None:
    """Members can be added, replaced and removed; memberships list each component's groups."""
    _load(client)
    client.post("/hsm/v2/groups", json={"label": "compute"})
    added = client.post("/hsm/v2/groups/compute/members", json={"id": "x1000c0s0b0n0"})
    assert added.status_code == 201
    assert added.json() == [{"URI": "/hsm/v2/groups/compute/members/x1000c0s0b0n0"}]
    assert client.post("/hsm/v2/groups/compute/members", json={"id": "x1000c0s0b0n0"}).status_code == 409
    put = client.put(
        "/hsm/v2/groups/compute/members", json={"group": "compute", "ids": ["x1000c0s0b1n0", "x1000c0s0b2n0"]}
    )
    assert put.status_code == 201
    assert client.get("/hsm/v2/groups/compute/members").json() == {"ids": ["x1000c0s0b1n0", "x1000c0s0b2n0"]}
    assert client.delete("/hsm/v2/groups/compute/members/x1000c0s0b1n0").status_code == 200
    assert client.get("/hsm/v2/memberships/x1000c0s0b2n0").json() == {
        "id": "x1000c0s0b2n0",
        "groupLabels": ["compute"],
        "partitionName": "",
    }
    assert client.get("/hsm/v2/memberships/x9c0s0b0n0").status_code == 404
    assert client.get("/hsm/v2/memberships/garbage").status_code == 400
    listed = client.get("/hsm/v2/memberships?type=Node").json()
    assert [m["id"] for m in listed] == ["x1000c0s0b0n0", "x1000c0s0b1n0", "x1000c0s0b2n0"]
    only = client.get("/hsm/v2/State/Components?group=compute").json()["Components"]
    assert [c["ID"] for c in only] == ["x1000c0s0b2n0"]


def test_deleting_component_leaves_groups(client: TestClient) -> None:
    """A deleted component disappears from every group."""
    _load(client)
    client.post("/hsm/v2/groups", json={"label": "compute", "members": {"ids": ["x1000c0s0b0n0"]}})
    client.delete("/hsm/v2/State/Components/x1000c0s0b0n0")
    assert client.get("/hsm/v2/groups/compute").json()["members"] == {"ids": []}


def test_exclusive_groups(client: TestClient) -> None:
    """A component can be in only one group of an exclusive set."""
    _load(client)
    client.post(
        "/hsm/v2/groups", json={"label": "a", "exclusiveGroup": "x", "members": {"ids": ["x1000c0s0b0n0"]}}
    )
    clash = client.post(
        "/hsm/v2/groups", json={"label": "b", "exclusiveGroup": "x", "members": {"ids": ["x1000c0s0b0n0"]}}
    )
    assert clash.status_code == 409
    assert client.get("/hsm/v2/groups/a").json()["exclusiveGroup"] == "x"


def test_partitions(client: TestClient) -> None:
    """Partitions: CRUD, members, one partition per component, shown in memberships and filters."""
    _load(client)
    resp = client.post("/hsm/v2/partitions", json={"name": "p1", "members": {"ids": ["x1000c0s0b0n0"]}})
    assert resp.status_code == 201
    assert client.post("/hsm/v2/partitions", json={"name": "p1"}).status_code == 409
    taken = client.post("/hsm/v2/partitions", json={"name": "p2", "members": {"ids": ["x1000c0s0b0n0"]}})
    assert taken.status_code == 409
    assert client.post("/hsm/v2/partitions/p1/members", json={"id": "x1000c0s0b1n0"}).status_code == 201
    assert client.get("/hsm/v2/partitions/p1/members").json() == {"ids": ["x1000c0s0b0n0", "x1000c0s0b1n0"]}
    assert client.get("/hsm/v2/memberships/x1000c0s0b1n0").json()["partitionName"] == "p1"
    assert [c["ID"] for c in client.get("/hsm/v2/State/Components?partition=p1").json()["Components"]] == [
        "x1000c0s0b0n0",
        "x1000c0s0b1n0",
    ]
    assert client.patch("/hsm/v2/partitions/p1", json={"description": "first"}).status_code == 204
    assert client.get("/hsm/v2/partitions").json()[0]["description"] == "first"
    assert client.delete("/hsm/v2/partitions/p1/members/x1000c0s0b1n0").status_code == 200
    assert client.delete("/hsm/v2/partitions/p1").status_code == 200
    assert client.get("/hsm/v2/partitions/p1").status_code == 404
