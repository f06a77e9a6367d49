"""Pure pieces of magellan: target expansion, xnames, ID maps, MACs, resources, cache, secrets."""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pychami.cli.magellan import main
from pychami.core.errors import BadRequest, ConfigError, NotFound
from pychami.discovery.cache import Asset, Cache
from pychami.discovery.collect import bmc_id, parse_id_map, xname_from_ip
from pychami.discovery.power import node_targets, resolve
from pychami.discovery.redfish import Credentials
from pychami.discovery.resources import ComputerSystem, EthernetInterface, Manager, normalize_mac
from pychami.discovery.scan import Target, build_targets, subnet_addresses
from pychami.discovery.secrets import SecretStore, generate_key, parse_master_key, parse_secret


def test_subnet_expands_every_address_including_network_and_broadcast() -> None:
    """A /22 gives 1024 addresses, as upstream; an address plus --subnet-mask is the same network."""
    addrs = subnet_addresses("127.0.0.0/22", None)
    assert len(addrs) == 1024
    assert (addrs[0], addrs[-1]) == ("127.0.0.0", "127.0.3.255")
    assert subnet_addresses("10.1.2.3", "255.255.255.252") == ["10.1.2.0", "10.1.2.1", "10.1.2.2", "10.1.2.3"]
    with pytest.raises(BadRequest, match="invalid subnet"):
        subnet_addresses("10.0.0.0/33", None)


def test_targets_use_port_443_by_default_and_explicit_ports_win() -> None:
    """Hosts without a port get 443 (or --port), a host's own port and scheme are kept, duplicates vanish."""
    targets = build_targets(
        ["10.0.0.1", "http://10.0.0.2:8000", "10.0.0.1"], ["10.0.1.0/31"], None, [], "https"
    )
    assert targets == [
        Target("https", "10.0.0.1", 443),
        Target("http", "10.0.0.2", 8000),
        Target("https", "10.0.1.0", 443),
        Target("https", "10.0.1.1", 443),
    ]
    assert build_targets(["10.0.0.1"], [], None, [8443, 443], "https") == [
        Target("https", "10.0.0.1", 8443),
        Target("https", "10.0.0.1", 443),
    ]


def test_xname_from_ip_follows_upstream_rule() -> None:
    """x{(ip>>19)&0x1FFF}c{(ip>>16)&7}s{ip>>24}b{ip&0xFF}, and a non-IPv4 host is a clear error."""
    assert xname_from_ip("172.16.0.101") == "x5506c0s172b101"  # 0xAC10 >> 3 = 5506
    assert xname_from_ip("10.23.4.7") == "x322c7s10b7"
    with pytest.raises(BadRequest, match="bmc-id-map"):
        xname_from_ip("bmc1.example")


def test_bmc_id_map_forms_and_lookup(tmp_path: Path) -> None:
    """Plain and upstream-wrapped maps, inline or @file (JSON or YAML); map entries win over the IP rule."""
    assert parse_id_map('{"10.0.0.1": "x1000c0s0b0"}') == {"10.0.0.1": "x1000c0s0b0"}
    yaml_file = tmp_path / "map.yaml"
    yaml_file.write_text("map:\n  10.0.0.2: x1000c0s1b0\n")
    assert parse_id_map(f"@{yaml_file}") == {"10.0.0.2": "x1000c0s1b0"}
    with pytest.raises(BadRequest):
        parse_id_map("[1, 2]")
    asset = Asset("https://10.0.0.2", 443)
    assert bmc_id(asset, {"10.0.0.2": "x1000c0s1b0"}) == "x1000c0s1b0"
    assert bmc_id(asset, {"https://10.0.0.2:443": "x9c0s0b0"}) == "x9c0s0b0"
    assert bmc_id(asset, {}) == xname_from_ip("10.0.0.2")


def test_mac_normalisation_and_missing_addresses() -> None:
    """Vendor MAC spellings become aa:bb:..; null lists, 0.0.0.0 and Oem blocks never fail a parse."""
    assert normalize_mac("B0-7B-25-DE-AD-02") == "b0:7b:25:de:ad:02"
    assert normalize_mac("b07b.25de.ad02") == "b0:7b:25:de:ad:02"
    assert normalize_mac("zz") == ""
    nic = EthernetInterface.model_validate(
        {
            "MACAddress": None,
            "PermanentMACAddress": "AA:BB:CC:DD:EE:FF",
            "IPv4Addresses": None,
            "Oem": {"X": 1},
        }
    )
    assert (nic.mac, nic.ip) == ("aa:bb:cc:dd:ee:ff", "")
    nic = EthernetInterface.model_validate(
        {"IPv4Addresses": [{"Address": "0.0.0.0"}, {"Address": "10.0.0.9"}]}
    )
    assert nic.ip == "10.0.0.9"
    system = ComputerSystem.model_validate({"Id": "1", "Actions": None, "EthernetInterfaces": None})
    assert system.reset_action() is None
    assert Manager.model_validate({"Actions": {"#Manager.Reset": {"target": "/x"}}}).reset_types() == []


def test_cache_roundtrip_and_upstream_table(tmp_path: Path) -> None:
    """Assets land in upstream's magellan_scanned_assets table, refreshed on conflict, sorted by address."""
    cache = Cache(tmp_path / "sub" / "assets.db")
    assert cache.assets() == []
    cache.save_assets([Asset("https://10.0.0.10", 443), Asset("https://10.0.0.9", 443)])
    cache.save_assets([Asset("https://10.0.0.9", 443, state=False)])
    assert [(a.host, a.state) for a in cache.assets()] == [
        ("https://10.0.0.9", False),
        ("https://10.0.0.10", True),
    ]
    with sqlite3.connect(cache.path) as conn:
        cols = [r[1] for r in conn.execute("PRAGMA table_info(magellan_scanned_assets)")]
    assert cols == ["host", "port", "protocol", "state", "timestamp"]
    assert cache.delete_assets(["10.0.0.9"]) == 1
    cache.save_inventory([{"ID": "x1c0s0b0", "Systems": []}])
    assert cache.inventory() == [{"ID": "x1c0s0b0", "Systems": []}]


def test_power_resolves_nodes_as_smd_numbers_them() -> None:
    """Systems are numbered n0, n1.. per BMC by unique UUID; a BMC ID selects all its nodes."""
    inventory = [
        {
            "ID": "x1c0s0b0",
            "Systems": [
                {"uri": "https://10.0.0.1:443/redfish/v1/Systems/a", "uuid": "u1", "actions": ["On"]},
                {"uri": "https://10.0.0.1:443/redfish/v1/Systems/a-dup", "uuid": "u1"},
                {"uri": "https://10.0.0.1:443/redfish/v1/Systems/b", "uuid": "u2"},
            ],
        }
    ]
    nodes = node_targets(inventory)
    assert sorted(nodes) == ["x1c0s0b0n0", "x1c0s0b0n1"]
    assert nodes["x1c0s0b0n1"].system_path == "/redfish/v1/Systems/b"
    assert nodes["x1c0s0b0n1"].reset_target == "/redfish/v1/Systems/b/Actions/ComputerSystem.Reset"
    assert nodes["x1c0s0b0n0"].base_url == "https://10.0.0.1:443"
    assert [n.xname for n in resolve(inventory, ["x1c0s0b0"])] == ["x1c0s0b0n0", "x1c0s0b0n1"]
    with pytest.raises(NotFound, match="x9c0s0b0n0"):
        resolve(inventory, ["x9c0s0b0n0"])


def test_secret_store_encrypts_and_falls_back_to_default(tmp_path: Path) -> None:
    """Secrets are AES-GCM ciphertext on disk, looked up by ID then 'default', bound to their ID."""
    key = parse_master_key(generate_key())
    store = SecretStore(tmp_path / "secrets.json", key)
    store.store("default", Credentials("root", "pw0"))
    store.store("x1c0s0b0", Credentials("admin", "pw1"))
    raw = (tmp_path / "secrets.json").read_text()
    assert "pw1" not in raw
    assert "admin" not in raw
    assert store.lookup("x1c0s0b0") == Credentials("admin", "pw1")
    assert store.lookup("x2c0s0b0", "https://10.0.0.2") == Credentials("root", "pw0")
    assert store.ids() == ["default", "x1c0s0b0"]
    # A value copied under another ID does not decrypt (the ID is the associated data).
    data = json.loads(raw)
    data["x3c0s0b0"] = data["x1c0s0b0"]
    (tmp_path / "secrets.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="cannot decrypt"):
        store.retrieve("x3c0s0b0")
    with pytest.raises(ConfigError, match="wrong MASTER_KEY"):
        SecretStore(tmp_path / "secrets.json", parse_master_key(generate_key())).retrieve("default")
    store.remove("x3c0s0b0")
    with pytest.raises(NotFound):
        store.remove("x3c0s0b0")


def test_secret_formats() -> None:
    """basic user:pass, JSON, and base64 of either; malformed input is a BadRequest."""
    assert parse_secret("root:a:b", "basic") == Credentials("root", "a:b")
    assert parse_secret('{"username": "u", "password": "p"}', "json") == Credentials("u", "p")
    assert parse_secret(base64.b64encode(b"u:p").decode(), "base64") == Credentials("u", "p")
    for value, fmt in (("nocolon", "basic"), ("{}", "json"), ("!!", "base64")):
        with pytest.raises(BadRequest):
            parse_secret(value, fmt)
    with pytest.raises(ConfigError, match="MASTER_KEY"):
        parse_master_key(None)


def test_secrets_cli_roundtrip(tmp_path: Path) -> None:
    """generatekey, store, list, retrieve and remove through the CLI; no MASTER_KEY is a clear error."""
    runner = CliRunner()
    key = runner.invoke(main, ["secrets", "generatekey"]).stdout.strip()
    assert len(bytes.fromhex(key)) == 32
    env = {"MASTER_KEY": key}
    f = str(tmp_path / "s.json")
    assert runner.invoke(main, ["secrets", "store", "default", "root:pw", "-f", f], env=env).exit_code == 0
    secret = '{"username":"a","password":"b"}'
    stored = runner.invoke(main, ["secrets", "store", "x1c0s0b0", secret, "-F", "json", "-f", f], env=env)
    assert stored.exit_code == 0
    assert json.loads(runner.invoke(main, ["secrets", "list", "-f", f]).stdout) == ["default", "x1c0s0b0"]
    got = runner.invoke(main, ["secrets", "retrieve", "x1c0s0b0", "-f", f], env=env)
    assert json.loads(got.stdout) == {"username": "a", "password": "b"}
    assert runner.invoke(main, ["secrets", "remove", "x1c0s0b0", "-f", f]).exit_code == 0
    nokey = runner.invoke(main, ["secrets", "retrieve", "default", "-f", f], env={"MASTER_KEY": ""})
    assert nokey.exit_code == 2
    assert nokey.stderr.startswith("Error: no master key")


def test_help_has_examples_for_every_command() -> None:
    """Every command's --help shows an Examples section."""
    runner = CliRunner()
    for cmd in ("scan", "list", "crawl", "collect", "send", "power", "secrets"):
        out = runner.invoke(main, [cmd, "--help"]).stdout
        assert "Examples:" in out, cmd
    assert "Typical run:" in runner.invoke(main, ["--help"]).stdout


def test_collect_with_an_empty_cache_says_what_to_do(tmp_path: Path) -> None:
    """collect before any scan fails with a pointer to 'magellan scan'."""
    res = CliRunner().invoke(main, ["--cache", str(tmp_path / "c.db"), "collect", "-u", "a", "-p", "b"])
    assert res.exit_code == 1
    assert "run 'magellan scan' first" in res.stderr
