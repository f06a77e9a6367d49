"""Real DHCP clients (dhclient, udhcpc, dhcpcd) against the daemon, in namespaces joined by a veth pair."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pychami.core.db import Database
from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import MessageType
from pychami.netboot.tables import netboot_leases
from tests.netboot.conftest import SERVER, node, settings
from tests.netboot.harness import running_daemon
from tests.netboot.netns import Lab, entered, sh, veth_lab

MAC = "52:54:00:00:00:01"
ADDR = "198.18.0.11"
NODES = [node(1, MAC, ADDR), node(2, "52:54:00:00:00:02", "198.18.0.12", "10.77.0.22")]

# Prints what the client learned, then configures the address like a normal client script would
# (our own script, so no client touches the host's hostname or resolv.conf).
SCRIPT = """#!/bin/sh
env | sort > "{out}.$$"
mv "{out}.$$" "{out}.${{reason:-$1}}"
ip="${{new_ip_address:-$ip}}"
[ -n "$ip" ] && ip addr replace "$ip/16" dev vcli 2>/dev/null
exit 0
"""


@pytest.fixture
def lab() -> Iterator[Lab]:
    with veth_lab(client_mac=MAC) as created:
        yield created


def script(tmp_path: Path) -> tuple[str, Path]:
    out = tmp_path / "env"
    path = tmp_path / "client.sh"
    path.write_text(SCRIPT.format(out=out))
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path), out


def read_env(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return dict(pairs)


def client_addresses(lab: Lab) -> str:
    return lab.run_cli("ip", "-4", "-o", "addr", "show", "dev", "vcli").stdout


def test_dhclient_gets_smd_address_and_hostname(lab: Lab, tmp_path: Path) -> None:
    """dhclient does DORA and learns the SMD address, hostname nid001, router and DNS; RELEASE is seen."""
    path, out = script(tmp_path)
    with running_daemon(settings(interfaces=["vsrv"], tftp=False), NODES, netns=lab.srv) as run:
        pid, leases = str(tmp_path / "dh.pid"), str(tmp_path / "dh.leases")
        lab.run_cli("dhclient", "-4", "-1", "-sf", path, "-pf", pid, "-lf", leases, "vcli", timeout=30)
        env = read_env(Path(f"{out}.BOUND"))
        assert env["new_ip_address"] == ADDR
        assert env["new_host_name"] == "nid001"
        assert env["new_routers"] == SERVER
        assert env["new_domain_name_servers"] == SERVER
        assert env["new_domain_name"] == "cluster"
        assert env["new_subnet_mask"] == "255.255.0.0"
        assert f"inet {ADDR}/16" in client_addresses(lab)
        lab.run_cli("dhclient", "-4", "-r", "-sf", path, "-pf", pid, "-lf", leases, "vcli", timeout=30)
        stages = run.events.stages()
    assert stages[:4] == ["dhcp_discover", "dhcp_offer", "dhcp_request", "dhcp_ack"]
    assert "dhcp_release" in stages


def test_udhcpc_gets_address_hostname_and_pxe_file(lab: Lab, tmp_path: Path) -> None:
    """udhcpc announcing x86-64 UEFI PXE gets the SMD address, hostname and ipxe.efi from next-server."""
    path, out = script(tmp_path)
    with running_daemon(settings(interfaces=["vsrv"], tftp=False), NODES, netns=lab.srv) as run:
        lab.run_cli(
            *("udhcpc", "-i", "vcli", "-n", "-q", "-f", "-t", "3", "-T", "1", "-s", path),
            *("-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007", "-O", "bootfile"),
            timeout=30,
        )
        events = run.events.items
    env = read_env(Path(f"{out}.bound"))
    assert env["ip"] == ADDR
    assert env["hostname"] == "nid001"
    assert env["siaddr"] == SERVER
    assert env["boot_file"] == "ipxe.efi"
    assert env["subnet"] == "255.255.0.0"
    assert env["lease"] == "3600"
    assert f"inet {ADDR}/16" in client_addresses(lab)
    assert events[-1]["detail"]["client"] == "firmware"
    assert events[-1]["xname"] == "x3000c0s1b0n0"


def test_dhcpcd_gets_smd_address_and_hostname(lab: Lab, tmp_path: Path) -> None:
    """dhcpcd (no ARP probe, our script instead of its hooks) binds the SMD address and hostname."""
    path, out = script(tmp_path)
    with running_daemon(settings(interfaces=["vsrv"], tftp=False), NODES, netns=lab.srv):
        # dhcpcd keeps leases in /var/lib/dhcpcd: give it a private tmpfs there (ip netns exec runs the
        # command in its own mount namespace) so no run sees another's lease and the host stays clean.
        dhcpcd = [
            *("dhcpcd", "-4", "-1", "-B", "-t", "10", "--noarp", "-f", "/dev/null", "-c", path),
            *("--nohook", "hostname", "--nohook", "resolv.conf", "-o", "host_name", "vcli"),
        ]
        lab.run_cli(
            "sh",
            "-c",
            "mkdir -p /var/lib/dhcpcd /run/dhcpcd && mount -t tmpfs none /var/lib/dhcpcd"
            ' && mount -t tmpfs none /run/dhcpcd && exec "$@"',
            "sh",
            *dhcpcd,
            timeout=40,
        )
    env = read_env(Path(f"{out}.BOUND"))
    assert env["new_ip_address"] == ADDR
    assert env["new_host_name"] == "nid001"
    assert env["new_routers"] == SERVER


def test_unknown_mac_ignored(tmp_path: Path) -> None:
    """With unknown=ignore, a MAC missing from SMD gets no lease at all."""
    path, out = script(tmp_path)
    with veth_lab(client_mac="52:54:00:99:00:01") as lab:
        with running_daemon(settings(interfaces=["vsrv"], tftp=False), NODES, netns=lab.srv) as run:
            result = lab.run_cli(
                "udhcpc",
                "-i",
                "vcli",
                "-n",
                "-q",
                "-f",
                "-t",
                "2",
                "-T",
                "1",
                "-s",
                path,
                timeout=30,
                check=False,
            )
            stats = dict(run.daemon.dhcp.stats)
        assert result.returncode != 0
        assert not Path(f"{out}.bound").exists()
        assert stats["replied"] == 0
        assert stats["received"] >= 2


def test_unknown_mac_bootloop(tmp_path: Path, db: Database) -> None:
    """With unknown=bootloop a new MAC gets a short lease from the pool, stored in the database; its next
    firmware DISCOVER is NAKed and the lease freed."""
    path, out = script(tmp_path)
    cfg = settings(
        interfaces=["vsrv"],
        tftp=False,
        unknown="bootloop",
        bootloop={"pool_start": "198.18.2.10", "pool_end": "198.18.2.20", "lease_time": 120},
    )
    with veth_lab(client_mac="52:54:00:99:00:02") as lab:
        with running_daemon(cfg, NODES, netns=lab.srv, db=db) as run:
            firmware = ("-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000", "-O", "bootfile")
            lab.run_cli("udhcpc", "-i", "vcli", "-n", "-q", "-f", "-t", "3", "-T", "1", "-s", path, *firmware)
            env = read_env(Path(f"{out}.bound"))
            assert env["ip"] == "198.18.2.10"
            assert env["lease"] == "120"
            assert env["boot_file"] == "undionly.kpxe"
            run.call(run.daemon.flush_leases())
            with db.read() as conn:
                rows = conn.execute(sa.select(netboot_leases.c.mac, netboot_leases.c.ip)).all()
            assert [tuple(r) for r in rows] == [("52:54:00:99:00:02", "198.18.2.10")]
            # next firmware boot: NAK, lease dropped; udhcpc starts over and gets a fresh lease
            Path(f"{out}.bound").unlink()
            lab.run_cli("udhcpc", "-i", "vcli", "-n", "-q", "-f", "-t", "4", "-T", "1", "-s", path, *firmware)
            stages = run.events.stages()
        assert "dhcp_nak" in stages
        assert Path(f"{out}.bound").exists()


def test_relay_mode(tmp_path: Path) -> None:
    """A relayed DISCOVER (giaddr + option 82, from port 67) is answered to the relay on its subnet."""
    with veth_lab(client_mac="52:54:00:00:00:09") as lab:
        lab.run_cli("ip", "addr", "add", "198.18.0.2/16", "dev", "vcli")
        lab.run_cli("ip", "addr", "add", "10.77.0.1/24", "dev", "vcli")
        sh("ip", "-n", lab.srv, "route", "add", "10.77.0.0/24", "via", "198.18.0.2")
        with running_daemon(settings(interfaces=["vsrv"], tftp=False), NODES, netns=lab.srv) as run:
            with entered(lab.cli):
                relay = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                relay.bind(("0.0.0.0", 67))
                relay.settimeout(5)
                agent = codec.encode_suboptions([(1, b"leaf1:port7")])
                req = codec.DhcpPacket(
                    xid=77,
                    hops=1,
                    giaddr="10.77.0.1",
                    chaddr=bytes.fromhex("525400000002") + bytes(10),
                    options=[(codec.OPT_MESSAGE_TYPE, bytes((MessageType.DISCOVER,))), (82, agent)],
                )
                relay.sendto(codec.encode(req), (SERVER, 67))
                data, sender = relay.recvfrom(2048)
            finally:
                relay.close()
            assert run.events.stages() == ["dhcp_discover", "dhcp_offer"]
        offer = codec.decode(data)
        assert sender == (SERVER, 67)
        assert offer.message_type is MessageType.OFFER
        assert offer.yiaddr == "10.77.0.22"
        assert offer.get(82) == agent
        assert codec.ip_list(offer.get(codec.OPT_ROUTER) or b"") == ["10.77.0.1"]


def test_real_relay_dhcrelay(tmp_path: Path) -> None:
    """ISC dhcrelay between a client segment (10.77.0.0/24) and the server: udhcpc gets the node's
    address on the relayed subnet, with the relay as router."""
    path, out = script(tmp_path)
    tag = os.urandom(3).hex()
    srv, rly, cli = f"nbs{tag}", f"nbr{tag}", f"nbc{tag}"
    try:
        for ns in (srv, rly, cli):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", f"a{tag}", "type", "veth", "peer", "name", f"b{tag}")
        sh("ip", "link", "add", f"c{tag}", "type", "veth", "peer", "name", f"d{tag}")
        for dev, ns, name, addr in (
            (f"a{tag}", srv, "vsrv", "198.18.0.1/16"),
            (f"b{tag}", rly, "rup", "198.18.0.2/16"),
            (f"c{tag}", rly, "rdown", "10.77.0.1/24"),
            (f"d{tag}", cli, "vcli", ""),
        ):
            sh("ip", "link", "set", dev, "netns", ns)
            sh("ip", "-n", ns, "link", "set", dev, "name", name)
            if addr:
                sh("ip", "-n", ns, "addr", "add", addr, "dev", name)
            sh("ip", "-n", ns, "link", "set", name, "up")
        sh("ip", "-n", cli, "link", "set", "vcli", "address", "52:54:00:00:00:02")
        sh("ip", "-n", srv, "route", "add", "10.77.0.0/24", "via", "198.18.0.2")
        with running_daemon(settings(interfaces=["vsrv"], tftp=False), NODES, netns=srv) as run:
            relay_argv = ["dhcrelay", "-4", "-d", "-q", "-a", "-pf", str(tmp_path / "r.pid")]
            relay_argv += ["-id", "rdown", "-iu", "rup", "198.18.0.1"]
            relay = subprocess.Popen(
                ["ip", "netns", "exec", rly, *relay_argv],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                time.sleep(1.0)
                sh("ip", "netns", "exec", cli, "udhcpc", "-i", "vcli", "-n", "-q", "-f", "-t", "5", "-T", "1",
                   "-s", path, timeout=30)  # fmt: skip
            finally:
                relay.kill()
                relay.wait()
            offers = [e for e in run.events.items if e["stage"] == "dhcp_ack"]
        env = read_env(Path(f"{out}.bound"))
        assert env["ip"] == "10.77.0.22"
        assert env["router"] == "10.77.0.1"
        assert env["subnet"] == "255.255.255.0"
        assert env["hostname"] == "nid002"
        assert offers[0]["xname"] == "x3000c0s2b0n0"
    finally:
        for ns in (cli, rly, srv):
            for pid in sh("ip", "netns", "pids", ns, check=False).stdout.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            sh("ip", "netns", "del", ns, check=False)
