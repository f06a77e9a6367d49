"""Admin routes: cluster defaults, groups CRUD, instance-info, impersonation, scopes (both databases)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.cloudinit.conftest import GOLDEN, compute_group, scenario_defaults
from tests.conftest import issue

A = "/cloud-init/admin"


@pytest.fixture
def admin(ci_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(ci_app) as c:
        c.headers["Authorization"] = f"Bearer {issue(ci_app, 'cloud-init:write')}"
        yield c


def _load_scenario(c: TestClient) -> None:
    assert c.post(f"{A}/cluster-defaults", json=scenario_defaults()).status_code == 201
    assert c.put(f"{A}/groups/compute", json=compute_group()).status_code == 201


def test_checkpoint_4_impersonated_documents(admin: TestClient) -> None:
    """`ochami cloud-init node get meta-data|vendor-data x1000c0s0b0n0` after the scenario's setup:
    hostname nid001, cluster name, public keys, compute group; #include of compute.yaml."""
    _load_scenario(admin)
    md = admin.get(f"{A}/impersonation/x1000c0s0b0n0/meta-data")
    assert md.status_code == 200
    assert md.headers["content-type"] == "application/x-yaml"
    assert md.text == (GOLDEN / "meta-data-x1000c0s0b0n0.yaml").read_text()
    vd = admin.get(f"{A}/impersonation/x1000c0s0b0n0/vendor-data")
    assert vd.text == "#include\nhttp://172.16.0.254:8081/cloud-init/compute.yaml\n"
    assert admin.get(f"{A}/impersonation/x1000c0s0b0n0/user-data").text == "#cloud-config"
    group = admin.get(f"{A}/impersonation/x1000c0s0b0n0/compute.yaml")
    assert group.text == compute_group_text()
    missing = admin.get(f"{A}/impersonation/x9999c0s0b0n0/meta-data")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "Node not found in SMD. Instance-data not available"


def compute_group_text() -> str:
    return base64.b64decode(compute_group()["file"]["content"]).decode()


def test_cluster_defaults_merge(admin: TestClient) -> None:
    """POST merges: only non-empty fields overwrite, base-url loses its trailing slash, GET omits empties."""
    assert admin.get(f"{A}/cluster-defaults").json() == {}
    _load_scenario(admin)
    resp = admin.post(
        f"{A}/cluster-defaults", json={"region": "r1", "cluster-name": "", "base-url": "http://x/ci/"}
    )
    assert resp.status_code == 201
    assert resp.content == b""
    got = admin.get(f"{A}/cluster-defaults").json()
    assert got["cluster-name"] == "demo"
    assert got["region"] == "r1"
    assert got["base-url"] == "http://x/ci"
    assert list(got) == ["region", "cluster-name", "public-keys", "base-url", "short-name", "nid-length"]
    bad = admin.post(
        f"{A}/cluster-defaults", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400


def test_groups_crud(admin: TestClient) -> None:
    """POST 201 + Location, duplicate 409, GET one and all, PUT replaces, DELETE is idempotent, 404 after."""
    body = {"name": "io", "description": "io nodes", "meta-data": {"syslog": "10.0.0.1"}}
    resp = admin.post(f"{A}/groups", json=body)
    assert resp.status_code == 201
    assert resp.headers["location"] == "/groups/io"
    dup = admin.post(f"{A}/groups", json=body)
    assert dup.status_code == 409
    assert dup.json()["detail"] == "group 'io' not added as it already exists"
    assert admin.get(f"{A}/groups/io").json() == {**body, "file": {"content": "", "filename": ""}}
    assert admin.post(f"{A}/groups", json={"description": "x"}).status_code == 422
    put = admin.put(
        f"{A}/groups/io",
        json={"name": "ignored", "file": {"content": "#cloud-config\n", "encoding": "plain"}},
    )
    assert put.status_code == 201
    assert put.headers["location"] == "/groups/io"
    all_groups = admin.get(f"{A}/groups")
    assert all_groups.text.startswith('{\n\t"io": {\n\t\t"name": "io",')
    assert all_groups.json() == {
        "io": {"name": "io", "file": {"content": "#cloud-config\n", "filename": "", "encoding": "plain"}}
    }
    assert admin.delete(f"{A}/groups/io").status_code == 200
    assert admin.delete(f"{A}/groups/io").status_code == 200
    assert admin.get(f"{A}/groups/io").status_code == 404
    assert admin.get(f"{A}/groups").text == "{}"


def test_invalid_group_config_stores_nothing(admin: TestClient) -> None:
    """A config that fails validation answers 400 with the reason and neither creates nor replaces."""
    _load_scenario(admin)
    bad = {"name": "compute", "file": {"content": "users: []\n", "encoding": "plain"}}
    resp = admin.put(f"{A}/groups/compute", json=bad)
    assert resp.status_code == 400
    assert "#cloud-config" in resp.json()["detail"]
    expected = compute_group()
    expected["file"]["filename"] = ""
    assert admin.get(f"{A}/groups/compute").json() == expected
    resp = admin.post(f"{A}/groups", json={**bad, "name": "new"})
    assert resp.status_code == 400
    assert admin.get(f"{A}/groups/new").status_code == 404


def test_instance_info_overrides_and_keeps_instance_id(admin: TestClient) -> None:
    """PUT instance-info 201; the node's meta-data uses it; the instance-id survives later PUTs."""
    _load_scenario(admin)
    before = yaml.safe_load(admin.get(f"{A}/impersonation/x1000c0s0b0n0/meta-data").text)
    resp = admin.put(
        f"{A}/instance-info/x1000c0s0b0n0", json={"id": "x1000c0s0b0n0", "local-hostname": "compute1"}
    )
    assert resp.status_code == 201
    md = yaml.safe_load(admin.get(f"{A}/impersonation/x1000c0s0b0n0/meta-data").text)
    assert md["local-hostname"] == "compute1"
    assert md["hostname"] == "nid001"
    assert md["instance-id"] == before["instance-id"]
    admin.put(f"{A}/instance-info/x1000c0s0b0n0", json={"instance-id": "i-deadbeef"})
    admin.put(f"{A}/instance-info/x1000c0s0b0n0", json={"hostname": "h"})
    info = admin.get(f"{A}/instance-info/x1000c0s0b0n0").json()
    assert info == {"id": "x1000c0s0b0n0", "instance-id": "i-deadbeef", "hostname": "h"}
    assert admin.put(f"{A}/instance-info/x1", json={"cloud-init-base-url": "ftp://x"}).status_code == 400


def test_scopes_are_enforced(ci_app: FastAPI) -> None:
    """No token 401, read scope cannot write (403), read scope reads; node routes need no token."""
    with TestClient(ci_app) as c:
        assert c.get(f"{A}/cluster-defaults").status_code == 401
        reader = {"Authorization": f"Bearer {issue(ci_app, 'cloud-init:read')}"}
        other = {"Authorization": f"Bearer {issue(ci_app, 'bss:write')}"}
        assert c.get(f"{A}/cluster-defaults", headers=reader).status_code == 200
        assert c.get(f"{A}/impersonation/x1000c0s0b0n0/meta-data", headers=reader).status_code == 200
        assert c.post(f"{A}/cluster-defaults", json={}, headers=reader).status_code == 403
        assert c.get(f"{A}/groups", headers=other).status_code == 403
        assert c.get("/cloud-init/user-data").text == "#cloud-config"
        assert c.get("/cloud-init/version").json()["process_name"]


def test_openapi_lists_node_and_admin_routes(ci_app: FastAPI) -> None:
    """`ochami cloud-init service status --api` gets a document naming node-facing and admin paths."""
    with TestClient(ci_app) as c:
        paths = c.get("/cloud-init/openapi.json").json()["paths"]
    for path in ("/cloud-init/meta-data", "/cloud-init/{group}.yaml", "/cloud-init/admin/groups/{name}"):
        assert path in paths
    assert not [p for p in paths if not p.startswith("/cloud-init")]


def test_json_bodies_are_read_whatever_the_content_type(admin: TestClient) -> None:
    """`curl -d '{...}'` sends form-urlencoded; the body is still read as JSON, as upstream does."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    resp = admin.post(f"{A}/cluster-defaults", content=b'{"cluster-name":"demo"}', headers=form)
    assert resp.status_code == 201
    assert admin.get(f"{A}/cluster-defaults").json() == {"cluster-name": "demo"}
    bad = admin.post(f"{A}/cluster-defaults", content=b"cluster-name=demo", headers=form)
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("error decoding JSON")
