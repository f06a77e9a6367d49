"""send: RedfishEndpoint V2 payloads (spec §1.6/§1.9) posted to a real HTTP server that records them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from pychami.cli.magellan import main
from pychami.core.errors import BadRequest
from pychami.discovery.cache import Asset
from pychami.discovery.collect import CollectOptions, collect
from pychami.discovery.redfish import ClientOptions, Credentials
from pychami.discovery.send import parse_payloads, send
from tests.discovery.emulators import free_port
from tests.discovery.fakebmc import FakeBMC, RecordingSMD, load_tree, recording_smd, serving

#: Request fields SMD accepts on POST/PUT /Inventory/RedfishEndpoints (spec §1.6), V2 keys included.
RFE_FIELDS = {
    "ID", "Type", "Name", "Hostname", "Domain", "FQDN", "Enabled", "UUID", "User", "Password", "UseSSDP",
    "MACRequired", "MACAddr", "IPAddress", "RediscoverOnUpdate", "TemplateID", "SchemaVersion", "Systems",
    "Managers", "PDUInventory",
}  # fmt: skip


@pytest.fixture(scope="module")
def dell_payload() -> dict[str, Any]:
    """The payload collect makes from the recorded Dell tree (BMC ID from a map)."""
    with serving(FakeBMC("127.0.0.131", load_tree("dell_idrac"), auth=("admin", "pw"))) as bmc:
        report = asyncio.run(
            collect(
                [Asset(f"http://{bmc.address}", bmc.port)],
                lambda _a, _b: Credentials("admin", "pw"),
                CollectOptions(
                    client=ClientOptions(timeout=2, retries=0), id_map={"127.0.0.131": "x1000c0s7b0"}
                ),
            )
        )
    assert report.errors == []
    (payload,) = report.payloads
    return payload


def test_payload_has_the_v2_shape_smd_parses(dell_payload: dict[str, Any]) -> None:
    """Only fields SMD accepts, SchemaVersion 1, Systems/Managers with the keys the V2 parse reads."""
    assert set(dell_payload) <= RFE_FIELDS
    assert dell_payload["ID"] == "x1000c0s7b0"
    assert dell_payload["SchemaVersion"] == 1
    assert dell_payload["MACAddr"] == "b0:7b:25:aa:00:01"
    assert dell_payload["UUID"] == "3132334f-c0b7-3480-3510-00364c4c4544"  # the manager's, as ochami
    assert (dell_payload["Type"], dell_payload["Name"], dell_payload["MACRequired"]) == ("", "", True)
    (system,) = dell_payload["Systems"]
    assert {"uri", "uuid", "name", "ethernet_interfaces", "actions"} <= set(system)
    assert system["uri"].endswith("/redfish/v1/Systems/System.Embedded.1")
    assert all(isinstance(a, str) for a in system["actions"])
    for nic in system["ethernet_interfaces"]:
        assert {"mac", "ip", "name", "description"} <= set(nic)
    (manager,) = dell_payload["Managers"]
    assert {"uri", "uuid", "name", "type", "description", "ethernet_interfaces", "actions"} <= set(manager)
    assert manager["ethernet_interfaces"][0]["ip"] == "172.16.0.101"
    json.dumps(dell_payload)  # plain JSON all the way down


def test_send_posts_each_endpoint_and_puts_on_conflict(dell_payload: dict[str, Any]) -> None:
    """One unwrapped POST per BMC with the token; 409 is an error unless force_update, then PUT /<ID>."""
    other = {**dell_payload, "ID": "x1000c0s8b0"}
    with recording_smd(RecordingSMD(existing={"x1000c0s8b0"})) as smd:
        plain = send(smd.url, [dell_payload, other], token="T")
        forced = send(smd.url, [other], token="T", force_update=True)
    assert [(r.id, r.method, r.status, r.ok) for r in plain] == [
        ("x1000c0s7b0", "POST", 201, True),
        ("x1000c0s8b0", "POST", 409, False),
    ]
    assert "operation would conflict" in plain[1].detail
    assert "--force-update" in plain[1].detail
    assert [(r.method, r.status, r.ok) for r in forced] == [("PUT", 200, True)]
    assert [(r["method"], r["path"]) for r in smd.requests] == [
        ("POST", "/hsm/v2/Inventory/RedfishEndpoints"),
        ("POST", "/hsm/v2/Inventory/RedfishEndpoints"),
        ("POST", "/hsm/v2/Inventory/RedfishEndpoints"),
        ("PUT", "/hsm/v2/Inventory/RedfishEndpoints/x1000c0s8b0"),
    ]
    assert smd.requests[0]["body"] == dell_payload
    assert {r["auth"] for r in smd.requests} == {"Bearer T"}


def test_send_to_an_unreachable_smd_reports_each_item() -> None:
    """Nothing listening: each payload fails with 'cannot reach', nothing raises."""
    port = free_port(["127.0.0.132"])
    results = send(f"http://127.0.0.132:{port}", [{"ID": "x1c0s0b0"}], timeout=1)
    assert [(r.ok, r.status) for r in results] == [(False, 0)]
    assert "cannot reach" in results[0].detail


def test_input_forms(tmp_path: Path, dell_payload: dict[str, Any]) -> None:
    """A single object, a list, the {"RedfishEndpoints": [...]} wrapper and YAML are read; junk is refused."""
    assert parse_payloads(json.dumps(dell_payload)) == [dell_payload]
    assert parse_payloads(json.dumps({"RedfishEndpoints": [dell_payload]})) == [dell_payload]
    assert parse_payloads(yaml.safe_dump([dell_payload]), "yaml") == [dell_payload]
    with pytest.raises(BadRequest, match="item 0"):
        parse_payloads('[{"Name": "no id"}]')
    path = tmp_path / "nodes.yaml"
    path.write_text(yaml.safe_dump([dell_payload]))
    with recording_smd(RecordingSMD()) as smd:
        res = CliRunner().invoke(main, ["--access-token", "A", "send", smd.url, "-d", f"@{path}"])
    assert res.exit_code == 0, res.stderr
    assert smd.requests[0]["body"]["ID"] == "x1000c0s7b0"
    assert smd.requests[0]["auth"] == "Bearer A"
