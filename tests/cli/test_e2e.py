"""End to end: the real `ochami` executable against a real `pychami serve` over HTTP on 127.0.0.1.

Tests marked ``needs_smd`` need the SMD API of the foundation issue (``/hsm/v2`` beyond
``/service/ready``); they are part of the suite and fail until it is merged.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.cli.conftest import SCENARIO, make_token

BIN = Path(sys.executable).parent
CHECKPOINT_1 = """ochami smd component get | jq '.Components[] | select(.Type == "Node")'"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A running server and an environment for ochami pointing at it as cluster `demo`."""

    url: str
    env: dict[str, str]
    home: Path

    def sh(self, command: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a shell command line (ochami, jq ...) exactly as a user would type it."""
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            env=self.env, cwd=self.home, input=input, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def ochami(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `ochami ARGS`."""
        return self.sh("ochami " + " ".join(shlex.quote(a) for a in args), input=input)


@contextmanager
def _server(tmp_path: Path) -> Iterator[Live]:
    """`pychami serve` on a free loopback port with a fresh data dir; ochami configured for it."""
    port = _free_port()
    data = tmp_path / "data"
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "pychami"), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data)],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/hsm/v2/service/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("pychami serve did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.1)
        token = subprocess.run(
            [str(BIN / "pychami"), "token", "create", "--data-dir", str(data), "--sub", "admin"],
            capture_output=True, text=True, check=True, cwd=tmp_path,
        ).stdout.strip()  # fmt: skip
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "OCHAMI_SYSTEM_CONFIG": str(tmp_path / "etc-ochami.yaml"),
            "DEMO_ACCESS_TOKEN": token,
            "LANG": "C.UTF-8",
        }
        live = Live(url, env, tmp_path)
        r = live.ochami("config", "cluster", "set", "--user", "--default", "demo", "cluster.uri", url)
        assert r.returncode == 0, r.stderr
        yield live
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for the tests that do not change its data."""
    with _server(tmp_path_factory.mktemp("e2e-shared")) as live:
        yield live


@pytest.fixture
def shared(shared_server: Live) -> Live:
    """The shared server with an environment of the test's own."""
    return Live(shared_server.url, dict(shared_server.env), shared_server.home)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """A fresh server of the test's own."""
    with _server(tmp_path) as live:
        yield live


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
