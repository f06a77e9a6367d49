"""`ochami bss ...` on the client side: each command's request (BSS server tests end to end are pending)."""
# ruff: noqa: E501  (tables of test cases read better one case per line)

from __future__ import annotations

import pytest
import yaml

from pychami.cli.ochami.bss import empty_cloud_init, set_root
from tests.cli.conftest import SCENARIO, Ochami
from tests.cli.recorder import Recorder

B = "/boot/v1"


@pytest.fixture
def bss(demo: Ochami) -> Recorder:
    rec = Recorder()
    demo.transport = rec.transport()
    return rec


def test_params_set_from_scenario_file(demo: Ochami, bss: Recorder) -> None:
    """The tutorial's `boot params set -f yaml -d @boot-debug.yaml` PUTs the file plus the cloud-init block."""
    r = demo("bss", "boot", "params", "set", "-f", "yaml", "-d", f"@{SCENARIO / 'boot-debug.yaml'}")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "", "")
    (call,) = bss.calls
    assert (call.method, call.path) == ("PUT", f"{B}/bootparameters")
    assert call.body == {
        **yaml.safe_load((SCENARIO / "boot-debug.yaml").read_text()),
        "cloud-init": empty_cloud_init(),
    }
    assert call.auth is not None


@pytest.mark.parametrize(("cmd", "method"), [("set", "PUT"), ("add", "POST"), ("update", "PATCH")])
def test_params_flags_override_payload(demo: Ochami, bss: Recorder, cmd: str, method: str) -> None:
    """-x/-m/-n/--kernel/--initrd/--params build or override the body; ranges expand."""
    r = demo(
        "bss", "boot", "params", cmd, "-d", '{"kernel":"k0","params":"p0"}', "-x", "x1000c0s0b[0-1]n0",
        "-m", "52:54:00:be:ef:01", "-n", "1-2", "--kernel", "k1", "--initrd", "i1",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    (call,) = bss.calls
    assert call.method == method
    assert call.body == {
        "kernel": "k1", "params": "p0", "initrd": "i1", "hosts": ["x1000c0s0b0n0", "x1000c0s0b1n0"],
        "macs": ["52:54:00:be:ef:01"], "nids": [1, 2], "cloud-init": empty_cloud_init(),
    }  # fmt: skip


def test_params_without_arguments_prints_usage(demo: Ochami, bss: Recorder) -> None:
    """No arguments at all prints the usage and exits 0, as upstream."""
    r = demo("bss", "boot", "params", "set")
    assert r.exit_code == 0
    assert r.stdout.startswith("Usage:")
    assert bss.calls == []


def test_params_bad_mac(demo: Ochami, bss: Recorder) -> None:
    """MACs are validated before sending."""
    r = demo("bss", "boot", "params", "add", "-m", "52:54:00:be:ef", "--kernel", "k")
    assert r.exit_code == 1
    assert r.stderr == "Error: invalid MAC address: '52:54:00:be:ef'\n"
    assert bss.calls == []


def test_params_delete_confirms(demo: Ochami, bss: Recorder) -> None:
    """delete refuses without a terminal, and sends DELETE with the body under --no-confirm."""
    assert demo("bss", "boot", "params", "delete", "-m", "52:54:00:be:ef:01").exit_code == 1
    assert bss.calls == []
    assert demo("bss", "boot", "params", "delete", "--no-confirm", "-m", "52:54:00:be:ef:01").exit_code == 0
    (call,) = bss.calls
    assert (call.method, call.body["macs"]) == ("DELETE", ["52:54:00:be:ef:01"])


def test_params_get(demo: Ochami, bss: Recorder) -> None:
    """get sends repeated name/mac/nid keys and prints the answer re-encoded."""
    bss.answer("GET", f"{B}/bootparameters", body=[{"macs": ["52:54:00:be:ef:01"], "kernel": "k"}])
    r = demo(
        "bss",
        "boot",
        "params",
        "get",
        "-x",
        "x1000c0s0b0n0",
        "-m",
        "52:54:00:be:ef:01,52:54:00:be:ef:02",
        "-n",
        "3",
        "-F",
        "yaml",
    )
    assert r.stdout == "- kernel: k\n  macs:\n  - 52:54:00:be:ef:01\n"
    assert bss.calls[0].params == [
        ("name", "x1000c0s0b0n0"), ("mac", "52:54:00:be:ef:01"), ("mac", "52:54:00:be:ef:02"), ("nid", "3"),
    ]  # fmt: skip
    demo("bss", "boot", "params", "get")
    assert bss.calls[1].params == []


def test_set_root() -> None:
    """root= is replaced in place, or appended when missing."""
    assert set_root("ro root=live:http://a/x ip=dhcp", "live:http://b/y") == "ro root=live:http://b/y ip=dhcp"
    assert set_root("ro", "live:http://b/y") == "ro root=live:http://b/y"


def test_image_set(demo: Ochami, bss: Recorder) -> None:
    """image set reads the matching configs and PUTs each back with the new root=."""
    bss.answer(
        "GET", f"{B}/bootparameters", body=[{"macs": ["52:54:00:be:ef:01"], "params": "ro root=live:old"}]
    )
    r = demo("bss", "boot", "image", "set", "-m", "52:54:00:be:ef:01", "live:new")
    assert r.exit_code == 0, r.output
    assert bss.calls[1].method == "PUT"
    assert bss.calls[1].body["params"] == "ro root=live:new"
    assert demo("bss", "boot", "image", "set", "live:new").exit_code == 2


def test_script_get(demo: Ochami, bss: Recorder) -> None:
    """script get sends one key plus retry/arch/ts, no token, and prints the script verbatim."""
    bss.answer("GET", f"{B}/bootscript", text="#!ipxe\nboot\n\n")
    r = demo(
        "bss",
        "boot",
        "script",
        "get",
        "-m",
        "52:54:00:be:ef:01",
        "--retry",
        "2",
        "--arch",
        "x86_64",
        "--timestamp",
        "5",
    )
    assert r.stdout == "#!ipxe\nboot\n\n"
    assert bss.calls[0].params == [
        ("mac", "52:54:00:be:ef:01"),
        ("retry", "2"),
        ("arch", "x86_64"),
        ("ts", "5"),
    ]
    assert bss.calls[0].auth is None
    assert demo("bss", "boot", "script", "get").exit_code == 2


@pytest.mark.parametrize(
    ("args", "path", "params"),
    [
        (["hosts", "get", "-x", "x1000c0s0b0n0"], "/hosts", [("name", "x1000c0s0b0n0")]),
        (["dumpstate"], "/dumpstate", []),
        (["history", "--xname", "x1000c0s0b0n0", "--endpoint", "bootscript"], "/endpoint-history",
         [("name", "x1000c0s0b0n0"), ("endpoint", "bootscript")]),
        (["service", "status"], "/service/status", []),
        (["service", "status", "--all"], "/service/status/all", []),
        (["service", "status", "--storage"], "/service/storage/status", []),
        (["service", "status", "--smd"], "/service/hsm", []),
        (["service", "version"], "/service/version", []),
        (["status"], "/service/status", []),
    ],
)  # fmt: skip
def test_read_commands(
    demo: Ochami, bss: Recorder, args: list[str], path: str, params: list[tuple[str, str]]
) -> None:
    """hosts, dumpstate, history and service commands GET their path without a token."""
    bss.answer("GET", f"{B}{path}", body={"bss-status": "running"})
    r = demo("bss", *args)
    assert r.exit_code == 0, r.output
    assert r.stdout == '{"bss-status":"running"}\n'
    assert (bss.calls[0].method, bss.calls[0].path, bss.calls[0].params, bss.calls[0].auth) == (
        "GET",
        f"{B}{path}",
        params,
        None,
    )


def test_bss_uri_flag(demo: Ochami, bss: Recorder) -> None:
    """--uri moves BSS elsewhere (upstream's /apis/bss prefix, for example)."""
    demo("bss", "--uri", "/apis/bss/boot/v1", "service", "status")
    assert bss.calls[0].path == "/apis/bss/boot/v1/service/status"
