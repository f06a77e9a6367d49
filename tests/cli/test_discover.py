"""`ochami discover static`: both file forms, full validation before sending, the §1.9 request sequence."""
# ruff: noqa: E501  (tables of test cases read better one case per line)

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest
import yaml

from pychami.cli.ochami import discovery as dsc
from tests.cli.conftest import SCENARIO, Ochami
from tests.cli.fakesmd import FakeSMD

NODES_YAML = (SCENARIO / "nodes.yaml").read_text()
NODES = yaml.safe_load(NODES_YAML)


def _node(i: int, **over: Any) -> dict[str, Any]:
    node = {
        "name": f"compute{i}",
        "nid": i,
        "xname": f"x1000c0s0b{i - 1}n0",
        "bmc_mac": f"de:ca:fc:0f:fe:e{i}",
        "bmc_ip": f"172.16.0.10{i}",
        "group": "compute",
        "interfaces": [
            {
                "mac_addr": f"52:54:00:be:ef:0{i}",
                "ip_addrs": [{"name": "management", "ip_addr": f"172.16.0.{i}"}],
            }
        ],
    }
    node.update(over)
    return node


def test_plan_of_the_scenario_file() -> None:
    """The tutorial file gives five nodes, one BMC each, and one group of five."""
    plan = dsc.plan(NODES)
    assert [n.xname for n in plan.nodes] == [f"x1000c0s0b{i}n0" for i in range(5)]
    assert [b.xname for b in plan.bmcs] == [f"x1000c0s0b{i}" for i in range(5)]
    assert plan.bmcs[0].mac == "de:ca:fc:0f:fe:e1"
    assert plan.groups == {"compute": [f"x1000c0s0b{i}n0" for i in range(5)]}
    assert plan.nodes[0].interfaces[0].ips[0] == dsc.IP("172.16.0.1", "management")
    assert plan.warnings == []


def _rfe_bodies(smd: FakeSMD) -> list[dict[str, Any]]:
    """Every Redfish endpoint POSTed, batched or alone, in request order."""
    out: list[dict[str, Any]] = []
    for c in smd.calls:
        if (c.method, c.path) == ("POST", "/hsm/v2/Inventory/RedfishEndpoints"):
            out.extend(c.body.get("RedfishEndpoints", [c.body]))
    return out


def _count(smd: FakeSMD) -> dict[tuple[str, str], int]:
    """How many requests of each (method, path) were sent (their order varies with --concurrency)."""
    return dict(Counter(smd.requests()))


def test_discover_sends_the_sequence_and_is_silent(demo: Ochami, smd: FakeSMD) -> None:
    """Components, the RFEs in one wrapped batch, the interfaces' network names, then groups; no output."""
    r = demo("discover", "static", "--concurrency", "1", "-f", "yaml", "-d", NODES_YAML)
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    assert smd.requests() == (
        [("POST", "/hsm/v2/State/Components")]
        + [("POST", "/hsm/v2/Inventory/RedfishEndpoints")]
        + [("PATCH", f"/hsm/v2/Inventory/EthernetInterfaces/525400beef0{i}") for i in range(1, 6)]
        + [("POST", "/hsm/v2/groups")]
    )
    assert smd.calls[0].body == {
        "Components": [
            {"ID": f"x1000c0s0b{i}n0", "Type": "Node", "State": "On", "Enabled": True, "NID": i + 1}
            for i in range(5)
        ]
    }
    assert [b["ID"] for b in smd.calls[1].body["RedfishEndpoints"]] == [f"x1000c0s0b{i}" for i in range(5)]
    rfe = smd.calls[1].body["RedfishEndpoints"][0]
    assert {k: rfe[k] for k in ("ID", "Type", "Name", "MACAddr", "IPAddress", "SchemaVersion", "DiscoveryInfo")} == {
        "ID": "x1000c0s0b0", "Type": "NodeBMC", "Name": "compute1", "MACAddr": "de:ca:fc:0f:fe:e1",
        "IPAddress": "172.16.0.101", "SchemaVersion": 1, "DiscoveryInfo": {"LastAttempt": "0001-01-01T00:00:00Z"},
    }  # fmt: skip
    assert "FQDN" not in rfe
    (system,) = rfe["Systems"]
    assert system["uri"] == "https://demo.openchami.cluster:8443/redfish/v1/Systems/x1000c0s0b0n0"
    assert system["name"] == "compute1"
    assert system["ethernet_interfaces"] == [
        {
            "mac": "52:54:00:be:ef:01",
            "ip": "172.16.0.1",
            "name": "x1000c0s0b0n0",
            "description": "Interface 0 for compute1",
        }
    ]
    assert system["actions"][:2] == ["On", "ForceOff"]
    (manager,) = rfe["Managers"]
    assert manager["uuid"] == rfe["UUID"]
    assert manager["ethernet_interfaces"] == [
        {
            "mac": "de:ca:fc:0f:fe:e1",
            "ip": "172.16.0.101",
            "name": "x1000c0s0b0",
            "description": "Interface for BMC x1000c0s0b0",
        }
    ]
    assert smd.calls[2].body == {"IPAddresses": [{"IPAddress": "172.16.0.1", "Network": "management"}]}
    assert smd.calls[-1].body == {
        "label": "compute", "description": "The compute group",
        "members": {"ids": [f"x1000c0s0b{i}n0" for i in range(5)]},
    }  # fmt: skip
    nodes = [c for c in smd.components.values() if c["Type"] == "Node"]
    assert [(c["ID"], c["NID"], c["Role"], c["Enabled"]) for c in nodes] == [
        (f"x1000c0s0b{i}n0", i + 1, "Compute", True) for i in range(5)
    ]
    assert smd.ifaces["525400beef01"]["IPAddresses"] == [{"IPAddress": "172.16.0.1", "Network": "management"}]


def test_rerun_without_overwrite_reports_conflicts(demo: Ochami, smd: FakeSMD) -> None:
    """A second run without --overwrite names every existing BMC and group and exits 1."""
    demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    before = copy.deepcopy((smd.components, smd.ifaces, smd.rfes, smd.groups))
    r = demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 1
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 6
    assert lines[0].startswith(
        "Error: redfish endpoint x1000c0s0b0 (compute1) already exists (use --overwrite"
    )
    assert "HTTP 409" in lines[0]
    assert lines[5].startswith("Error: group compute already exists (use --overwrite to update it)")
    assert [line.split()[3] for line in lines[:5]] == [f"x1000c0s0b{i}" for i in range(5)]
    assert (smd.components, smd.ifaces, smd.rfes, smd.groups) == before
    # the refused batch is resent one endpoint at a time, so each conflict is named
    assert _count(smd) == {
        ("POST", "/hsm/v2/State/Components"): 2,
        ("POST", "/hsm/v2/Inventory/RedfishEndpoints"): 1 + 1 + 5,
        ("PATCH", "/hsm/v2/Inventory/EthernetInterfaces/525400beef01"): 1,
        ("PATCH", "/hsm/v2/Inventory/EthernetInterfaces/525400beef02"): 1,
        ("PATCH", "/hsm/v2/Inventory/EthernetInterfaces/525400beef03"): 1,
        ("PATCH", "/hsm/v2/Inventory/EthernetInterfaces/525400beef04"): 1,
        ("PATCH", "/hsm/v2/Inventory/EthernetInterfaces/525400beef05"): 1,
        ("POST", "/hsm/v2/groups"): 2,
    }


def test_overwrite_is_idempotent(demo: Ochami, smd: FakeSMD) -> None:
    """--overwrite on an empty and on a filled SMD succeeds silently and ends in the same state."""
    r = demo("discover", "static", "--overwrite", "-f", "yaml", "-d", NODES_YAML)
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    first = copy.deepcopy((smd.components, smd.ifaces, smd.rfes, smd.groups, smd.compeps))
    smd.calls.clear()
    r = demo("discover", "static", "--overwrite", "-f", "yaml", "-d", NODES_YAML)
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    assert (smd.components, smd.ifaces, smd.rfes, smd.groups, smd.compeps) == first
    methods = smd.requests()
    # two component requests (forced upsert, then the NIDs), whatever the number of nodes
    assert methods[:2] == [
        ("POST", "/hsm/v2/State/Components"),
        ("PATCH", "/hsm/v2/State/Components/BulkNID"),
    ]
    assert smd.calls[0].body["Force"] is True
    assert [c["ID"] for c in smd.calls[0].body["Components"]] == [f"x1000c0s0b{i}n0" for i in range(5)]
    assert smd.calls[1].body["Components"][0] == {"ID": "x1000c0s0b0n0", "Type": "", "NID": 1}
    # the batch is refused (409) and each endpoint is replaced with PUT, no doomed single POSTs
    assert _count(smd) == {
        ("POST", "/hsm/v2/State/Components"): 1,
        ("PATCH", "/hsm/v2/State/Components/BulkNID"): 1,
        ("POST", "/hsm/v2/Inventory/RedfishEndpoints"): 1,
        **{("PUT", f"/hsm/v2/Inventory/RedfishEndpoints/x1000c0s0b{i}"): 1 for i in range(5)},
        **{("PATCH", f"/hsm/v2/Inventory/EthernetInterfaces/525400beef0{i}"): 1 for i in range(1, 6)},
        ("POST", "/hsm/v2/groups"): 1,
        ("PATCH", "/hsm/v2/groups/compute"): 1,
        ("GET", "/hsm/v2/groups/compute/members"): 1,
    }


def test_overwrite_updates_nids_and_adds_group_members(demo: Ochami, smd: FakeSMD) -> None:
    """--overwrite changes NIDs (BulkNID) and adds new members to an existing group."""
    demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    changed = copy.deepcopy(NODES)
    changed["nodes"][0]["nid"] = 11
    changed["nodes"].append(_node(6, xname="x1000c0s0b5n0"))
    r = demo("discover", "static", "--overwrite", "-d", json.dumps(changed))
    assert r.exit_code == 0, r.stderr
    assert smd.components["x1000c0s0b0n0"]["NID"] == 11
    assert smd.groups["compute"]["members"]["ids"][-1] == "x1000c0s0b5n0"
    # only the member the group lacked is added
    assert [
        c.body for c in smd.calls if c.path == "/hsm/v2/groups/compute/members" and c.method == "POST"
    ] == [{"id": "x1000c0s0b5n0"}]


def _cluster(count: int) -> dict[str, Any]:
    """``count`` tutorial-format nodes, one BMC each (nodes file order = BMC order)."""
    return {
        "nodes": [
            _node(
                i + 1,
                xname=f"x1000c0s{i // 8}b{i % 8}n0",
                bmc_mac=f"de:ca:fc:0f:{i:02x}:e0",
                bmc_ip=f"172.17.0.{i + 1}",
                interfaces=[
                    {"mac_addr": f"52:54:00:be:{i:02x}:01", "ip_addrs": [{"ip_addr": f"172.18.0.{i + 1}"}]}
                ],
            )
            for i in range(count)
        ]
    }


def _only(doc: dict[str, Any], *indexes: int) -> dict[str, Any]:
    return {"nodes": [doc["nodes"][i] for i in indexes]}


def test_batches_of_batch_size(demo: Ochami, smd: FakeSMD) -> None:
    """--batch-size N splits the endpoints into wrapped POSTs of N, in file order, and nothing else."""
    doc = _cluster(7)
    r = demo("discover", "static", "--batch-size", "3", "-d", json.dumps(doc))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    batches = [c.body for c in smd.calls if c.path == "/hsm/v2/Inventory/RedfishEndpoints"]
    assert sorted(len(b["RedfishEndpoints"]) for b in batches) == [1, 3, 3]
    assert sorted(b["ID"] for b in _rfe_bodies(smd)) == [f"x1000c0s0b{i}" for i in range(7)]
    assert sorted(smd.rfes) == sorted(f"x1000c0s0b{i}" for i in range(7))


def test_refused_batch_falls_back_to_one_post_per_endpoint(demo: Ochami, smd: FakeSMD) -> None:
    """A batch holding an existing endpoint is refused whole; its endpoints are then POSTed alone, the
    new ones stored and the existing one reported; the other batches are unaffected."""
    doc = _cluster(5)
    assert demo("discover", "static", "-d", json.dumps(_only(doc, 1))).exit_code == 0
    smd.calls.clear()
    r = demo("discover", "static", "--batch-size", "2", "-d", json.dumps(doc))
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        "Error: redfish endpoint x1000c0s0b1 (compute2) already exists (use --overwrite"
    )
    assert lines[1].startswith("Error: group compute already exists")
    singles = [c.body["ID"] for c in smd.calls if c.path.endswith("/RedfishEndpoints") and "ID" in c.body]
    assert sorted(singles) == ["x1000c0s0b0", "x1000c0s0b1"]
    assert _count(smd)[("POST", "/hsm/v2/Inventory/RedfishEndpoints")] == 3 + 2
    assert sorted(smd.rfes) == [f"x1000c0s0b{i}" for i in range(5)]
    assert not any(c.method in ("PUT", "PATCH") for c in smd.calls)  # no network names: no PATCH


def test_refused_batch_with_overwrite_puts_each_endpoint(demo: Ochami, smd: FakeSMD) -> None:
    """With --overwrite the endpoints of a refused batch are replaced by PUT (an upsert); other batches are
    POSTed; the end state equals a fresh --overwrite run."""
    doc = _cluster(5)
    assert demo("discover", "static", "-d", json.dumps(_only(doc, 3))).exit_code == 0
    smd.calls.clear()
    r = demo("discover", "static", "--overwrite", "--batch-size", "2", "-d", json.dumps(doc))
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    puts = sorted(c.path.rsplit("/", 1)[1] for c in smd.calls if c.method == "PUT")
    assert puts == ["x1000c0s0b2", "x1000c0s0b3"]
    posted = [c.body for c in smd.calls if c.path.endswith("/RedfishEndpoints")]
    assert all("RedfishEndpoints" in b for b in posted)  # no single POST that would only get a 409
    assert sorted(smd.rfes) == [f"x1000c0s0b{i}" for i in range(5)]
    fresh = FakeSMD()
    demo.transport = fresh.transport()
    assert demo("discover", "static", "--overwrite", "-d", json.dumps(doc)).exit_code == 0
    assert (fresh.components, fresh.ifaces, fresh.rfes, fresh.compeps) == (
        smd.components, smd.ifaces, smd.rfes, smd.compeps,
    )  # fmt: skip


def test_failures_reported_in_file_order_under_concurrency(demo: Ochami, smd: FakeSMD) -> None:
    """With many endpoints in flight, the errors still come out in the order of the nodes file."""
    doc = _cluster(40)
    existing = [3, 4, 17, 18, 19, 31, 39]
    assert demo("discover", "static", "-d", json.dumps(_only(doc, *existing))).exit_code == 0
    r = demo("discover", "static", "--batch-size", "3", "--concurrency", "8", "-d", json.dumps(doc))
    assert r.exit_code == 1
    reported = [line.split()[3] for line in r.stderr.splitlines() if "redfish endpoint" in line]
    assert reported == [f"x1000c0s{i // 8}b{i % 8}" for i in existing]
    assert len(smd.rfes) == 40


def test_server_errors_reported_per_bmc_in_order(demo: Ochami, smd: FakeSMD) -> None:
    """A batch refused for another reason than 409 is also resent one by one: each BMC gets its error."""
    smd.fail[("POST", "/hsm/v2/Inventory/RedfishEndpoints")] = 503
    doc = _cluster(6)
    r = demo("discover", "static", "--batch-size", "4", "-d", json.dumps(doc))
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert [line.split()[3] for line in lines[:6]] == [f"x1000c0s0b{i}" for i in range(6)]
    assert all("HTTP 503" in line for line in lines[:6])
    assert _count(smd)[("POST", "/hsm/v2/Inventory/RedfishEndpoints")] == 2 + 6


def test_group_update_failures_with_overwrite(demo: Ochami, smd: FakeSMD) -> None:
    """--overwrite on an existing group: a failing PATCH is reported; when its members cannot be read,
    every member is POSTed (SMD's 409 for the present ones is no error) and other failures are reported."""
    demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    smd.calls.clear()
    smd.fail[("PATCH", "/hsm/v2/groups/compute")] = 400
    smd.fail[("GET", "/hsm/v2/groups/compute/members")] = 404
    r = demo("discover", "static", "--overwrite", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 1
    assert r.stderr.splitlines() == ['Error: updating group compute: HTTP 400: ' + json.dumps(
        {"type": "about:blank", "title": "Bad Request", "detail": "injected failure", "status": 400},
        separators=(",", ":"))]  # fmt: skip
    assert _count(smd)[("POST", "/hsm/v2/groups/compute/members")] == 5
    smd.calls.clear()
    del smd.fail[("PATCH", "/hsm/v2/groups/compute")]
    smd.fail[("POST", "/hsm/v2/groups/compute/members")] = 500
    r = demo("discover", "static", "--overwrite", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 1
    added = [line.split()[2] for line in r.stderr.splitlines()]
    assert added == [f"x1000c0s0b{i}n0" for i in range(5)]
    assert all(
        line.startswith("Error: adding x1000c0s0b") and "HTTP 500" in line for line in r.stderr.splitlines()
    )


def test_interface_failures_reported_in_order(demo: Ochami, smd: FakeSMD) -> None:
    """A failing interface PATCH, or the POST creating a missing interface, is reported per interface."""
    smd.fail.update(
        {(m, f"/hsm/v2/Inventory/EthernetInterfaces/525400beef0{i}"): 500 for i in (2, 4) for m in ["PATCH"]}
    )
    r = demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 1
    assert [line.split()[2:5] for line in r.stderr.splitlines()] == [
        ["52:54:00:be:ef:02", "of", "x1000c0s0b1n0:"], ["52:54:00:be:ef:04", "of", "x1000c0s0b3n0:"],
    ]  # fmt: skip
    fresh = FakeSMD(parse_interfaces=False)
    fresh.fail[("POST", "/hsm/v2/Inventory/EthernetInterfaces")] = 400
    demo.transport = fresh.transport()
    r = demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 1
    assert [line.split()[2] for line in r.stderr.splitlines()] == [
        f"52:54:00:be:ef:0{i}" for i in range(1, 6)
    ]
    assert all("HTTP 400" in line for line in r.stderr.splitlines())


@pytest.mark.parametrize("flag", ["--batch-size", "--concurrency"])
def test_bad_batch_size_or_concurrency(demo: Ochami, smd: FakeSMD, flag: str) -> None:
    """--batch-size and --concurrency must be positive; nothing is sent otherwise."""
    r = demo("discover", "static", flag, "0", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 2
    assert "0 is not in the range" in r.stderr
    assert smd.calls == []


def test_bare_list_and_stdin(demo: Ochami, smd: FakeSMD) -> None:
    """A top-level list of nodes works, read from stdin when -d is omitted."""
    r = demo("discover", "static", "-f", "yaml", input=yaml.safe_dump(NODES["nodes"]))
    assert r.exit_code == 0, r.stderr
    assert len([c for c in smd.components.values() if c["Type"] == "Node"]) == 5


def test_new_format_with_bmcs_groups_and_network(demo: Ochami, smd: FakeSMD) -> None:
    """bmcs + bmc references (by name or xname), groups lists and ip_addrs[].network are honoured."""
    doc = {
        "bmcs": [
            {"name": "bmc1", "xname": "x1000c1s7b0", "mac": "de:ca:fc:0f:ee:ee", "ip": "172.16.0.101", "fqdn": "bmc1.x"},
            {"name": "bmc2", "xname": "x1000c1s7b1", "mac": "de:ca:fc:0f:ee:ef", "ip": "172.16.0.102"},
        ],
        "nodes": [
            {"name": "node01", "nid": 1, "xname": "x1000c1s7b0n0", "bmc": "bmc1", "groups": ["compute", "slurm"],
             "interfaces": [{"mac_addr": "de:ad:be:ee:ee:f1",
                             "ip_addrs": [{"network": "internal", "ip_addr": "172.16.0.1"},
                                          {"network": "hsn", "ip_addr": "10.1.0.1"}]}]},
            {"name": "node02", "nid": 2, "xname": "x1000c1s7b1n0", "bmc": "x1000c1s7b1", "groups": ["compute"],
             "interfaces": [{"mac_addr": "de:ad:be:ee:ee:f2", "ip_addrs": [{"ip_addr": "172.16.0.2"}]}]},
        ],
    }  # fmt: skip
    r = demo("discover", "static", "-d", json.dumps(doc))
    assert r.exit_code == 0, r.stderr
    rfes = _rfe_bodies(smd)
    assert [(b["ID"], b["Name"], b.get("FQDN")) for b in rfes] == [
        ("x1000c1s7b0", "bmc1", "bmc1.x"),
        ("x1000c1s7b1", "bmc2", None),
    ]
    assert smd.ifaces["deadbeeeeef1"]["IPAddresses"] == [
        {"IPAddress": "172.16.0.1", "Network": "internal"},
        {"IPAddress": "10.1.0.1", "Network": "hsn"},
    ]
    # no network and a single IP: the RFE parse alone is enough, no PATCH
    assert ("PATCH", "/hsm/v2/Inventory/EthernetInterfaces/deadbeeeeef2") not in smd.requests()
    assert smd.groups["compute"]["members"]["ids"] == ["x1000c1s7b0n0", "x1000c1s7b1n0"]
    assert smd.groups["slurm"]["members"]["ids"] == ["x1000c1s7b0n0"]


def test_discovery_version_1_also_writes_interfaces(demo: Ochami, smd: FakeSMD) -> None:
    """--discovery-version 1 sends every interface (created by POST when the RFE parse did not)."""
    doc = {
        "nodes": [
            _node(1, interfaces=[{"mac_addr": "52:54:00:be:ef:01", "ip_addrs": [{"ip_addr": "172.16.0.1"}]}])
        ]
    }
    smd.parse_interfaces = False
    r = demo("discover", "static", "--discovery-version", "1", "-d", json.dumps(doc))
    assert r.exit_code == 0, r.stderr
    assert ("POST", "/hsm/v2/Inventory/EthernetInterfaces") in smd.requests()
    assert smd.ifaces["525400beef01"]["ComponentID"] == "x1000c0s0b0n0"


def test_shared_bmc_in_tutorial_format(demo: Ochami, smd: FakeSMD) -> None:
    """Two nodes behind one BMC give one RFE with two systems (not a duplicate MAC)."""
    doc = {
        "nodes": [
            _node(1),
            _node(2, xname="x1000c0s0b0n1", bmc_mac="de:ca:fc:0f:fe:e1", bmc_ip="172.16.0.101"),
        ]
    }
    r = demo("discover", "static", "-d", json.dumps(doc))
    assert r.exit_code == 0, r.stderr
    rfes = _rfe_bodies(smd)
    assert len(rfes) == 1
    assert [s["name"] for s in rfes[0]["Systems"]] == ["compute1", "compute2"]


def test_smd_failure_is_reported(demo: Ochami, smd: FakeSMD) -> None:
    """A failing component POST stops discovery with the server's answer and exit 1."""
    smd.fail[("POST", "/hsm/v2/State/Components")] = 400
    r = demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 1
    assert r.stderr.startswith(
        "Error: adding components failed: unsuccessful HTTP status: HTTP/1.1 400 Bad Request"
    )
    assert len(smd.calls) == 1


def test_token_checked_before_sending(demo: Ochami, smd: FakeSMD) -> None:
    """Without a token nothing is sent."""
    del demo.environ["DEMO_ACCESS_TOKEN"]
    r = demo("discover", "static", "-f", "yaml", "-d", NODES_YAML)
    assert r.exit_code == 1
    assert "DEMO_ACCESS_TOKEN unset" in r.stderr
    assert smd.calls == []


def _errors(demo: Ochami, smd: FakeSMD, doc: Any) -> list[str]:
    r = demo("discover", "static", "-d", json.dumps(doc))
    assert r.exit_code == 1
    assert smd.calls == []
    lines = r.stderr.splitlines()
    assert lines[0].startswith("Error: nodes file has ")
    assert lines[0].endswith("nothing was sent:")
    return [line.strip() for line in lines[1:]]


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ([_node(1), _node(2, xname="x1000c0s0b0n0")],
         ["node 2 (compute2): duplicate xname x1000c0s0b0n0 (also used by node 1 (compute1))"]),
        ([_node(1), _node(2, xname="X1000c0s00b0n0")],
         ["node 2 (compute2): duplicate xname x1000c0s0b0n0 (also used by node 1 (compute1))"]),
        ([_node(1), _node(2, nid=1)], ["node 2 (compute2): duplicate NID 1 (also used by node 1 (compute1))"]),
        ([_node(1), _node(2, interfaces=[{"mac_addr": "52:54:00:BE:EF:01"}])],
         ["node 2 (compute2) interface 1: duplicate MAC address 52:54:00:be:ef:01 "
          "(also used by node 1 (compute1) interface 1)"]),
        ([_node(1), _node(2, bmc_ip="172.16.0.1")],
         ["node 2 (compute2): duplicate IP address 172.16.0.1 (also used by node 1 (compute1) interface 1 ip_addrs 1)"]),
        ([_node(1, bmc_mac="de:ca:fc:0f:fe")], ["node 1 (compute1): invalid MAC address in 'bmc_mac': 'de:ca:fc:0f:fe'"]),
        ([_node(1, interfaces=[{"mac_addr": "zz:54:00:be:ef:01"}])],
         ["node 1 (compute1) interface 1: invalid MAC address in 'mac_addr': 'zz:54:00:be:ef:01'"]),
        ([_node(1, bmc_ip="172.16.0.300")], ["node 1 (compute1): invalid IP address in 'bmc_ip': '172.16.0.300'"]),
        ([_node(1, interfaces=[{"mac_addr": "52:54:00:be:ef:01", "ip_addrs": [{"ip_addr": "nope"}]}])],
         ["node 1 (compute1) interface 1 ip_addrs 1: invalid IP address in 'ip_addr': 'nope'"]),
        ([_node(1, xname="x1000c0s0b0")],
         ["node 1 (compute1): invalid node xname 'x1000c0s0b0' (expected like x1000c0s0b0n0)"]),
        ([_node(1, nid=0)], ["node 1 (compute1): invalid NID 0 (expected a positive integer)"]),
        ([_node(1, nid="one")], ["node 1 (compute1): invalid NID 'one' (expected a positive integer)"]),
        ([{"name": "c1", "bmc_mac": "de:ca:fc:0f:fe:e1"}], ["node 1 (c1): missing key(s): nid, xname, bmc_ip"]),
        ([_node(1, interfaces=[{"ip_addrs": []}])], ["node 1 (compute1) interface 1: missing key(s): mac_addr"]),
        ([_node(1, interfaces=[{"mac_addr": "52:54:00:be:ef:01", "ip_addrs": [{"name": "m"}]}])],
         ["node 1 (compute1) interface 1 ip_addrs 1: missing key(s): ip_addr"]),
        ([_node(1, group="Bad Group!")], ["node 1 (compute1): invalid group label 'Bad Group!' (allowed: a-z 0-9 - : . _)"]),
        ([_node(1, groups="compute")], ["node 1 (compute1): 'groups' must be a list"]),
        ([_node(1, interfaces="eth0")], ["node 1 (compute1): 'interfaces' must be a list"]),
        (["compute1"], ["node 1: must be a mapping"]),
        ([_node(1), _node(2, xname="x1000c0s0b0n1", bmc_mac="de:ca:fc:0f:fe:ff")],
         ["node 2 (compute2): bmc_mac de:ca:fc:0f:fe:ff differs from de:ca:fc:0f:fe:e1 given for BMC x1000c0s0b0"]),
    ],
)  # fmt: skip
def test_each_validation_error(demo: Ochami, smd: FakeSMD, nodes: list[Any], expected: list[str]) -> None:
    """Every kind of mistake is reported with the node it belongs to, and nothing is sent."""
    assert _errors(demo, smd, {"nodes": nodes}) == expected


def test_all_problems_reported_at_once(demo: Ochami, smd: FakeSMD) -> None:
    """Several problems in several nodes are all listed in one run."""
    nodes = [_node(1), _node(2, nid=1, bmc_mac="bad"), _node(3, xname="x1000c0s0b0n0", bmc_ip="1.2.3")]
    problems = _errors(demo, smd, {"nodes": nodes})
    assert problems == [
        "node 2 (compute2): duplicate NID 1 (also used by node 1 (compute1))",
        "node 2 (compute2): invalid MAC address in 'bmc_mac': 'bad'",
        "node 3 (compute3): duplicate xname x1000c0s0b0n0 (also used by node 1 (compute1))",
        "node 3 (compute3): invalid IP address in 'bmc_ip': '1.2.3'",
    ]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"nodes": []}, ["the file lists no nodes"]),
        ({"hosts": []}, ["the file needs a 'nodes' list"]),
        ({"nodes": {"a": 1}}, ["the file needs a 'nodes' list"]),
        ({"nodes": [_node(1)], "bmcs": {}}, ["'bmcs' must be a list"]),
        ("text", ["the file must hold a 'nodes:' mapping or a list of nodes"]),
        (
            {"bmcs": [{"name": "b", "xname": "x1000c0s0b0n0", "mac": "de:ca:fc:0f:fe:e1", "ip": "172.16.0.101"}],
             "nodes": [{"name": "n", "nid": 1, "xname": "x1000c0s0b0n0", "bmc": "b"}]},
            ["bmc 1 (b): invalid BMC xname 'x1000c0s0b0n0' (expected like x1000c0s0b0)",
             "node 1 (n): bmc 'b' is not listed under 'bmcs'"],
        ),
        (
            {"bmcs": [{"name": "b", "xname": "x1000c0s0b0"}],
             "nodes": [{"name": "n", "nid": 1, "xname": "x1000c0s0b0n0", "bmc": "b"}]},
            ["bmc 1 (b): missing key(s): mac, ip"],
        ),
    ],
)  # fmt: skip
def test_file_level_errors(demo: Ochami, smd: FakeSMD, doc: Any, expected: list[str]) -> None:
    """Wrong file shapes and BMC problems are reported and nothing is sent."""
    assert _errors(demo, smd, doc) == expected


def test_unknown_keys_warn(demo: Ochami, smd: FakeSMD) -> None:
    """An unknown key (likely a typo) is warned about but does not stop discovery."""
    r = demo("-L", "basic", "discover", "static", "-d", json.dumps({"nodes": [_node(1, colour="red")]}))
    assert r.exit_code == 0
    assert r.stderr == "WRN node 1 (compute1): unknown key 'colour' ignored\n"
    r = demo(
        "-L",
        "basic",
        "discover",
        "static",
        "--overwrite",
        "-d",
        json.dumps({"version": 1, "nodes": [_node(1)]}),
    )
    assert r.exit_code == 0
    assert r.stderr == "WRN the file: unknown key 'version' ignored\n"


def test_undecodable_file(demo: Ochami, smd: FakeSMD) -> None:
    """A file that is not YAML is an error naming the format."""
    r = demo("discover", "static", "-f", "yaml", "-d", "nodes: [")
    assert r.exit_code == 1
    assert "unable to unmarshal payload as YAML" in r.stderr
    assert smd.calls == []
