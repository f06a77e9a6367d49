"""End to end with BSS and cloud-init: scenario checkpoints 3 and 4, the ochami side, over real HTTP.
# ruff: noqa: E501  (long literal expectations read better on one line)

They need the SMD, BSS and cloud-init servers (``needs_smd``, ``needs_bss``, ``needs_cloudinit``), which
are merged separately; they fail until then.
"""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from tests.cli.conftest import SCENARIO
from tests.cli.liveserver import Live

pytestmark = pytest.mark.needs_smd


def _discover(live: Live) -> None:
    r = live.ochami("discover", "static", "-f", "yaml", "-d", f"@{SCENARIO / 'nodes.yaml'}")
    assert (r.returncode, r.stderr) == (0, "")


@pytest.mark.needs_bss
def test_checkpoint_3_boot_params_and_script(live: Live) -> None:
    """boot params set from boot-debug.yaml; get -F yaml shows the five MACs; the boot script is right."""
    _discover(live)
    assert live.ochami("bss", "service", "status").stdout == '{"bss-status":"running"}\n'
    r = live.ochami("bss", "boot", "params", "set", "-f", "yaml", "-d", f"@{SCENARIO / 'boot-debug.yaml'}")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    want = yaml.safe_load((SCENARIO / "boot-debug.yaml").read_text())
    r = live.ochami("bss", "boot", "params", "get", "-F", "yaml")
    assert r.returncode == 0, r.stderr
    (cfg,) = yaml.safe_load(r.stdout)
    assert sorted(cfg["macs"]) == [f"52:54:00:be:ef:0{i}" for i in range(1, 6)]
    assert (cfg["kernel"], cfg["initrd"], cfg["params"]) == (want["kernel"], want["initrd"], want["params"])
    assert "cloud-init" in cfg
    r = live.ochami("bss", "boot", "script", "get", "-m", "52:54:00:be:ef:01")
    assert r.stdout.startswith("#!ipxe\n")
    assert "initrd=initrd" in r.stdout
    assert "xname=x1000c0s0b0n0 nid=1 BOOTIF=01-52-54-00-be-ef-01" in r.stdout
    r = live.ochami("bss", "boot", "image", "set", "-m", "52:54:00:be:ef:02", "live:http://172.16.0.254/new")
    assert r.returncode == 0, r.stderr
    script = live.ochami("bss", "boot", "script", "get", "-m", "52:54:00:be:ef:02").stdout
    assert " root=live:http://172.16.0.254/new " in script
    r = live.ochami("bss", "boot", "params", "delete", "--no-confirm", "-m", "52:54:00:be:ef:05")
    assert r.returncode == 0, r.stderr


@pytest.mark.needs_cloudinit
def test_checkpoint_4_cloud_init(live: Live) -> None:
    """defaults and the compute group set; a node's meta-data, vendor-data and rendered group config."""
    _discover(live)
    assert live.ochami("cloud-init", "service", "status").stdout == "cloud-init is running\n"
    r = live.ochami(
        "cloud-init", "defaults", "set", "-f", "yaml", "-d", f"@{SCENARIO / 'cloud-init' / 'defaults.yaml'}"
    )
    assert (r.returncode, r.stderr) == (0, "")
    computes = (SCENARIO / "cloud-init" / "computes.yaml").read_text()
    group = {
        "name": "compute",
        "description": "compute config",
        "file": {"encoding": "base64", "content": base64.b64encode(computes.encode()).decode()},
    }
    r = live.ochami("cloud-init", "group", "set", "-d", json.dumps([group]))
    assert (r.returncode, r.stderr) == (0, "")
    assert live.ochami("cloud-init", "group", "get", "config", "compute").stdout == computes
    r = live.ochami("cloud-init", "node", "get", "meta-data", "x1000c0s0b0n0", "-F", "yaml")
    assert r.returncode == 0, r.stderr
    (meta,) = yaml.safe_load(r.stdout)
    assert meta["hostname"] == "nid001"
    assert meta["cluster-name"] == "demo"
    v1 = meta["instance_data"]["v1"]
    assert v1["public_keys"] == ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests admin@demo"]
    assert "compute" in v1["vendor_data"]["groups"]
    r = live.ochami("cloud-init", "node", "get", "vendor-data", "x1000c0s0b0n0")
    assert r.stdout == "#include\nhttp://172.16.0.254:8081/cloud-init/compute.yaml\n"
    r = live.ochami("cloud-init", "group", "render", "compute", "x1000c0s0b0n0")
    assert r.returncode == 0, r.stderr
    assert (
        "ssh_authorized_keys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests admin@demo']"
        in r.stdout
    )
    assert "## template: jinja" not in r.stdout
