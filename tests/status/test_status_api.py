"""``/boot-events/v1`` and ``pychami status``: a node's timeline from real requests, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.cli.pychami import main
from pychami.core.storage import LocalObjectStore
from tests.conftest import issue

XNAME, MAC, IP = "x1000c0s0b0n0", "52:54:00:be:ef:01", "172.16.0.1"
KERNEL = "efi-images/compute/debug/vmlinuz-6.1.0-test"


@pytest.fixture
def booted(app: FastAPI, client: TestClient, tmp_path: Path) -> FastAPI:
    """Node 1 in SMD with boot parameters, a DHCP exchange recorded as the netboot daemon does, then
    its boot script and kernel fetched over HTTP (so BSS and the boot-file route record their stages)."""
    assert client.post(
        "/hsm/v2/State/Components", json={"Components": [{"ID": XNAME, "State": "On", "NID": 1}]}
    ).is_success
    iface = {"MACAddress": MAC, "ComponentID": XNAME, "IPAddresses": [{"IPAddress": IP}]}
    assert client.post("/hsm/v2/Inventory/EthernetInterfaces", json=iface).is_success
    params = {
        "macs": [MAC],
        "kernel": f"http://h/boot-images/{KERNEL}",
        "initrd": "http://h/i",
        "params": "x",
    }
    assert client.post("/boot/v1/bootparameters", json=params).is_success
    blob = tmp_path / "kernel"
    blob.write_bytes(b"k" * 1000)
    LocalObjectStore(app.state.ctx.settings.data_dir / "objects", "boot-images").put_file(KERNEL, blob)
    record = app.state.ctx.events.record
    for stage in ("dhcp_discover", "dhcp_offer", "dhcp_request", "dhcp_ack"):
        record(stage, "netboot", xname=XNAME, mac=MAC, ip=IP, detail={"client": "ipxe"})
    with TestClient(app, client=(IP, 40000)) as node:  # the node's own address, as on the boot network
        assert node.get("/boot/v1/bootscript", params={"mac": MAC}).status_code == 200
        assert node.get(f"/boot-images/{KERNEL}").status_code == 200
    return app


def test_node_timeline_by_xname_mac_and_nid(booted: FastAPI, client: TestClient) -> None:
    """The node's document names the stages reached (iPXE DHCP, boot script, kernel) and the last one."""
    doc = client.get(f"/boot-events/v1/nodes/{XNAME}").json()
    reached = [s["stage"] for s in doc["stages"] if s["reached"]]
    assert reached == ["DHCP (iPXE)", "boot script", "kernel"]
    assert doc["xname"] == XNAME and doc["last_stage"] == "kernel" and doc["complete"] is False
    assert [e["stage"] for e in doc["events"]] == [
        "dhcp_discover", "dhcp_offer", "dhcp_request", "dhcp_ack", "bootscript", "kernel",
    ]  # fmt: skip
    for ident in (MAC, MAC.upper().replace(":", "-"), "1", "nid001"):
        same = client.get(f"/boot-events/v1/nodes/{ident}").json()
        assert same["xname"] == XNAME and same["last_stage"] == "kernel", ident


def test_unknown_node_is_404_and_auth_is_required(
    booted: FastAPI, client: TestClient, anon: TestClient
) -> None:
    """Unknown nodes get a problem document; the API needs a token with smd:read."""
    missing = client.get("/boot-events/v1/nodes/x9999c0s0b0n0")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert anon.get(f"/boot-events/v1/nodes/{XNAME}").status_code == 401
    bss_only = {"Authorization": f"Bearer {issue(booted, 'bss:read')}"}
    assert anon.get(f"/boot-events/v1/nodes/{XNAME}", headers=bss_only).status_code == 403
    smd_read = {"Authorization": f"Bearer {issue(booted, 'smd:read')}"}
    assert anon.get(f"/boot-events/v1/nodes/{XNAME}", headers=smd_read).status_code == 200


def test_cluster_summary(booted: FastAPI, client: TestClient) -> None:
    """GET /nodes lists every node of the window with its last stage and counts nodes per stage."""
    booted.state.ctx.events.record(
        "dhcp_ack", "netboot", mac="52:54:00:00:00:99", detail={"client": "firmware"}
    )
    doc = client.get("/boot-events/v1/nodes", params={"since": "1h"}).json()
    rows = {n["xname"]: n for n in doc["nodes"]}
    assert rows[XNAME]["last_stage"] == "kernel" and rows[XNAME]["complete"] is False
    assert rows["52:54:00:00:00:99"]["last_stage"] == "DHCP (firmware)"
    assert doc["last_stages"] == {"DHCP (firmware)": 1, "kernel": 1}
    bad = client.get("/boot-events/v1/nodes", params={"since": "soon"})
    assert bad.status_code == 400 and "since" in bad.json()["detail"]


def test_pychami_status_command(booted: FastAPI, db_url: str) -> None:
    """`pychami status` reads the same database: a table with the stages, JSON equal to the API's."""
    data_dir = str(booted.state.ctx.settings.data_dir)
    booted.state.ctx.events.flush()
    runner = CliRunner()
    table = runner.invoke(main, ["status", XNAME, "--data-dir", data_dir, "--db", db_url])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith(f"{XNAME}: latest boot started ")
    assert any(line.startswith("boot script ") and IP in line for line in lines)
    assert any(line.split() == ["TFTP", "-"] for line in lines)
    assert lines[-1].startswith("last stage: kernel; last event kernel ")
    assert lines[-1].endswith(
        "not reached since: initrd, DHCP (OS), root image, cloud-init meta-data, phone-home"
    )
    as_json = runner.invoke(main, ["status", MAC, "--data-dir", data_dir, "--db", db_url, "-F", "json"])
    assert json.loads(as_json.output)["last_stage"] == "kernel"
    summary = runner.invoke(main, ["status", "--data-dir", data_dir, "--db", db_url])
    assert summary.exit_code == 0
    assert summary.output.splitlines()[-1] == "1 nodes: 1 at kernel"
    missing = runner.invoke(main, ["status", "x9c0s0b0n0", "--data-dir", data_dir, "--db", db_url])
    assert missing.exit_code != 0
    assert "no such node and no boot events for it: x9c0s0b0n0" in missing.output


def test_status_of_a_fresh_data_dir_says_what_to_do(tmp_path: Path) -> None:
    """A database without pychami's schema is an error naming the command that fixes it."""
    result = CliRunner().invoke(main, ["status", "--data-dir", str(tmp_path / "new")])
    assert result.exit_code != 0
    assert "pychami db upgrade" in result.output
