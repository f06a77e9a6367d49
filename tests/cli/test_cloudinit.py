"""`ochami cloud-init ...` on the client side: the request of each command (server e2e tests pending)."""
# ruff: noqa: E501  (tables of test cases read better one case per line)

from __future__ import annotations

import base64

import pytest
import yaml

from tests.cli.conftest import SCENARIO, Ochami
from tests.cli.recorder import Recorder

C = "/cloud-init"
COMPUTES = (SCENARIO / "cloud-init" / "computes.yaml").read_text()
GROUP = {
    "name": "compute",
    "description": "compute config",
    "meta-data": {"role": "compute"},
    "file": {"content": base64.b64encode(COMPUTES.encode()).decode(), "encoding": "base64"},
}


@pytest.fixture
def ci(demo: Ochami) -> Recorder:
    rec = Recorder()
    demo.transport = rec.transport()
    return rec


def test_defaults_set_from_scenario(demo: Ochami, ci: Recorder) -> None:
    """`defaults set -f yaml -d @defaults.yaml` POSTs the file as JSON with a token."""
    r = demo(
        "cloud-init", "defaults", "set", "-f", "yaml", "-d", f"@{SCENARIO / 'cloud-init' / 'defaults.yaml'}"
    )
    assert (r.exit_code, r.stdout) == (0, "")
    (call,) = ci.calls
    assert (call.method, call.path) == ("POST", f"{C}/admin/cluster-defaults")
    assert call.body["cluster-name"] == "demo"
    assert call.body["nid-length"] == 3
    assert call.auth is not None


def test_defaults_get(demo: Ochami, ci: Recorder) -> None:
    """defaults get prints the answer in the chosen format."""
    ci.answer("GET", f"{C}/admin/cluster-defaults", body={"cluster-name": "demo", "short-name": "nid"})
    assert (
        demo("cloud-init", "defaults", "get", "-F", "yaml").stdout == "cluster-name: demo\nshort-name: nid\n"
    )


def test_group_add_and_set(demo: Ochami, ci: Recorder) -> None:
    """add POSTs each group of the list; set PUTs each to /admin/groups/{name}."""
    payload = yaml.safe_dump([GROUP, {**GROUP, "name": "login"}])
    assert demo("cloud-init", "group", "add", "-f", "yaml", "-d", payload).exit_code == 0
    assert [(c.method, c.path) for c in ci.calls] == [("POST", f"{C}/admin/groups")] * 2
    ci.calls.clear()
    assert demo("cloud-init", "group", "set", "-f", "yaml", "-d", payload).exit_code == 0
    assert [(c.method, c.path) for c in ci.calls] == [
        ("PUT", f"{C}/admin/groups/compute"), ("PUT", f"{C}/admin/groups/login"),
    ]  # fmt: skip
    assert ci.calls[0].body == GROUP
    r = demo("cloud-init", "group", "set", "-d", '[{"description":"x"}]')
    assert r.exit_code == 1
    assert "every group needs a 'name'" in r.stderr


def test_group_add_conflict_reported(demo: Ochami, ci: Recorder) -> None:
    """A 409 from the server is reported with its text and exit 1."""
    ci.answer("POST", f"{C}/admin/groups", 409, text="group 'compute' not added as it already exists")
    r = demo("cloud-init", "group", "add", "-d", '[{"name":"compute"}]')
    assert r.exit_code == 1
    assert "409 Conflict: group 'compute' not added as it already exists" in r.stderr


def test_group_get_raw_meta_and_config(demo: Ochami, ci: Recorder) -> None:
    """get raw turns the map into a list; meta-data picks the field; config decodes base64 content."""
    ci.answer("GET", f"{C}/admin/groups", body={"login": {**GROUP, "name": "login"}, "compute": GROUP})
    ci.answer("GET", f"{C}/admin/groups/compute", body=GROUP)
    r = demo("cloud-init", "group", "get", "raw")
    assert [g["name"] for g in yaml.safe_load(r.stdout)] == ["compute", "login"]
    assert demo("cloud-init", "group", "get", "meta-data", "compute").stdout == '[{"role":"compute"}]\n'
    r = demo("cloud-init", "group", "get", "config", "compute")
    assert r.stdout == COMPUTES
    r = demo("cloud-init", "group", "get", "config")
    assert r.stdout == f"# group: compute\n{COMPUTES}# group: login\n{COMPUTES}"
    r = demo("cloud-init", "group", "get", "config", "--headers", "never")
    assert r.stdout == COMPUTES * 2


def test_group_delete(demo: Ochami, ci: Recorder) -> None:
    """delete needs confirmation, then DELETEs each group."""
    assert demo("cloud-init", "group", "delete", "compute").exit_code == 1
    assert demo("cloud-init", "group", "delete", "--no-confirm", "compute", "login").exit_code == 0
    assert [(c.method, c.path) for c in ci.calls] == [
        ("DELETE", f"{C}/admin/groups/compute"), ("DELETE", f"{C}/admin/groups/login"),
    ]  # fmt: skip


def test_group_render_and_node_raw_gets(demo: Ochami, ci: Recorder) -> None:
    """render and node get user-data|vendor-data|group print the impersonated documents verbatim."""
    vendor = "#include\nhttp://172.16.0.254:8081/cloud-init/compute.yaml\n"
    ci.answer("GET", f"{C}/admin/impersonation/x1000c0s0b0n0/vendor-data", text=vendor)
    ci.answer("GET", f"{C}/admin/impersonation/x1000c0s0b0n0/user-data", text="#cloud-config")
    ci.answer("GET", f"{C}/admin/impersonation/x1000c0s0b0n0/compute.yaml", text=COMPUTES)
    assert demo("cloud-init", "node", "get", "vendor-data", "x1000c0s0b0n0").stdout == vendor
    assert demo("cloud-init", "node", "get", "user-data", "x1000c0s0b0n0").stdout == "#cloud-config\n"
    assert demo("cloud-init", "node", "get", "group", "x1000c0s0b0n0", "compute").stdout == COMPUTES


def test_node_get_meta_data_is_a_list(demo: Ochami, ci: Recorder) -> None:
    """node get meta-data parses each node's YAML and prints a list, one element per node."""
    for i in range(2):
        ci.answer(
            "GET", f"{C}/admin/impersonation/x1000c0s0b{i}n0/meta-data",
            text=f"hostname: nid00{i + 1}\ncluster-name: demo\n",
        )  # fmt: skip
    r = demo("cloud-init", "node", "get", "meta-data", "x1000c0s0b[0-1]n0", "-F", "yaml")
    assert yaml.safe_load(r.stdout) == [
        {"hostname": "nid001", "cluster-name": "demo"}, {"hostname": "nid002", "cluster-name": "demo"},
    ]  # fmt: skip


def test_node_set(demo: Ochami, ci: Recorder) -> None:
    """node set PUTs each item to /admin/instance-info/{id}."""
    r = demo("cloud-init", "node", "set", "-d", '[{"id":"x1000c0s0b0n0","local-hostname":"compute1"}]')
    assert r.exit_code == 0
    assert (ci.calls[0].method, ci.calls[0].path) == ("PUT", f"{C}/admin/instance-info/x1000c0s0b0n0")
    assert ci.calls[0].body == {"id": "x1000c0s0b0n0", "local-hostname": "compute1"}
    assert "every item needs an 'id'" in demo("cloud-init", "node", "set", "-d", "[{}]").stderr


def test_service_status_and_version(demo: Ochami, ci: Recorder) -> None:
    """status prints 'cloud-init is running' (or nothing with -q); --api checks /openapi.json; version prints."""
    ci.answer("GET", f"{C}/version", body={"process_name": "pychami"})
    assert demo("cloud-init", "service", "status").stdout == "cloud-init is running\n"
    assert demo("cloud-init", "service", "status", "-q").stdout == ""
    assert demo("cloud-init", "service", "status", "--api").exit_code == 0
    assert ci.calls[-1].path == f"{C}/openapi.json"
    assert demo("cloud-init", "service", "version").stdout == '{"process_name":"pychami"}\n'
    assert all(c.auth is None for c in ci.calls)
    ci.answer("GET", f"{C}/version", 503, text="down")
    r = demo("cloud-init", "service", "status")
    assert r.exit_code == 1
    assert "503 Service Unavailable: down" in r.stderr


META = (
    "cluster-name: demo\nhostname: nid001\nlocal-hostname: nid001\ninstance_data:\n  v1:\n"
    "    public_keys:\n    - ssh-ed25519 AAAA admin@demo\n"
)


def test_group_render_is_local(demo: Ochami, ci: Recorder) -> None:
    """render fetches the group and the node's meta-data, and renders the Jinja template here."""
    ci.answer("GET", f"{C}/admin/groups/compute", body=GROUP)
    ci.answer("GET", f"{C}/admin/impersonation/x1000c0s0b0n0/meta-data", text=META)
    r = demo("cloud-init", "group", "render", "compute", "x1000c0s0b0n0")
    assert r.exit_code == 0, r.output
    assert r.stdout == COMPUTES.replace("## template: jinja\n", "").replace(
        "{{ ds.meta_data.instance_data.v1.public_keys }}", "['ssh-ed25519 AAAA admin@demo']"
    )
    assert [c.path for c in ci.calls] == [
        f"{C}/admin/groups/compute", f"{C}/admin/impersonation/x1000c0s0b0n0/meta-data",
    ]  # fmt: skip
