"""Group defaults (our addition): precedence MAC > xname > NID > group, shown by GET ?name=."""

from __future__ import annotations

from fastapi.testclient import TestClient

URL = "/boot/v1/bootparameters"
NODE = "x1000c1s2b0n0"  # nid 12, MACs :12 and :13, groups login + compute


def kernel_of(client: TestClient, query: str) -> str:
    text = client.get(f"/boot/v1/bootscript?{query}").text
    assert text.startswith("#!ipxe\nkernel --name kernel "), text
    return text.split()[4]


def source_of(client: TestClient, name: str) -> dict[str, str]:
    resp = client.get(f"{URL}?name={name}")
    assert resp.status_code == 200, resp.text
    (obj,) = resp.json()
    assert obj["hosts"] == [name]
    src: dict[str, str] = obj["source"]
    return src


def test_group_defaults_boot_every_member(admin: TestClient, node_client: TestClient) -> None:
    """Params set on an SMD group label boot each member that has nothing more specific."""
    assert admin.post(URL, json={"groups": ["compute"], "kernel": "http://group"}).status_code == 201
    for mac in ("52:54:00:be:ef:01", "52:54:00:be:ef:05", "52:54:00:00:00:12"):
        assert kernel_of(node_client, f"mac={mac}") == "http://group"
    assert node_client.get("/boot/v1/bootscript?mac=52:54:00:00:00:14&ts=1").text.startswith("#!ipxe\nsleep")


def test_precedence_mac_over_xname_over_nid_over_group(admin: TestClient, node_client: TestClient) -> None:
    """Each more specific source overrides the less specific ones, and removing it reveals the next."""
    admin.post(URL, json={"groups": ["compute"], "kernel": "http://group"})
    assert source_of(admin, NODE) == {"kind": "group", "key": "compute"}
    admin.post(URL, json={"nids": [12], "kernel": "http://nid"})
    assert kernel_of(node_client, f"name={NODE}") == "http://nid"
    assert source_of(admin, NODE) == {"kind": "nid", "key": "12"}
    admin.post(URL, json={"hosts": [NODE], "kernel": "http://xname"})
    assert kernel_of(node_client, "nid=12") == "http://xname"
    assert source_of(admin, NODE) == {"kind": "xname", "key": NODE}
    admin.post(URL, json={"macs": ["52:54:00:00:00:13"], "kernel": "http://mac"})
    assert kernel_of(node_client, "mac=52:54:00:00:00:12") == "http://mac"
    assert source_of(admin, NODE) == {"kind": "mac", "key": "52:54:00:00:00:13"}
    admin.request("DELETE", URL, json={"macs": ["52:54:00:00:00:13"], "hosts": [NODE], "nids": [12]})
    assert kernel_of(node_client, "mac=52:54:00:00:00:13") == "http://group"


def test_requesting_mac_wins_over_other_macs(admin: TestClient, node_client: TestClient) -> None:
    """With params on two MACs of one node, the MAC that asked decides."""
    admin.post(URL, json={"macs": ["52:54:00:00:00:12"], "kernel": "http://twelve"})
    admin.post(URL, json={"macs": ["52:54:00:00:00:13"], "kernel": "http://thirteen"})
    assert kernel_of(node_client, "mac=52:54:00:00:00:13") == "http://thirteen"
    assert kernel_of(node_client, "mac=52:54:00:00:00:12") == "http://twelve"


def test_groups_apply_in_label_order(admin: TestClient, node_client: TestClient) -> None:
    """A node in two configured groups takes the first label in sort order."""
    admin.post(URL, json={"groups": ["login"], "kernel": "http://login"})
    admin.post(URL, json={"groups": ["compute"], "kernel": "http://compute"})
    assert kernel_of(node_client, f"name={NODE}") == "http://compute"


def test_group_entries_listed_and_filterable(admin: TestClient) -> None:
    """GET shows group entries under "groups" and filters them with group=."""
    admin.post(URL, json={"groups": ["compute"], "kernel": "http://group"})
    assert admin.get(URL).json()[0]["groups"] == ["compute"]
    assert admin.get(f"{URL}?group=compute").json()[0]["kernel"] == "http://group"
    resp = admin.get(f"{URL}?group=login")
    assert resp.status_code == 404
    assert resp.json()["detail"] == "Cannot find boot parameters for requested groups"


def test_name_without_smd_node_uses_its_xname_entry(admin: TestClient) -> None:
    """GET ?name= of an xname SMD does not know still finds its own entry."""
    admin.post(URL, json={"hosts": ["x3000c0s0b0n0"], "kernel": "http://x"})
    assert source_of(admin, "x3000c0s0b0n0") == {"kind": "xname", "key": "x3000c0s0b0n0"}


def test_update_and_delete_groups(admin: TestClient, node_client: TestClient) -> None:
    """Group entries follow the same PATCH / DELETE rules as node entries."""
    admin.post(URL, json={"groups": ["compute"], "kernel": "http://group"})
    assert admin.patch(URL, json={"groups": ["compute"], "kernel": "http://group2"}).status_code == 200
    assert kernel_of(node_client, "mac=52:54:00:be:ef:01") == "http://group2"
    resp = admin.patch(URL, json={"groups": ["login"], "kernel": "http://x"})
    assert resp.status_code == 404
    assert resp.json()["detail"].endswith("groups=[login]")
    admin.request("DELETE", URL, json={"groups": ["compute"]})
    assert admin.get(URL).text == "null\n"
