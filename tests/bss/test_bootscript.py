"""``GET /boot/v1/bootscript``: golden iPXE scripts for every branch, through the real app."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bss.conftest import boot_debug, golden

SCRIPT_TYPE = "text/plain; charset=UTF-8"


def put(admin: TestClient, body: dict[str, Any]) -> None:
    resp = admin.put("/boot/v1/bootparameters", json=body)
    assert resp.status_code == 200, resp.text


@pytest.fixture
def scenario(admin: TestClient) -> TestClient:
    """The scenario's checkpoint: boot-debug.yaml set for the five MACs."""
    put(admin, boot_debug())
    return admin


def script(client: TestClient, query: str) -> str:
    resp = client.get(f"/boot/v1/bootscript?{query}")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == SCRIPT_TYPE
    return resp.text


def test_known_node_by_mac_matches_golden(scenario: TestClient, node_client: TestClient) -> None:
    """Checkpoint 3: by MAC, the stored params get initrd=initrd, xname=, nid= and BOOTIF= (ds= kept)."""
    assert script(node_client, "mac=52:54:00:be:ef:01") == golden("known_by_mac.ipxe")


def test_known_node_by_name_chains_with_its_mac(scenario: TestClient, node_client: TestClient) -> None:
    """By xname a MAC-keyed node is still found through SMD; no BOOTIF=, the chain uses its MAC."""
    assert script(node_client, "name=x1000c0s0b2n0") == golden("known_by_name.ipxe")


def test_known_node_by_nid(scenario: TestClient, node_client: TestClient) -> None:
    """By NID the node is resolved through SMD and gets the same script as by name."""
    assert script(node_client, "nid=5") == golden("known_by_nid.ipxe")


def test_retry_counter_increments(scenario: TestClient, node_client: TestClient) -> None:
    """retry=N chains to retry=N+1, without a limit."""
    assert script(node_client, "mac=52:54:00:be:ef:02&retry=7") == golden("retry_counter.ipxe")


def test_upper_case_mac_request_is_echoed_in_chain(scenario: TestClient, node_client: TestClient) -> None:
    """MACs compare case-insensitively; the chain repeats the MAC as the node sent it."""
    text = script(node_client, "mac=52:54:00:BE:EF:01")
    assert "BOOTIF=01-52-54-00-be-ef-01" in text
    assert "bootscript?mac=52:54:00:BE:EF:01&retry=1" in text


def test_params_with_xname_and_ds_are_not_appended_again(admin: TestClient, node_client: TestClient) -> None:
    """Tokens already starting with xname= or ds= are kept and not added a second time."""
    put(
        admin,
        {
            "macs": ["52:54:00:be:ef:01"],
            "kernel": "http://10.0.0.1/vmlinuz",
            "initrd": "http://10.0.0.1/initrd.img",
            "params": "quiet xname=custom ds=nocloud;s=http://10.0.0.1/ci/",
        },
    )
    assert script(node_client, "mac=52:54:00:be:ef:01") == golden("preset_xname_ds.ipxe")


def test_no_initrd_means_no_initrd_line(admin: TestClient, node_client: TestClient) -> None:
    """Without an initrd there is no initrd line and no initrd=initrd; the default ds= is appended."""
    put(
        admin,
        {"hosts": ["x1000c0s0b0n0"], "kernel": "http://10.0.0.1/vmlinuz", "params": "console=ttyS0,115200"},
    )
    assert script(node_client, "mac=52:54:00:be:ef:01") == golden("no_initrd.ipxe")


def test_initrd_token_in_params_is_replaced(admin: TestClient, node_client: TestClient) -> None:
    """An initrd=... token in the params gives way to initrd=initrd at the front."""
    put(
        admin,
        {
            "nids": [1],
            "kernel": "http://10.0.0.1/vmlinuz",
            "initrd": "http://10.0.0.1/initrd.img",
            "params": "initrd=old.img quiet",
        },
    )
    assert script(node_client, "mac=52:54:00:be:ef:01") == golden("initrd_token_replaced.ipxe")


def test_unknown_mac_first_try(node_client: TestClient) -> None:
    """An unknown MAC is told to sleep and chain back with arch=${buildarch} and the timestamp."""
    assert script(node_client, "mac=52:54:00:00:00:99&ts=1700000000") == golden("unknown_mac.ipxe")


def test_unknown_name_first_try(node_client: TestClient) -> None:
    """An unknown xname chains back with name=."""
    assert script(node_client, "name=x9000c0s0b0n0&ts=1700000000") == golden("unknown_name.ipxe")


def test_unknown_nid_first_try(node_client: TestClient) -> None:
    """An unknown NID chains back with nid=."""
    assert script(node_client, "nid=777&ts=1700000000") == golden("unknown_nid.ipxe")


def test_known_component_without_params_is_unknown(node_client: TestClient) -> None:
    """An SMD node without boot parameters, asked by NID, gets the unknown script with the MAC SMD knows."""
    assert script(node_client, "nid=12&ts=1700000000") == golden("unknown_nid_known_component.ipxe")


def test_unknown_without_ts_uses_current_time(node_client: TestClient) -> None:
    """Without ts= the chain carries the current Unix time."""
    before = int(time.time())
    text = script(node_client, "mac=52:54:00:00:00:99")
    stamp = int(text.rsplit("&ts=", 1)[1].strip())
    assert before <= stamp <= int(time.time())


def test_unknown_with_arch_is_404(node_client: TestClient) -> None:
    """The second request of an unknown node (arch= set) answers 404 with upstream's text."""
    resp = node_client.get("/boot/v1/bootscript?mac=52:54:00:00:00:99&arch=x86_64&ts=1")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["detail"] == (
        "Unknown MAC 52:54:00:00:00:99 architecture x86_64: this host not configured for booting."
    )


@pytest.mark.parametrize(
    ("query", "what"),
    [("mac=52:54:00:00:00:10", "disabled"), ("mac=52:54:00:00:00:11", "endpoint disabled")],
)
def test_not_bootable_nodes_are_unknown(
    admin: TestClient, node_client: TestClient, query: str, what: str
) -> None:
    """Nodes SMD marks disabled (or with a disabled endpoint) get the unknown script despite params."""
    put(admin, {"macs": ["52:54:00:00:00:10", "52:54:00:00:00:11"], "kernel": "http://10.0.0.1/vmlinuz"})
    text = script(node_client, f"{query}&ts=5")
    assert text.startswith("#!ipxe\nsleep 10\nchain "), what
    assert "kernel" not in text


def test_json_variant(scenario: TestClient, node_client: TestClient) -> None:
    """json=1 answers the assembled boot data as JSON."""
    resp = node_client.get("/boot/v1/bootscript?mac=52:54:00:be:ef:01&json=1")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.text == golden("known_by_mac.json")


def test_node_without_nid_gets_no_nid_param(admin: TestClient, node_client: TestClient) -> None:
    """A node SMD has without a NID gets xname= but no nid=."""
    put(admin, {"hosts": ["x1000c1s3b0n0"], "kernel": "http://10.0.0.1/vmlinuz"})
    text = script(node_client, "name=x1000c1s3b0n0")
    assert "xname=x1000c1s3b0n0 ds=" in text
    assert " nid=" not in text


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("", "Need a mac=, name=, or nid= parameter"),
        ("arch=x86_64", "Need a mac=, name=, or nid= parameter"),
        ("mac=not-a-mac", "Bad Request - Invalid MAC 'not-a-mac'"),
        ("mac=52:54:00:be:ef", "Bad Request - Invalid MAC '52:54:00:be:ef'"),
        ("nid=abc", "Bad Request - Invalid nid 'abc'"),
        ("nid=-3", "Bad Request - Invalid nid '-3'"),
        ("mac=52:54:00:be:ef:01&retry=x", "Bad Request - Invalid retry 'x'"),
        ("mac=52:54:00:be:ef:01&ts=soon", "Bad Request - Invalid ts 'soon'"),
    ],
)
def test_bad_requests_are_400(node_client: TestClient, query: str, detail: str) -> None:
    """Malformed boot-script requests answer 400 problem documents."""
    resp = node_client.get(f"/boot/v1/bootscript?{query}")
    assert resp.status_code == 400
    assert resp.json()["detail"] == detail


def test_settings_change_chain_delays_and_datasource(tmp_path: Any, db_url: str, db: Any) -> None:
    """bss settings set the chain URL, both delays and the ds= URL."""
    from pychami.core.inventory import static_source
    from pychami.core.settings import load_settings
    from pychami.server import create_app
    from tests.bss.conftest import scenario_nodes
    from tests.conftest import issue

    settings = load_settings(
        data_dir=tmp_path / "d",
        db=db_url,
        bss={
            "chain_url": "https://demo.openchami.cluster/apis/bss",
            "retry_delay": 5,
            "unknown_delay": 3,
            "cloud_init_url": "http://10.1.0.1:8081/cloud-init/",
        },
    )
    app = create_app(settings, db=db, migrate_schema=False, inventory_source=static_source(scenario_nodes()))
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {issue(app, 'bss:write')}"
        client.put("/boot/v1/bootparameters", json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://k"})
        known = client.get("/boot/v1/bootscript?mac=52:54:00:be:ef:01").text
        unknown = client.get("/boot/v1/bootscript?mac=52:54:00:00:00:99&ts=9").text
    assert "ds=nocloud-net;s=http://10.1.0.1:8081/cloud-init/ || goto" in known
    assert "sleep 5\nchain https://demo.openchami.cluster/apis/bss/boot/v1/bootscript?mac=" in known
    assert unknown == (
        "#!ipxe\nsleep 3\nchain https://demo.openchami.cluster/apis/bss/boot/v1/bootscript"
        "?mac=52:54:00:00:00:99&arch=${buildarch}&ts=9\n\n"
    )
