"""magellan against real sushy-tools emulators on 127.0.0.101-103 with TLS and basic auth."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from pychami.cli.magellan import main
from tests.discovery.conftest import BMC_IDS, DECOY_ADDRESS, EMULATOR_ADDRESSES, SCAN_SUBNET, SYSTEMS
from tests.discovery.emulators import PASSWORD, USER, Emulator, TLSFiles
from tests.discovery.fakebmc import RecordingSMD, recording_smd

pytestmark = pytest.mark.integration


def run(cache: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> Result:
    """Run magellan in-process with its own cache."""
    return CliRunner().invoke(
        main, ["--cache", str(cache), "-t", "3", *args], env=env, input=stdin, catch_exceptions=False
    )


def scan_emulators(cache: Path, emulators: list[Emulator], tls: TLSFiles, *extra: str) -> Result:
    """Scan the emulators' /28 on their port, verifying TLS with the test CA."""
    port = str(emulators[0].port)
    return run(cache, "scan", "--subnet", SCAN_SUBNET, "--port", port, "--cacert", str(tls.ca), *extra)


def collect_json(
    cache: Path, tls: TLSFiles, *extra: str, env: dict[str, str] | None = None
) -> tuple[Result, list[dict[str, Any]]]:
    """Collect from the cache with the emulators' ID map; returns payloads by ID order."""
    res = run(cache, "collect", "--cacert", str(tls.ca), "-m", json.dumps(BMC_IDS), *extra, env=env)
    payloads = json.loads(res.stdout) if res.stdout.strip() else []
    return res, sorted(payloads, key=lambda p: p["ID"])


def test_scan_finds_exactly_the_emulators(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path
) -> None:
    """A /28 scan with TLS verification finds the three emulators and nothing else, and caches them."""
    port = emulators[0].port
    with recording_smd(RecordingSMD(address=DECOY_ADDRESS, port=port)):
        res = scan_emulators(cache_path, emulators, bmc_tls)
    assert res.exit_code == 0, res.stderr
    found = json.loads(res.stdout)
    assert [(a["host"], a["port"], a["protocol"], a["state"]) for a in found] == [
        (f"https://{addr}", port, "tcp", True) for addr in EMULATOR_ADDRESSES
    ]
    listed = run(cache_path, "list")
    assert listed.stdout.splitlines()[0].startswith(f"https://127.0.0.101:{port}:tcp:true:")
    assert len(listed.stdout.splitlines()) == 3


def test_scan_without_probing_keeps_every_open_port(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path
) -> None:
    """--disable-probing reports the non-Redfish listener too; probing is what rejects it."""
    port = emulators[0].port
    with recording_smd(RecordingSMD(address=DECOY_ADDRESS, port=port)):
        res = scan_emulators(cache_path, emulators, bmc_tls, "--disable-probing", "-F", "yaml")
    assert res.exit_code == 0, res.stderr
    hosts = [line.split(": ", 1)[1] for line in res.stdout.splitlines() if line.startswith("- host:")]
    assert hosts == [f"https://{a}" for a in [*EMULATOR_ADDRESSES, DECOY_ADDRESS]]


def test_collect_builds_redfish_endpoint_payloads(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path
) -> None:
    """collect crawls every cached emulator and emits one V2 RedfishEndpoint per BMC with its systems."""
    assert scan_emulators(cache_path, emulators, bmc_tls).exit_code == 0
    res, payloads = collect_json(cache_path, bmc_tls, "-u", USER, "-p", PASSWORD)
    assert res.exit_code == 0, res.stderr
    assert [p["ID"] for p in payloads] == ["x1000c0s0b0", "x1000c0s1b0", "x1000c0s2b0"]
    for payload in payloads:
        addr = payload["FQDN"]
        assert BMC_IDS[addr] == payload["ID"]
        assert payload["SchemaVersion"] == 1
        assert payload["User"] == USER
        assert "Password" not in payload
        assert payload["IPAddress"] == addr
        systems = payload["Systems"]
        assert [s["uuid"] for s in systems] == [s.uuid for s in SYSTEMS[addr]]
        for system, fake in zip(systems, SYSTEMS[addr], strict=True):
            assert system["uri"] == f"https://{addr}:{emulators[0].port}/redfish/v1/Systems/{fake.uuid}"
            assert system["name"] == fake.name
            assert [n["mac"] for n in system["ethernet_interfaces"]] == list(fake.macs)
            assert all(n["ip"] == "" for n in system["ethernet_interfaces"])
            assert {"On", "ForceOff", "ForceRestart"} <= set(system["actions"])
            assert system["power_state"] in ("On", "Off")
        assert [m["uuid"] for m in payload["Managers"]] == [s.uuid for s in SYSTEMS[addr]]
        assert "MACAddr" not in payload  # sushy models no BMC NIC
    # What the emulators lack is reported, never silently dropped.
    system_b = "/redfish/v1/Systems/0b000001-0000-4000-8000-000000000001"
    assert f"skipped {system_b}: system has no Processors collection" in res.stderr
    assert f"skipped {system_b}/Memory: memory collection: GET {system_b}/Memory: HTTP 404" in res.stderr
    assert "skipped /redfish/v1/Managers/0c000001-0000-4000-8000-000000000001: manager has no" in res.stderr
    assert "has no IPv4 address" in res.stderr


def test_wrong_credentials_fail_one_host_and_the_rest_succeed(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path, tmp_path: Path
) -> None:
    """With a wrong stored password for one BMC, that BMC gets a clear error and the others are collected."""
    assert scan_emulators(cache_path, emulators, bmc_tls).exit_code == 0
    env = {"MASTER_KEY": "00" * 32}
    secrets = str(tmp_path / "secrets.json")
    assert (
        run(cache_path, "secrets", "store", "default", f"{USER}:{PASSWORD}", "-f", secrets, env=env).exit_code
        == 0
    )
    assert (
        run(cache_path, "secrets", "store", "x1000c0s1b0", f"{USER}:nope", "-f", secrets, env=env).exit_code
        == 0
    )
    res, payloads = collect_json(cache_path, bmc_tls, "--secrets-file", secrets, env=env)
    assert res.exit_code == 1
    assert [p["ID"] for p in payloads] == ["x1000c0s0b0", "x1000c0s2b0"]
    errors = [line for line in res.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1
    assert f"127.0.0.102:{emulators[0].port}" in errors[0]
    assert "rejected the credentials" in errors[0]


def test_untrusted_certificate_is_a_clear_error(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path
) -> None:
    """Without --cacert the self-signed BMC certificate is refused per host; --insecure accepts it."""
    port = str(emulators[0].port)
    hosts = [f"{a}:{port}" for a in EMULATOR_ADDRESSES]
    assert run(cache_path, "scan", *hosts, "--disable-probing").exit_code == 0
    res = run(cache_path, "collect", "-u", USER, "-p", PASSWORD, "-m", json.dumps(BMC_IDS))
    assert res.exit_code == 1
    assert res.stderr.count("TLS certificate not trusted") == 3
    ok = run(cache_path, "collect", "-u", USER, "-p", PASSWORD, "-m", json.dumps(BMC_IDS), "--insecure")
    assert ok.exit_code == 0, ok.stderr
    assert len(json.loads(ok.stdout)) == 3


def test_power_changes_the_emulated_system_state(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path
) -> None:
    """power -r ForceOff/On resets node x1000c0s1b0n0 through ComputerSystem.Reset; the emulator follows."""
    assert scan_emulators(cache_path, emulators, bmc_tls).exit_code == 0
    assert collect_json(cache_path, bmc_tls, "-u", USER, "-p", PASSWORD)[0].exit_code == 0
    creds = ["-u", USER, "-p", PASSWORD, "--cacert", str(bmc_tls.ca)]
    node = "x1000c0s1b0n0"
    try:
        for target in ("On", "ForceOff"):
            reset = run(cache_path, "power", node, "-r", target, *creds)
            assert reset.exit_code == 0, reset.stderr
            assert json.loads(reset.stdout) == [{"xname": node, "ok": True, "reset_type": target}]
            state = run(cache_path, "power", node, *creds)
            want = "On" if target == "On" else "Off"
            assert json.loads(state.stdout) == [{"xname": node, "ok": True, "power_state": want}]
            # Independently of magellan: ask the emulator itself.
            direct = httpx.get(
                f"{emulators[1].base_url}/redfish/v1/Systems/{SYSTEMS['127.0.0.102'][0].uuid}",
                auth=(USER, PASSWORD),
                verify=ssl.create_default_context(cafile=str(bmc_tls.ca)),
            )
            assert direct.json()["PowerState"] == want
    finally:
        run(cache_path, "power", node, "-r", "ForceOff", *creds)
    listed = run(cache_path, "power", "x1000c0s0b0", "-l")
    assert [n["xname"] for n in json.loads(listed.stdout)] == ["x1000c0s0b0n0", "x1000c0s0b0n1"]
    bad = run(cache_path, "power", node, "-r", "Explode", *creds)
    assert bad.exit_code == 1
    assert "'Explode' not allowed" in bad.stderr


def test_collect_and_send_to_a_recording_smd(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path
) -> None:
    """collect | send posts one RFE per emulator with the bearer token; a rerun needs --force-update."""
    assert scan_emulators(cache_path, emulators, bmc_tls).exit_code == 0
    res, payloads = collect_json(cache_path, bmc_tls, "-u", USER, "-p", PASSWORD)
    assert res.exit_code == 0
    env = {"ACCESS_TOKEN": "tok123"}
    with recording_smd(RecordingSMD()) as smd:
        first = run(cache_path, "send", smd.url, env=env, stdin=json.dumps(payloads))
        assert first.exit_code == 0, first.stderr
        again = run(cache_path, "send", smd.url, env=env, stdin=json.dumps(payloads))
        forced = run(cache_path, "send", smd.url, "--force-update", env=env, stdin=json.dumps(payloads))
    assert [(r["method"], r["path"]) for r in smd.requests[:3]] == [
        ("POST", "/hsm/v2/Inventory/RedfishEndpoints")
    ] * 3
    assert [r["body"]["ID"] for r in smd.requests[:3]] == [p["ID"] for p in payloads]
    assert all(r["auth"] == "Bearer tok123" for r in smd.requests)
    assert again.exit_code == 1
    assert "already exists; use --force-update" in again.stderr
    assert forced.exit_code == 0
    assert [(r["method"], r["path"]) for r in smd.requests[-2:]] == [
        ("POST", "/hsm/v2/Inventory/RedfishEndpoints"),
        ("PUT", f"/hsm/v2/Inventory/RedfishEndpoints/{payloads[-1]['ID']}"),
    ]


def test_collect_and_send_into_live_smd(
    emulators: list[Emulator], bmc_tls: TLSFiles, cache_path: Path, tmp_path: Path
) -> None:
    """scan -> collect -> send lands the BMCs in a running pychami SMD as bootable nodes with interfaces."""
    from tests.live import pychami_server

    assert scan_emulators(cache_path, emulators, bmc_tls).exit_code == 0
    res, payloads = collect_json(cache_path, bmc_tls, "-u", USER, "-p", PASSWORD)
    assert res.exit_code == 0, res.stderr
    with pychami_server(tmp_path / "data") as server:
        env = {"ACCESS_TOKEN": server.token("smd:write")}
        sent = run(cache_path, "send", server.base, env=env, stdin=json.dumps(payloads))
        assert sent.exit_code == 0, sent.stderr
        again = run(cache_path, "send", server.base, "--force-update", env=env, stdin=json.dumps(payloads))
        assert again.exit_code == 0, again.stderr
        headers = {"Authorization": f"Bearer {env['ACCESS_TOKEN']}"}
        comps = httpx.get(f"{server.base}/hsm/v2/State/Components").json()["Components"]
        ceps = httpx.get(
            f"{server.base}/hsm/v2/Inventory/ComponentEndpoints?type=Node", headers=headers
        ).json()
        ifaces = httpx.get(f"{server.base}/hsm/v2/Inventory/EthernetInterfaces?type=Node").json()
    bmcs = sorted(p["ID"] for p in payloads)
    assert sorted(c["ID"] for c in comps if c["Type"] == "NodeBMC") == bmcs
    nodes = [c for c in comps if c["Type"] == "Node"]
    expected_nodes = sum(len(p["Systems"]) for p in payloads)
    assert len(nodes) == expected_nodes
    assert all(n["State"] == "On" and n["Enabled"] for n in nodes)
    assert len(ceps["ComponentEndpoints"]) == expected_nodes
    system_macs = {nic["mac"] for p in payloads for s in p["Systems"] for nic in s["ethernet_interfaces"]}
    assert {i["MACAddress"] for i in ifaces} == system_macs
