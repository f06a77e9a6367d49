"""`pychami netboot` end to end (SMD rows in the database -> dhclient), serve flags, serve's lifespan."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from pychami.cli.pychami import _with_netboot, main
from pychami.core.db import Database
from pychami.core.events import boot_events
from pychami.core.settings import load_settings
from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import MessageType
from pychami.server import create_app
from pychami.smd import tables as smd
from tests.netboot.netns import Lab, veth_lab
from tests.netboot.tftp_client import fetch

PYCHAMI = str(Path(sys.executable).parent / "pychami")
MAC = "52:54:00:00:00:01"


def add_node(db: Database, xname: str, nid: int, mac: str, ip: str) -> None:
    """Insert what `ochami discover static` would have stored in SMD (component, interface, address)."""
    iface_id = mac.replace(":", "")
    with db.transaction() as conn:
        conn.execute(sa.insert(smd.components).values(id=xname, type="Node", state="Ready", nid=nid))
        conn.execute(
            sa.insert(smd.ethernet_interfaces).values(
                id=iface_id, mac=mac, component_id=xname, last_update=dt.datetime.now(dt.UTC)
            )
        )
        conn.execute(
            sa.insert(smd.interface_ips).values(interface_id=iface_id, ip=ip, network="", position=0)
        )


@pytest.fixture
def lab() -> Iterator[Lab]:
    with veth_lab(client_mac=MAC) as created:
        yield created


def test_netboot_command_end_to_end(lab: Lab, tmp_path: Path) -> None:
    """`pychami netboot` reads nodes from the database, serves dhclient its SMD address and hostname,
    serves TFTP, and writes boot events to the database on shutdown."""
    data = tmp_path / "data"
    assert subprocess.run([PYCHAMI, "db", "upgrade", "--data-dir", str(data)], check=False).returncode == 0
    db = Database.from_url(f"sqlite:///{(data / 'pychami.db').resolve()}")
    add_node(db, "x3000c0s1b0n0", 1, MAC, "198.18.0.11")
    root = tmp_path / "tftp"
    root.mkdir()
    (root / "undionly.kpxe").write_bytes(os.urandom(70000))
    argv = [
        *("ip", "netns", "exec", lab.srv, PYCHAMI, "netboot", "--data-dir", str(data)),
        *("--interface", "vsrv", "--server-ip", "198.18.0.1", "--subnet", "198.18.0.0/16"),
        *("--router", "198.18.0.1", "--dns", "198.18.0.1", "--tftp-root", str(root)),
        *("--boot-url", "http://198.18.0.1:8081"),
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    drained: list[str] = []
    try:
        assert proc.stdout is not None
        seen = ""
        deadline = time.monotonic() + 30
        while "TFTP server listening" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        assert "TFTP server listening" in seen, seen
        # Keep draining the daemon's log so a full pipe can never block it (and keep it for failures).
        drainer = threading.Thread(target=lambda: drained.extend(proc.stdout or ()), daemon=True)
        drainer.start()
        script = tmp_path / "s.sh"
        script.write_text('#!/bin/sh\nenv > "%s.$reason"\nexit 0\n' % (tmp_path / "env"))
        script.chmod(0o755)
        lab.run_cli(
            *(
                "dhclient",
                "-4",
                "-1",
                "-sf",
                str(script),
                "-pf",
                str(tmp_path / "p"),
                "-lf",
                str(tmp_path / "l"),
            ),
            "vcli",
        )
        env = (tmp_path / "env.BOUND").read_text()
        assert "new_ip_address=198.18.0.11" in env
        assert "new_host_name=nid001" in env
        lab.run_cli("ip", "addr", "add", "198.18.0.11/16", "dev", "vcli")
        out = tmp_path / "u.kpxe"
        curl = lab.run_cli("curl", "-sS", "-o", str(out), "tftp://198.18.0.1/undionly.kpxe", check=False)
        assert curl.returncode == 0, curl.stderr
        assert out.read_bytes() == (root / "undionly.kpxe").read_bytes()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("pychami netboot ignored SIGINT; its log:\n" + "".join(drained)) from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
    with db.read() as conn:
        rows = conn.execute(sa.select(boot_events.c.stage, boot_events.c.xname)).all()
    db.dispose()
    stages = {(r.stage, r.xname) for r in rows}
    assert ("dhcp_ack", "x3000c0s1b0n0") in stages
    assert ("tftp_done", "x3000c0s1b0n0") in stages


def test_netboot_without_interface_fails() -> None:
    """`pychami netboot` without an interface exits non-zero with an Error: line."""
    result = CliRunner().invoke(main, ["netboot", "--data-dir", "/nonexistent-pychami"])
    assert result.exit_code != 0
    assert "Error: netboot needs --interface" in result.output


def test_serve_and_netboot_share_flags() -> None:
    """Both commands accept the netboot flags with the same names."""
    for command in ("serve", "netboot"):
        text = CliRunner().invoke(main, [command, "--help"]).output
        for flag in (
            "--interface",
            "--server-ip",
            "--subnet",
            "--router",
            "--dns",
            "--tftp-root",
            "--boot-url",
        ):
            assert flag in text


def test_flags_override_config_file(tmp_path: Path) -> None:
    """Flags are merged over the config file's netboot section, keeping its other keys."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("netboot:\n  domain: cluster\n  router: 10.0.0.1\n  unknown: bootloop\n")
    settings = _with_netboot(
        load_settings(cfg, data_dir=tmp_path),
        {
            "nb_interfaces": ("eth1",),
            "nb_router": "10.0.0.254",
            "nb_pool": "10.0.0.200-10.0.0.250",
            "nb_dns": (),
        },
    )
    assert settings.netboot == {
        "domain": "cluster",
        "router": "10.0.0.254",
        "unknown": "bootloop",
        "interfaces": ["eth1"],
        "bootloop": {"pool_start": "10.0.0.200", "pool_end": "10.0.0.250"},
    }


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_lifespan_runs_daemons(tmp_path: Path, db: Database) -> None:
    """The all-in-one app starts DHCP and TFTP in its lifespan when interfaces are configured
    (loopback and unprivileged ports here) and stops them on shutdown."""
    dhcp_port, tftp_port = free_udp_port(), free_udp_port()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(5)
    netboot = {
        "interfaces": ["lo"],
        "server_ip": "127.0.0.1",
        "subnets": ["127.0.0.0/8"],
        "dhcp_port": dhcp_port,
        "client_port": client.getsockname()[1],
        "tftp_port": tftp_port,
        "tftp_listen": "127.0.0.1",
        "tftp_root": str(tmp_path),
    }
    settings = load_settings(data_dir=tmp_path / "data", netboot=netboot)
    app = create_app(settings, db=db, migrate_schema=False)
    try:
        with TestClient(app):
            inform = codec.DhcpPacket(
                xid=5,
                ciaddr="127.0.0.1",
                chaddr=bytes.fromhex("525400000001") + bytes(10),
                options=[(codec.OPT_MESSAGE_TYPE, bytes((MessageType.INFORM,)))],
            )
            client.sendto(codec.encode(inform), ("127.0.0.1", dhcp_port))
            ack = codec.decode(client.recv(2048))
            assert ack.message_type is MessageType.ACK
            assert ack.xid == 5
            assert fetch(tftp_port, "default").data == b"#!ipxe\nreboot\n"
        with pytest.raises(
            (TimeoutError, ConnectionRefusedError)
        ):  # stopped with the app: nobody answers any more
            fetch(tftp_port, "default", timeout=0.5)
    finally:
        client.close()
