"""Network namespaces with a veth pair for the netboot tests (created and always deleted by the caller).

Threads enter a namespace with ``setns(2)`` (per-thread on Linux), so a server can run in this process
inside the "server" namespace while real clients run under ``ip netns exec`` in the "client" one.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def sh(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def entered(netns: str) -> Iterator[None]:
    """Run the body of the ``with`` (this thread only) inside ``netns``; sockets made there stay there."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        if _libc.setns(target, _CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {netns}")
        try:
            yield
        finally:
            if _libc.setns(own, _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(own)
        os.close(target)


@dataclass
class Lab:
    """Two namespaces joined by a veth: ``srv`` (interface ``vsrv``) and ``cli`` (interface ``vcli``)."""

    srv: str
    cli: str
    srv_if: str = "vsrv"
    cli_if: str = "vcli"

    def run_cli(
        self, *args: str, timeout: float = 30, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return sh("ip", "netns", "exec", self.cli, *args, timeout=timeout, check=check)

    def popen_cli(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.cli, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


@contextlib.contextmanager
def veth_lab(server_cidr: str = "198.18.0.1/16", client_mac: str | None = None) -> Iterator[Lab]:
    """Create the pair, address the server side, yield, then delete everything whatever happened."""
    tag = uuid.uuid4().hex[:6]
    lab = Lab(srv=f"nbs{tag}", cli=f"nbc{tag}")
    resolv_dir = f"/etc/netns/{lab.cli}"
    try:
        sh("ip", "netns", "add", lab.srv)
        sh("ip", "netns", "add", lab.cli)
        # dhclient rewrites resolv.conf: give the client namespace its own so the host's is untouched.
        os.makedirs(resolv_dir, exist_ok=True)
        with open(f"{resolv_dir}/resolv.conf", "w", encoding="ascii") as fh:
            fh.write("nameserver 127.0.0.1\n")
        sh("ip", "link", "add", f"s{tag}", "type", "veth", "peer", "name", f"c{tag}")
        sh("ip", "link", "set", f"s{tag}", "netns", lab.srv)
        sh("ip", "link", "set", f"c{tag}", "netns", lab.cli)
        sh("ip", "-n", lab.srv, "link", "set", f"s{tag}", "name", lab.srv_if)
        sh("ip", "-n", lab.cli, "link", "set", f"c{tag}", "name", lab.cli_if)
        if client_mac:
            sh("ip", "-n", lab.cli, "link", "set", lab.cli_if, "address", client_mac)
        sh("ip", "-n", lab.srv, "addr", "add", server_cidr, "dev", lab.srv_if)
        for ns, dev in ((lab.srv, lab.srv_if), (lab.cli, lab.cli_if)):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        yield lab
    finally:
        for ns in (lab.cli, lab.srv):
            # kill anything a client left behind (dhclient daemonises) before deleting the namespace
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            sh("ip", "netns", "del", ns, check=False)
        with contextlib.suppress(OSError):
            os.remove(f"{resolv_dir}/resolv.conf")
            os.rmdir(resolv_dir)
