"""A real client: Debian's cloud-init package fetches, parses and renders our documents over HTTP."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pychami.cloudinit.render import render_group_config
from pychami.core.db import Database
from tests.cloudinit.conftest import compute_group, make_app, scenario_defaults, scenario_nodes, serve

SYSTEM_PYTHON = "/usr/bin/python3"
CLIENT = Path(__file__).parent / "nocloud_client.py"


def _cloud_init_client(seed: str, out: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [SYSTEM_PYTHON, str(CLIENT), seed, str(out)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@pytest.fixture
def client_result(tmp_path: Path, db: Database) -> dict[str, Any]:
    """Node 1 owns 127.0.0.1 here, so cloud-init's own HTTP code connects as that node unmodified."""
    nodes = scenario_nodes(lambda nid: "127.0.0.1" if nid == 1 else None)
    app = make_app(tmp_path, db, nodes=nodes)
    with serve(app) as live, live.admin() as admin:
        defaults = {**scenario_defaults(), "base-url": f"{live.url}/cloud-init"}
        assert admin.post("/cloud-init/admin/cluster-defaults", json=defaults).status_code == 201
        assert admin.put("/cloud-init/admin/groups/compute", json=compute_group()).status_code == 201
        result = _cloud_init_client(f"{live.url}/cloud-init/", tmp_path)
        result["server_meta_data"] = admin.get("/cloud-init/admin/impersonation/x1000c0s0b0n0/meta-data").text
        result["host_keys"] = admin.get("/cloud-init/admin/phone-home/x1000c0s0b0n0").json()
        result["base"] = live.url
    return result


def test_cloud_init_parses_our_seed(client_result: dict[str, Any]) -> None:
    """cloud-init's NoCloud seed reader parses meta-data into the documented structure and follows
    vendor-data's #include to fetch the compute group config as a Jinja part."""
    md = client_result["meta_data"]
    assert md["instance-id"].startswith("i-")
    assert md["local-hostname"] == "nid001"
    assert md["cluster-name"] == "demo"
    assert md["instance_data"]["v1"]["public_keys"] == scenario_defaults()["public-keys"]
    assert md["instance_data"]["v1"]["vendor_data"]["groups"] == {
        "compute": {"Description": "compute config"}
    }
    assert client_result["user_data"] == "#cloud-config"
    assert client_result["vendor_data"] == f"#include\n{client_result['base']}/cloud-init/compute.yaml\n"
    [part] = client_result["parts"]
    assert part["type"] == "text/jinja2"
    assert part["payload"].startswith("## template: jinja\n#cloud-config\n")


def test_cloud_init_schema_accepts_rendered_group_config(client_result: dict[str, Any]) -> None:
    """The config rendered by cloud-init itself passes `cloud-init schema -c`, and our local renderer
    (for `ochami cloud-init group render`) gives the same text."""
    [part] = client_result["parts"]
    rendered = Path(part["rendered_path"])
    proc = subprocess.run(
        ["cloud-init", "schema", "-c", str(rendered)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Valid cloud-config" in proc.stdout
    ours = render_group_config(part["payload"], client_result["meta_data"])
    assert ours == rendered.read_text()
    assert "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests admin@demo" in ours


def test_cloud_init_phone_home_is_recorded(client_result: dict[str, Any]) -> None:
    """A phone-home posted by cloud-init's URL helper is answered 200 and its host key stored."""
    assert client_result["phone_home_status"] == 200
    assert client_result["host_keys"]["pub_key_ed25519"] == "ssh-ed25519 AAAAHOSTKEY root@node"
    assert client_result["host_keys"]["ip"] == "127.0.0.1"


def test_cloud_init_schema_check_can_fail(tmp_path: Path) -> None:
    """The schema check above is meaningful: cloud-init refuses a config of the wrong shape."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("#cloud-config\nusers: 5\n")
    proc = subprocess.run(
        ["cloud-init", "schema", "-c", str(bad)], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
