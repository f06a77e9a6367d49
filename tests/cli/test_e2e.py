"""End to end: the real `ochami` executable against a real `pychami serve` over HTTP on 127.0.0.1.

Tests marked ``needs_smd`` need the SMD API of the foundation issue (``/hsm/v2`` beyond
``/service/ready``); they are part of the suite and fail until it is merged.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.cli.conftest import SCENARIO, make_token
from tests.cli.liveserver import Live

CHECKPOINT_1 = """ochami smd component get | jq '.Components[] | select(.Type == "Node")'"""


def _objects(text: str) -> list[Any]:
    """The JSON values of a jq output stream."""
    dec = json.JSONDecoder()
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        value, end = dec.raw_decode(text, pos)
        out.append(value)
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def test_service_status_and_version(shared: Live) -> None:
    """The tutorial's sanity check prints SMD's health answer; `ochami version` prints a version."""
    r = shared.ochami("smd", "service", "status")
    assert (r.returncode, r.stdout, r.stderr) == (0, '{"code":0,"message":"HSM is healthy"}\n', "")
    r = shared.ochami("version")
    assert r.returncode == 0
    assert r.stdout.startswith("Version:")


def test_config_show_from_subprocess(shared: Live) -> None:
    """The config written by `config cluster set` is what `config show` prints."""
    r = shared.ochami("config", "show", "-f", "json")
    assert json.loads(r.stdout) == {
        "clusters": [{"cluster": {"uri": shared.url}, "name": "demo"}],
        "default-cluster": "demo",
    }


def test_http_error_from_real_server(shared: Live) -> None:
    """A 404 from the server prints its status and body on stderr and exits 1."""
    r = shared.ochami("smd", "component", "get", "-x", "x9999c0s0b0n0")
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr.startswith("Error: unsuccessful HTTP status: HTTP/1.1 404 Not Found:")


def test_token_errors_from_subprocess(shared: Live) -> None:
    """Expired or missing tokens stop the real executable with upstream's messages."""
    shared.env["DEMO_ACCESS_TOKEN"] = make_token(-60)
    r = shared.ochami("smd", "group", "get")
    assert r.returncode == 1
    assert r.stderr.startswith("Error: token expired at ")
    del shared.env["DEMO_ACCESS_TOKEN"]
    r = shared.ochami("smd", "group", "get")
    assert (
        r.stderr
        == 'Error: Environment variable DEMO_ACCESS_TOKEN unset for reading token for cluster "demo"\n'
    )


def test_discover_validation_from_subprocess(shared: Live) -> None:
    """A bad nodes file is rejected with every problem, exit 1, and the server stays empty."""
    doc = yaml.safe_load((SCENARIO / "nodes.yaml").read_text())
    doc["nodes"][1]["nid"] = 1
    doc["nodes"][2]["interfaces"][0]["mac_addr"] = "52:54:00:be:ef:01"
    r = shared.ochami("discover", "static", "-f", "yaml", "-d", "@-", input=yaml.safe_dump(doc))
    assert r.returncode == 1
    assert "node 2 (compute2): duplicate NID 1 (also used by node 1 (compute1))" in r.stderr
    assert "node 3 (compute3) interface 1: duplicate MAC address 52:54:00:be:ef:01" in r.stderr
    assert "nothing was sent" in r.stderr


def test_completion_scripts(shared: Live) -> None:
    """`ochami completion bash|zsh|fish` print scripts that bash accepts and that complete subcommands."""
    for shell in ("bash", "zsh", "fish"):
        r = shared.ochami("completion", shell)
        assert r.returncode == 0
        assert "_OCHAMI_COMPLETE" in r.stdout
    r = shared.sh("source <(ochami completion bash) && complete -p ochami")
    assert r.returncode == 0, r.stderr
    r = shared.sh("COMP_WORDS='ochami sm' COMP_CWORD=1 _OCHAMI_COMPLETE=bash_complete ochami")
    assert "smd" in r.stdout


@pytest.mark.needs_smd
def test_checkpoint_1(live: Live) -> None:
    """Scenario checkpoint 1: silent discovery, the exact jq pipeline, --overwrite rerun, conflict rerun."""
    r = live.ochami("discover", "static", "-f", "yaml", "-d", f"@{SCENARIO / 'nodes.yaml'}")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    r = live.sh(CHECKPOINT_1)
    assert r.returncode == 0, r.stderr
    nodes = _objects(r.stdout)
    assert len(nodes) == 5
    for i, node in enumerate(nodes):
        assert node["Enabled"] is True
        assert node["ID"] == f"x1000c0s0b{i}n0"
        assert node["NID"] == i + 1
        assert node["Role"] == "Compute"
        assert node["Type"] == "Node"
    r = live.ochami("discover", "static", "--overwrite", "-f", "yaml", "-d", f"@{SCENARIO / 'nodes.yaml'}")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert _objects(live.sh(CHECKPOINT_1).stdout) == nodes
    r = live.ochami("discover", "static", "-f", "yaml", "-d", f"@{SCENARIO / 'nodes.yaml'}")
    assert r.returncode == 1
    assert r.stdout == ""
    for i in range(5):
        assert f"Error: redfish endpoint x1000c0s0b{i} (compute{i + 1}) already exists" in r.stderr
    assert "Error: group compute already exists (use --overwrite to update it)" in r.stderr


@pytest.mark.needs_smd
def test_bare_list_from_stdin(live: Live) -> None:
    """The bare top-level list form, piped on stdin, gives the same five nodes."""
    nodes = yaml.safe_load((SCENARIO / "nodes.yaml").read_text())["nodes"]
    r = live.sh("ochami discover static -f yaml", input=yaml.safe_dump(nodes))
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    ids = [n["ID"] for n in _objects(live.sh(CHECKPOINT_1).stdout)]
    assert ids == [f"x1000c0s0b{i}n0" for i in range(5)]


@pytest.mark.needs_smd
def test_smd_commands_against_the_server(live: Live) -> None:
    """After discovery: interfaces keep their network, groups and members, ranges, deletes."""
    assert (
        live.ochami("discover", "static", "-f", "yaml", "-d", f"@{SCENARIO / 'nodes.yaml'}").returncode == 0
    )
    r = live.ochami("smd", "iface", "get", "--comp-id", "x1000c0s0b0n0")
    (iface,) = json.loads(r.stdout)
    assert iface["MACAddress"] == "52:54:00:be:ef:01"
    assert iface["IPAddresses"] == [{"IPAddress": "172.16.0.1", "Network": "management"}]
    r = live.ochami("smd", "component", "get", "-x", "x1000c0s0b[0-1]n0")
    assert [c["NID"] for c in json.loads(r.stdout)["Components"]] == [1, 2]
    assert live.ochami("smd", "group", "add", "login", "-m", "x1000c0s0b4n0").returncode == 0
    assert live.ochami("smd", "group", "member", "add", "login", "x1000c0s0b3n0").returncode == 0
    r = live.ochami("smd", "group", "member", "get", "login")
    assert sorted(json.loads(r.stdout)["ids"]) == ["x1000c0s0b3n0", "x1000c0s0b4n0"]
    r = live.ochami("smd", "rfe", "get", "-x", "x1000c0s0b0", "-F", "yaml")
    assert yaml.safe_load(r.stdout)["RedfishEndpoints"][0]["MACAddr"] == "de:ca:fc:0f:fe:e1"
    r = live.ochami("smd", "compep", "get", "x1000c0s0b0n0")
    assert json.loads(r.stdout)["RedfishEndpointID"] == "x1000c0s0b0"
    assert live.ochami("smd", "group", "delete", "--no-confirm", "login").returncode == 0
    r = live.ochami("smd", "component", "delete", "--no-confirm", "x1000c0s0b4n0")
    assert r.returncode == 0, r.stderr
    r = live.ochami("smd", "component", "get", "-x", "x1000c0s0b4n0")
    assert r.returncode == 1
    assert "404 Not Found" in r.stderr


@pytest.mark.needs_smd
def test_discover_batches_against_the_server(live: Live) -> None:
    """Against real SMD: a batch refused for one existing endpoint is resent one by one (only that one is
    reported, the others are stored); --overwrite over a partial inventory ends like a fresh run."""
    doc = yaml.safe_load((SCENARIO / "nodes.yaml").read_text())
    (live.home / "one.yaml").write_text(yaml.safe_dump({"nodes": [doc["nodes"][1]]}))
    r = live.ochami("discover", "static", "-f", "yaml", "-d", "@one.yaml")
    assert (r.returncode, r.stderr) == (0, "")
    args = ("discover", "static", "--batch-size", "2", "-f", "yaml", "-d", f"@{SCENARIO / 'nodes.yaml'}")
    r = live.ochami(*args)
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert len(lines) == 2, r.stderr
    assert lines[0].startswith("Error: redfish endpoint x1000c0s0b1 (compute2) already exists")
    assert "HTTP 409" in lines[0]
    assert lines[1].startswith("Error: group compute already exists")
    r = live.ochami("smd", "rfe", "get")
    assert sorted(e["ID"] for e in json.loads(r.stdout)["RedfishEndpoints"]) == [
        f"x1000c0s0b{i}" for i in range(5)
    ]
    r = live.ochami(*args[:2], "--overwrite", *args[2:])
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    nodes = _objects(live.sh(CHECKPOINT_1).stdout)
    assert [(n["ID"], n["NID"], n["Role"], n["Enabled"]) for n in nodes] == [
        (f"x1000c0s0b{i}n0", i + 1, "Compute", True) for i in range(5)
    ]
    r = live.ochami("smd", "iface", "get", "--comp-id", "x1000c0s0b4n0")
    (iface,) = json.loads(r.stdout)
    assert iface["IPAddresses"] == [{"IPAddress": "172.16.0.5", "Network": "management"}]
    r = live.ochami("smd", "group", "member", "get", "compute")
    assert sorted(json.loads(r.stdout)["ids"]) == [f"x1000c0s0b{i}n0" for i in range(5)]
