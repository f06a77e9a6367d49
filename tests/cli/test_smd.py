"""`ochami smd ...`: every command maps to the request of spec §5.4 (recorded by the fake SMD)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cli.conftest import Ochami
from tests.cli.fakesmd import FakeSMD

N0 = "x1000c0s0b0n0"


@pytest.fixture
def filled(smd: FakeSMD) -> FakeSMD:
    """A fake SMD holding two nodes, an interface, an RFE, a compep and a group."""
    for i in range(2):
        x = f"x1000c0s0b{i}n0"
        smd.components[x] = {"ID": x, "Type": "Node", "State": "On", "Enabled": True, "NID": i + 1}
        smd.compeps[x] = {"ID": x, "RedfishEndpointID": f"x1000c0s0b{i}", "Enabled": True}
    smd.ifaces["525400beef01"] = {
        "ID": "525400beef01", "MACAddress": "52:54:00:be:ef:01", "ComponentID": N0, "Type": "Node",
        "Description": "", "IPAddresses": [{"IPAddress": "172.16.0.1", "Network": "management"}],
    }  # fmt: skip
    smd.rfes["x1000c0s0b0"] = {"ID": "x1000c0s0b0", "Type": "NodeBMC"}
    smd.groups["compute"] = {"label": "compute", "description": "c", "members": {"ids": [N0]}}
    return smd


CASES: list[tuple[list[str], list[tuple[str, str, Any, Any]]]] = [
    (["component", "get"], [("GET", "/State/Components", [], None)]),
    (["component", "get", "-x", N0], [("GET", f"/State/Components/{N0}", [], None)]),
    (
        ["component", "get", "-x", "x1000c0s0b[0-1]n0"],
        [("POST", "/State/Components/Query", [], {"ComponentIDs": [N0, "x1000c0s0b1n0"]})],
    ),
    (["component", "get", "-n", "2"], [("GET", "/State/Components/ByNID/2", [], None)]),
    (
        ["component", "get", "-n", "1-2"],
        [("POST", "/State/Components/ByNID/Query", [], {"NIDRanges": ["1", "2"]})],
    ),
    (
        ["component", "add", "x1000c0s0b5n0", "6"],
        [
            (
                "POST",
                "/State/Components",
                [],
                {
                    "Components": [
                        {
                            "ID": "x1000c0s0b5n0",
                            "NID": 6,
                            "State": "Ready",
                            "Enabled": True,
                            "Role": "Compute",
                            "Arch": "X86",
                        }
                    ]
                },
            )
        ],
    ),
    (
        [
            "component",
            "add",
            "--state",
            "On",
            "--enabled=false",
            "--role",
            "Service",
            "--arch",
            "ARM",
            "x1000c0s0b5n0",
            "6",
        ],
        [
            (
                "POST",
                "/State/Components",
                [],
                {
                    "Components": [
                        {
                            "ID": "x1000c0s0b5n0",
                            "NID": 6,
                            "State": "On",
                            "Enabled": False,
                            "Role": "Service",
                            "Arch": "ARM",
                        }
                    ]
                },
            )
        ],
    ),
    (
        ["component", "add", "-d", '{"Components":[{"ID":"x1000c0s0b5n0","State":"On"}]}'],
        [("POST", "/State/Components", [], {"Components": [{"ID": "x1000c0s0b5n0", "State": "On"}]})],
    ),
    (
        ["component", "delete", "--no-confirm", "x1000c0s0b[0-1]n0"],
        [
            ("DELETE", f"/State/Components/{N0}", [], None),
            ("DELETE", "/State/Components/x1000c0s0b1n0", [], None),
        ],
    ),
    (["component", "delete", "--no-confirm", "--all"], [("DELETE", "/State/Components", [], None)]),
    (
        ["component", "delete", "--no-confirm", "-d", f'{{"Components":[{{"ID":"{N0}"}}]}}'],
        [("DELETE", f"/State/Components/{N0}", [], None)],
    ),
    (["iface", "get"], [("GET", "/Inventory/EthernetInterfaces", [], None)]),
    (
        [
            "iface",
            "get",
            "-m",
            "52:54:00:be:ef:01",
            "--ip",
            "172.16.0.1",
            "--net",
            "management",
            "--comp-id",
            "x1000c0s0b[0-1]n0",
            "--type",
            "Node",
            "--older-than",
            "2030-01-01T00:00:00Z",
            "--newer-than",
            "2020-01-01T00:00:00Z",
        ],
        [
            (
                "GET",
                "/Inventory/EthernetInterfaces",
                [
                    ("MACAddress", "52:54:00:be:ef:01"),
                    ("IPAddress", "172.16.0.1"),
                    ("Network", "management"),
                    ("ComponentID", N0),
                    ("ComponentID", "x1000c0s0b1n0"),
                    ("Type", "Node"),
                    ("OlderThan", "2030-01-01T00:00:00Z"),
                    ("NewerThan", "2020-01-01T00:00:00Z"),
                ],
                None,
            )
        ],
    ),
    (
        ["iface", "get", "-i", "525400beef01"],
        [("GET", "/Inventory/EthernetInterfaces/525400beef01", [], None)],
    ),
    (
        ["iface", "get", "-i", "525400beef01", "--by-ip"],
        [("GET", "/Inventory/EthernetInterfaces/525400beef01/IPAddresses", [], None)],
    ),
    (
        ["iface", "add", "x1000c0s0b1n0", "52:54:00:be:ef:02", "management,172.16.0.2", "hsn,10.0.0.2"],
        [
            (
                "POST",
                "/Inventory/EthernetInterfaces",
                [],
                {
                    "ComponentID": "x1000c0s0b1n0",
                    "MACAddress": "52:54:00:be:ef:02",
                    "Description": "Undescribed Ethernet Interface",
                    "IPAddresses": [
                        {"IPAddress": "172.16.0.2", "Network": "management"},
                        {"IPAddress": "10.0.0.2", "Network": "hsn"},
                    ],
                },
            )
        ],
    ),
    (
        ["iface", "add", "-D", "eth1", "x1000c0s0b1n0", "52:54:00:be:ef:03"],
        [
            (
                "POST",
                "/Inventory/EthernetInterfaces",
                [],
                {
                    "ComponentID": "x1000c0s0b1n0",
                    "MACAddress": "52:54:00:be:ef:03",
                    "Description": "eth1",
                    "IPAddresses": [],
                },
            )
        ],
    ),
    (
        ["iface", "delete", "--no-confirm", "525400beef01"],
        [("DELETE", "/Inventory/EthernetInterfaces/525400beef01", [], None)],
    ),
    (["iface", "delete", "--no-confirm", "--all"], [("DELETE", "/Inventory/EthernetInterfaces", [], None)]),
    (
        [
            "rfe",
            "add",
            "x1000c0s0b1",
            "bmc2",
            "172.16.0.102",
            "de:ca:fc:0f:fe:e2",
            "--domain",
            "d",
            "--hostname",
            "h",
            "--username",
            "root",
            "--password",
            "pw",
        ],
        [
            (
                "POST",
                "/Inventory/RedfishEndpoints",
                [],
                {
                    "ID": "x1000c0s0b1",
                    "Name": "bmc2",
                    "IPAddress": "172.16.0.102",
                    "MACAddr": "de:ca:fc:0f:fe:e2",
                    "Enabled": True,
                    "Domain": "d",
                    "Hostname": "h",
                    "User": "root",
                    "Password": "pw",
                },
            )
        ],
    ),
    (
        [
            "rfe",
            "get",
            "-x",
            "x1000c0s0b0",
            "--fqdn",
            "f",
            "--type",
            "NodeBMC",
            "--uuid",
            "u",
            "-m",
            "de:ca:fc:0f:fe:e1",
            "-i",
            "172.16.0.101",
        ],
        [
            (
                "GET",
                "/Inventory/RedfishEndpoints",
                [
                    ("id", "x1000c0s0b0"),
                    ("fqdn", "f"),
                    ("type", "NodeBMC"),
                    ("uuid", "u"),
                    ("macaddr", "de:ca:fc:0f:fe:e1"),
                    ("ipaddress", "172.16.0.101"),
                ],
                None,
            )
        ],
    ),
    (
        ["rfe", "delete", "--no-confirm", "x1000c0s0b0"],
        [("DELETE", "/Inventory/RedfishEndpoints/x1000c0s0b0", [], None)],
    ),
    (["rfe", "delete", "--no-confirm", "--all"], [("DELETE", "/Inventory/RedfishEndpoints", [], None)]),
    (["compep", "get"], [("GET", "/Inventory/ComponentEndpoints", [], None)]),
    (["compep", "get", N0], [("GET", f"/Inventory/ComponentEndpoints/{N0}", [], None)]),
    (
        ["compep", "get", "x1000c0s0b[0-1]n0"],
        [("GET", "/Inventory/ComponentEndpoints", [("id", N0), ("id", "x1000c0s0b1n0")], None)],
    ),
    (["compep", "delete", "--no-confirm", N0], [("DELETE", f"/Inventory/ComponentEndpoints/{N0}", [], None)]),
    (["compep", "delete", "--no-confirm", "--all"], [("DELETE", "/Inventory/ComponentEndpoints", [], None)]),
    (
        ["group", "add", "login", "-m", "x1000c0s0b1n0", "--tag", "a", "--tag", "b", "-e", "ex"],
        [
            (
                "POST",
                "/groups",
                [],
                {
                    "label": "login",
                    "description": "The login group",
                    "members": {"ids": ["x1000c0s0b1n0"]},
                    "tags": ["a", "b"],
                    "exclusiveGroup": "ex",
                },
            )
        ],
    ),
    (
        ["group", "add", "-D", "x", "empty"],
        [("POST", "/groups", [], {"label": "empty", "description": "x", "members": {"ids": []}})],
    ),
    (["group", "get"], [("GET", "/groups", [], None)]),
    (
        ["group", "get", "--name", "compute", "--tag", "t"],
        [("GET", "/groups", [("group", "compute"), ("tag", "t")], None)],
    ),
    (
        ["group", "update", "compute", "-D", "new", "--tag", "t"],
        [("PATCH", "/groups/compute", [], {"description": "new", "tags": ["t"]})],
    ),
    (["group", "delete", "--no-confirm", "compute"], [("DELETE", "/groups/compute", [], None)]),
    (
        ["group", "member", "add", "compute", "x1000c0s0b1n0"],
        [("POST", "/groups/compute/members", [], {"id": "x1000c0s0b1n0"})],
    ),
    (["group", "member", "delete", "compute", N0], [("DELETE", f"/groups/compute/members/{N0}", [], None)]),
    (["group", "member", "get", "compute"], [("GET", "/groups/compute/members", [], None)]),
    (
        ["group", "member", "set", "compute", "x1000c0s0b[0-1]n0"],
        [("PUT", "/groups/compute/members", [], {"group": "compute", "ids": [N0, "x1000c0s0b1n0"]})],
    ),
    (["service", "status"], [("GET", "/service/ready", [], None)]),
    (["service", "status", "--all"], [("GET", "/service/values", [], None)]),
    (["status"], [("GET", "/service/ready", [], None)]),
]


@pytest.mark.parametrize(("args", "expected"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_command_sends_the_upstream_request(
    demo: Ochami, filled: FakeSMD, args: list[str], expected: list[tuple[str, str, Any, Any]]
) -> None:
    """Each smd command sends exactly the requests of spec §5.4 and succeeds against the fake SMD."""
    r = demo("smd", *args)
    assert r.exit_code == 0, r.output
    got = [(c.method, c.path.removeprefix("/hsm/v2"), c.params, c.body) for c in filled.calls]
    assert got == expected


def test_service_status_output(demo: Ochami) -> None:
    """The tutorial's sanity check prints SMD's answer re-encoded."""
    assert demo("smd", "service", "status").stdout == '{"code":0,"message":"HSM is healthy"}\n'


def test_get_outputs_are_the_answers(demo: Ochami, filled: FakeSMD) -> None:
    """Gets print the answer: one component unwrapped, a group's members, an interface's IPs."""
    r = demo("smd", "component", "get", "-x", N0)
    assert r.stdout == '{"Enabled":true,"ID":"x1000c0s0b0n0","NID":1,"State":"On","Type":"Node"}\n'
    assert demo("smd", "group", "member", "get", "compute").stdout == '{"ids":["x1000c0s0b0n0"]}\n'
    r = demo("smd", "iface", "get", "-i", "525400beef01", "--by-ip")
    assert r.stdout == '[{"IPAddress":"172.16.0.1","Network":"management"}]\n'


def test_writes_are_silent(demo: Ochami, filled: FakeSMD) -> None:
    """Successful adds, updates and deletes print nothing, as upstream."""
    for args in (
        ["group", "member", "add", "compute", "x1000c0s0b1n0"],
        ["group", "update", "compute", "-D", "d"],
        ["component", "delete", "--no-confirm", "x1000c0s0b1n0"],
    ):
        r = demo("smd", *args)
        assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")


def test_partial_failure_reports_each_and_exits_1(demo: Ochami, filled: FakeSMD) -> None:
    """Deleting several where one is missing deletes the others, reports the missing one, exits 1."""
    r = demo("smd", "component", "delete", "--no-confirm", "x1000c0s0b9n0", N0)
    assert r.exit_code == 1
    assert r.stderr.count("Error: unsuccessful HTTP status: HTTP/1.1 404 Not Found") == 1
    assert N0 not in filled.components


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["component", "add", "x1000c0s0b0n0"], "give XNAME and NID"),
        (["component", "delete", "--no-confirm"], "use exactly one of: arguments, --all, -d"),
        (["component", "delete", "--no-confirm", "--all", N0], "use exactly one of"),
        (["component", "get", "-x", N0, "-n", "1"], "use -x or -n, not both"),
        (["component", "get", "-x", "x[1-"], "unbalanced '['"),
        (["component", "get", "-n", "one"], "invalid NID 'one'"),
        (["iface", "add", "x1000c0s0b0n0", "52:54:00:be:ef:09", "10.0.0.1"], "expected NETWORK,IP"),
        (["iface", "get", "--by-ip"], "--by-ip needs -i/--id"),
        (["rfe", "add", "x1000c0s0b1"], "give XNAME NAME IP MAC"),
        (["group", "add"], "give a LABEL"),
        (["group", "update", "compute"], "nothing to update"),
        (["group", "update", "-d", '{"description":"x"}'], "every payload item needs 'label'"),
        (
            ["component", "delete", "--no-confirm", "-d", '{"Components":[{"NID":1}]}'],
            "every payload item needs 'ID'",
        ),
    ],
)
def test_usage_errors(demo: Ochami, filled: FakeSMD, args: list[str], message: str) -> None:
    """Wrong argument combinations are refused with a message and nothing is sent."""
    r = demo("smd", *args)
    assert r.exit_code != 0
    assert message in r.stderr
    assert [c for c in filled.calls if c.method != "GET"] == []
