"""Record real DHCP exchanges (run as root: ``python -m tests.netboot.capture_clients``).

Each client runs in a fresh namespace pair against the pychami DHCP server; every datagram the client
sent (``>``) and every reply (``<``) is stored as one hex line in ``fixtures/<client>.hex``. Run once to
make the codec fixtures; the tests only read the files.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from pychami.core.inventory import Interface, IPAddress, Node, static_source
from pychami.netboot.daemon import NetbootDaemon
from pychami.netboot.dhcp.server import DhcpServer, Reply
from pychami.netboot.events import ListEvents
from pychami.netboot.settings import NetbootSettings
from tests.netboot.netns import entered, veth_lab

FIXTURES = Path(__file__).parent / "fixtures"
MAC = "52:54:00:ca:fe:01"
CLIENTS = {
    "dhclient": ["dhclient", "-4", "-v", "-1", "-pf", "/tmp/nbcap.pid", "-lf", "/tmp/nbcap.leases", "vcli"],
    "udhcpc": [
        *("udhcpc", "-i", "vcli", "-n", "-q", "-f", "-t", "2", "-T", "1", "-x", "hostname:capture"),
        *("-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000", "-O", "bootfile", "-s", "/bin/true"),
    ],
    "dhcpcd": [
        "dhcpcd",
        "-4",
        "-1",
        "-B",
        "-t",
        "5",
        "--noarp",
        "--nohook",
        "resolv.conf",
        "-f",
        "/dev/null",
        "vcli",
    ],
}


def capture(argv: list[str]) -> list[str]:
    lines: list[str] = []
    original = DhcpServer.process

    def recording(self: DhcpServer, data: bytes, interface: str = "") -> Reply | None:
        lines.append("> " + data.hex())
        reply = original(self, data, interface)
        if reply is not None:
            lines.append("< " + reply.data.hex())
        return reply

    node = Node("x3000c0s1b0n0", 1, interfaces=(Interface(MAC, (IPAddress("198.18.0.50"),)),))
    cfg = NetbootSettings(
        interfaces=["vsrv"], server_ip="198.18.0.1", subnets=["198.18.0.0/16"], router="198.18.0.1",
        dns=["198.18.0.1"], domain="cluster", tftp=False,
    )  # fmt: skip
    with veth_lab(client_mac=MAC) as lab:
        daemon = NetbootDaemon(
            cfg,
            boot_url="http://198.18.0.1:8081",
            inventory=static_source([node]).load_inventory,
            events=ListEvents(),
        )
        loop = asyncio.new_event_loop()
        with entered(lab.srv):
            loop.run_until_complete(daemon.start())
        thread = threading.Thread(target=loop.run_forever)
        DhcpServer.process = recording  # type: ignore[method-assign]
        try:
            thread.start()
            lab.run_cli(*argv, timeout=30, check=False)
        finally:
            DhcpServer.process = original  # type: ignore[method-assign]
            asyncio.run_coroutine_threadsafe(daemon.stop(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
    return lines


def capture_ipxe(seconds: float = 40.0) -> list[str]:
    """Boot QEMU's iPXE ROM (TCG) on a tap in a namespace and record its DHCP exchange."""
    import subprocess
    import time

    from tests.netboot.netns import sh

    lines: list[str] = []
    original = DhcpServer.process

    def recording(self: DhcpServer, data: bytes, interface: str = "") -> Reply | None:
        lines.append("> " + data.hex())
        reply = original(self, data, interface)
        if reply is not None:
            lines.append("< " + reply.data.hex())
        return reply

    ns = "nbcapipxe"
    node = Node("x3000c0s1b0n0", 1, interfaces=(Interface(MAC, (IPAddress("198.18.0.50"),)),))
    cfg = NetbootSettings(
        interfaces=["tap0"], server_ip="198.18.0.1", subnets=["198.18.0.0/16"], router="198.18.0.1",
        dns=["198.18.0.1"], domain="cluster", tftp=False,
    )  # fmt: skip
    sh("ip", "netns", "add", ns)
    qemu = None
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    daemon = NetbootDaemon(
        cfg,
        boot_url="http://198.18.0.1:8081",
        inventory=static_source([node]).load_inventory,
        events=ListEvents(),
    )
    try:
        sh("ip", "-n", ns, "tuntap", "add", "dev", "tap0", "mode", "tap")
        sh("ip", "-n", ns, "addr", "add", "198.18.0.1/16", "dev", "tap0")
        sh("ip", "-n", ns, "link", "set", "tap0", "up")
        with entered(ns):
            loop.run_until_complete(daemon.start())
        DhcpServer.process = recording  # type: ignore[method-assign]
        thread.start()
        qemu = subprocess.Popen(
            ["ip", "netns", "exec", ns, "qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-nodefaults",
             "-nographic", "-monitor", "none", "-serial", "null", "-no-reboot",
             "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
             "-device", f"virtio-net-pci,netdev=n0,mac={MAC},bootindex=1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        end = time.monotonic() + seconds
        while time.monotonic() < end and sum(1 for line in lines if line.startswith("<")) < 2:
            time.sleep(0.5)
    finally:
        DhcpServer.process = original  # type: ignore[method-assign]
        if qemu is not None:
            qemu.kill()
            qemu.wait()
        if thread.is_alive():
            asyncio.run_coroutine_threadsafe(daemon.stop(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
        loop.close()
        sh("ip", "netns", "del", ns, check=False)
    return lines


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["ipxe"]:
        got = capture_ipxe()
        (FIXTURES / "ipxe.hex").write_text("".join(line + "\n" for line in got))
        print("ipxe", len(got))  # noqa: T201 - a command-line tool
        sys.exit(0)

    for client, argv in CLIENTS.items():
        got = capture(argv)
        (FIXTURES / f"{client}.hex").write_text("".join(line + "\n" for line in got))
        print(client, len(got))  # noqa: T201 - a command-line tool
