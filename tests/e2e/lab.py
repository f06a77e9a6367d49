"""An isolated boot network with pychami on it, the scenario loaded with ``ochami``, and QEMU nodes.

Everything with packets lives in one network namespace made here (unique name, always deleted): a bridge
``br0`` with the scenario's server address 172.16.0.254/24 (and fd99::1/64 for the router advertisement
that keeps iPXE from waiting ~13 s for IPv6), a tap ``tap0`` on it, ``pychami serve`` (API, DHCP, TFTP,
boot files) bound to the bridge, dnsmasq sending only RAs (``ra-only`` opens no DHCPv4 socket), and a
QEMU VM (TCG) on the tap with its serial console in a file. Used by the tests and by ``scripts/demo``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.cli.liveserver import BIN, Live
from tests.live import Server, pychami_server

SCENARIO = Path(os.environ.get("PYCHAMI_SCENARIO", "/work/shared/scenario"))
_TESTS = Path(__file__).resolve().parent.parent
#: The repository's copies of the scenario files, used when the shared scenario directory is absent.
_COPIES = {
    "nodes.yaml": _TESTS / "cloudinit" / "data" / "nodes.yaml",
    "boot-debug.yaml": _TESTS / "bss" / "data" / "boot-debug.yaml",
    "cloud-init/defaults.yaml": _TESTS / "cloudinit" / "data" / "defaults.yaml",
    "cloud-init/computes.yaml": _TESTS / "cloudinit" / "data" / "computes.yaml",
}
SERVER_IP = "172.16.0.254"
SUBNET = "172.16.0.0/24"
API = f"http://{SERVER_IP}:8081"
NODE_MAC = "52:54:00:be:ef:01"
NODE_IP = "172.16.0.1"
NODE_XNAME = "x1000c0s0b0n0"
NODE_HOSTNAME = "nid001"
#: The seed URL cloud-init 22.4 needs: it appends ``meta-data`` to it verbatim, so the trailing ``/``
#: matters (the scenario's boot-debug.yaml has none).
SEED = f"{API}/cloud-init/"
OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


def sh(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({res.returncode}): {res.stderr.strip()}")
    return res


@dataclass
class Segment:
    """The namespace, its bridge and the VM's tap."""

    netns: str
    bridge: str = "br0"
    tap: str = "tap0"

    def exec(self, *args: str) -> list[str]:
        """``args`` prefixed to run inside the namespace."""
        return ["ip", "netns", "exec", self.netns, *args]


def _kill_namespace_processes(netns: str) -> None:
    for pid in sh("ip", "netns", "pids", netns, check=False).stdout.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)


@contextlib.contextmanager
def segment(tag: str | None = None) -> Iterator[Segment]:
    """Create the namespace with bridge + tap, yield it, then kill what is left in it and delete it."""
    seg = Segment(f"e2e{tag or uuid.uuid4().hex[:8]}")
    try:
        sh("ip", "netns", "add", seg.netns)

        def ip(*args: str) -> None:
            sh("ip", "-n", seg.netns, *args)

        ip("link", "set", "lo", "up")
        ip("link", "add", seg.bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        ip("addr", "add", f"{SERVER_IP}/24", "dev", seg.bridge)
        ip("addr", "add", "fd99::1/64", "dev", seg.bridge, "nodad")
        ip("tuntap", "add", "dev", seg.tap, "mode", "tap")
        ip("link", "set", seg.tap, "master", seg.bridge)
        ip("link", "set", seg.tap, "up")
        ip("link", "set", seg.bridge, "up")
        yield seg
    finally:
        _kill_namespace_processes(seg.netns)
        sh("ip", "netns", "del", seg.netns, check=False)


def stop(proc: subprocess.Popen[Any], timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def router_advertisements(seg: Segment, workdir: Path) -> Iterator[subprocess.Popen[bytes]]:
    """dnsmasq answering IPv6 router solicitations only (no DNS, no DHCP of either family)."""
    log = (workdir / "dnsmasq.log").open("wb")
    proc = subprocess.Popen(
        seg.exec(
            "dnsmasq", "--conf-file=/dev/null", "--port=0", "--no-daemon", "--user=root",
            f"--interface={seg.bridge}", "--bind-interfaces", "--enable-ra", "--dhcp-range=fd99::,ra-only",
            f"--pid-file={workdir / 'dnsmasq.pid'}", f"--dhcp-leasefile={workdir / 'dnsmasq.leases'}",
            "--log-facility=-",
        ),
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(0.3)
        if proc.poll() is not None:
            log.flush()
            raise RuntimeError(f"dnsmasq exited: {(workdir / 'dnsmasq.log').read_text()}")
        yield proc
    finally:
        stop(proc)
        log.close()


@dataclass
class NetnsLive(Live):
    """``ochami`` and friends run as a user would, but inside the namespace (the API is only there)."""

    netns: str = ""
    trace: Callable[[str], None] | None = None
    """Shown each command and its output (the demo)."""

    def sh(self, command: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        if self.trace:
            self.trace(f"$ {command}")
        res = subprocess.run(
            ["ip", "netns", "exec", self.netns, "bash", "-o", "pipefail", "-c", command],
            env=self.env, cwd=self.home, input=input, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip
        if self.trace and (res.stdout or res.stderr):
            self.trace((res.stdout + res.stderr).rstrip("\n"))
        return res

    def ok(self, command: str) -> str:
        """Run ``command``; its stdout, or an error with everything it printed."""
        res = self.sh(command)
        if res.returncode != 0:
            raise RuntimeError(f"{command!r} failed ({res.returncode}):\n{res.stdout}{res.stderr}")
        return res.stdout


@dataclass
class Lab:
    """A running boot network: segment, server, an ochami environment, a work directory."""

    seg: Segment
    server: Server
    cli: NetnsLive
    workdir: Path

    @property
    def data(self) -> Path:
        return self.server.data

    def publish(self, key: str, path: Path) -> str:
        """Put a file into the server's local object store; its URL under ``/boot-images``."""
        dest = self.data / "objects" / "boot-images" / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        return f"{API}/boot-images/{key}"

    def get(self, path: str, token: str | None = None) -> Any:
        """GET an API path from inside the namespace with curl (admin token unless told); the JSON."""
        bearer = token or "$DEMO_ACCESS_TOKEN"
        return json.loads(self.cli.ok(f'curl -sf -H "Authorization: Bearer {bearer}" {API}{path}'))


@contextlib.contextmanager
def boot_lab(
    workdir: Path,
    data: Path | None = None,
    tag: str | None = None,
    trace: Callable[[str], None] | None = None,
    settings: dict[str, Any] | None = None,
) -> Iterator[Lab]:
    """Segment + RA + ``pychami serve`` with DHCP/TFTP on the bridge + ochami configured for it.
    ``settings``: a pychami config file's content (e.g. ``{"netboot": {"hostname": "{xname}"}}``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = data or workdir / "data"
    config: list[str] = []
    if settings:
        (workdir / "pychami.yaml").write_text(yaml.safe_dump(settings))
        config = ["--config", str(workdir / "pychami.yaml")]
    with segment(tag) as seg, router_advertisements(seg, workdir):
        extra = [
            "--interface", seg.bridge, "--server-ip", SERVER_IP, "--subnet", SUBNET,
            "--router", SERVER_IP, "--dns", SERVER_IP, "--boot-url", API, *config,
        ]  # fmt: skip
        with pychami_server(
            data, extra=extra, listen=f"{SERVER_IP}:8081", netns=seg.netns, log_level="INFO"
        ) as srv:
            env = {
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
                "HOME": str(workdir),
                "XDG_CONFIG_HOME": str(workdir / "xdg"),
                "OCHAMI_SYSTEM_CONFIG": str(workdir / "etc-ochami.yaml"),
                "DEMO_ACCESS_TOKEN": srv.token(),
                "LANG": "C.UTF-8",
            }
            cli = NetnsLive(srv.base, env, workdir, seg.netns, trace)
            cli.ok(f"ochami config cluster set --user --default demo cluster.uri {API}")
            yield Lab(seg, srv, cli, workdir)


def scenario_file(name: str) -> Path:
    """A file of the example cluster: the shared scenario directory, else the repository's copy."""
    path = SCENARIO / name
    return path if path.exists() else _COPIES[name]


def load_scenario(lab: Lab, kernel: str, initrd: str, params: str) -> None:
    """The scenario with ochami: nodes, boot parameters (these kernel/initrd/params for its five MACs),
    cloud-init defaults and the compute group's cloud-config."""
    cli, work = lab.cli, lab.workdir
    cli.ok(f"ochami discover static -f yaml -d @{scenario_file('nodes.yaml')}")
    boot = yaml.safe_load(scenario_file("boot-debug.yaml").read_text())
    boot.update(kernel=kernel, initrd=initrd, params=params)
    (work / "boot.yaml").write_text(yaml.safe_dump(boot, sort_keys=False))
    cli.ok("ochami bss boot params set -f yaml -d @boot.yaml")
    cli.ok(f"ochami cloud-init defaults set -f yaml -d @{scenario_file('cloud-init/defaults.yaml')}")
    computes = scenario_file("cloud-init/computes.yaml").read_bytes()
    group = {
        "name": "compute",
        "description": "compute config",
        "file": {"encoding": "base64", "content": base64.b64encode(computes).decode()},
    }
    (work / "groups.json").write_text(json.dumps([group]))
    cli.ok("ochami cloud-init group set -d @groups.json")


FIRMWARES = ("bios", "uefi")


def qemu_argv(
    lab: Lab,
    firmware: str,
    console: Path,
    *,
    mac: str = NODE_MAC,
    memory: int = 512,
    cpus: int = 1,
    attach: bool = False,
) -> list[str]:
    """QEMU (TCG) on the lab's tap. ``bios``: SeaBIOS + QEMU's iPXE NIC ROM; ``uefi``: OVMF with the NIC
    ROM disabled, so OVMF's own PXE fetches iPXE by TFTP. The serial console is written to ``console``;
    ``attach`` also puts it on this terminal (Ctrl-a x quits, Ctrl-a c toggles QEMU's monitor)."""
    nic = f"virtio-net-pci,netdev=n0,mac={mac},bootindex=1"
    argv = [
        "qemu-system-x86_64", "-accel", "tcg", "-m", str(memory), "-smp", str(cpus),
        "-nodefaults", "-nographic", "-no-reboot",
        "-netdev", f"tap,id=n0,ifname={lab.seg.tap},script=no,downscript=no",
    ]  # fmt: skip
    if attach:
        argv += ["-chardev", f"stdio,id=con,mux=on,signal=off,logfile={console}", "-serial", "chardev:con"]
        argv += ["-mon", "chardev=con"]
    else:
        argv += ["-monitor", "none", "-serial", f"file:{console}"]
    if firmware == "uefi":
        vars_copy = lab.workdir / f"ovmf-vars-{uuid.uuid4().hex[:6]}.fd"
        shutil.copyfile(OVMF_VARS, vars_copy)
        argv += [
            "-machine", "q35",
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}",
            "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
        ]  # fmt: skip
        nic += ",romfile="
    elif firmware != "bios":
        raise ValueError(f"unknown firmware {firmware!r}")
    return [*lab.seg.exec(*argv), "-device", nic]


class ConsoleTimeout(AssertionError):
    """A marker did not appear on the serial console in time."""


@dataclass
class VM:
    """A QEMU node whose serial console goes to a file."""

    proc: subprocess.Popen[bytes]
    console: Path
    started: float

    def text(self) -> str:
        raw = self.console.read_bytes() if self.console.exists() else b""
        return raw.decode("utf-8", "replace").replace("\r", "")

    def wait_for(self, marker: str, timeout: float) -> float:
        """Seconds since start when ``marker`` showed up; ConsoleTimeout (with the console) otherwise."""
        deadline = self.started + timeout
        while True:
            if marker in self.text():
                return time.monotonic() - self.started
            if self.proc.poll() is not None or time.monotonic() > deadline:
                if marker in self.text():
                    return time.monotonic() - self.started
                why = f"QEMU exited ({self.proc.returncode})" if self.proc.poll() is not None else "timeout"
                tail = self.text()[-6000:]
                raise ConsoleTimeout(f"{marker!r} not seen after {timeout:.0f}s ({why}); console:\n{tail}")
            time.sleep(0.2)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return -1


@contextlib.contextmanager
def node(lab: Lab, firmware: str, name: str, **kw: Any) -> Iterator[VM]:
    """Boot a VM; always killed afterwards. Its console is ``<workdir>/<name>.console``."""
    console = lab.workdir / f"{name}.console"
    console.unlink(missing_ok=True)
    log = (lab.workdir / f"{name}.qemu.log").open("wb")
    proc = subprocess.Popen(qemu_argv(lab, firmware, console, **kw), stdout=log, stderr=subprocess.STDOUT)
    try:
        yield VM(proc, console, time.monotonic())
    finally:
        stop(proc, timeout=5)
        log.close()


def status(lab: Lab, ident: str = NODE_XNAME, fmt: str = "json") -> str:
    """``pychami status IDENT`` against the server's data directory, as an admin runs it."""
    res = subprocess.run(
        [str(BIN / "pychami"), "status", ident, "--data-dir", str(lab.data), "-F", fmt],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if res.returncode != 0:
        raise RuntimeError(f"pychami status {ident} failed ({res.returncode}):\n{res.stdout}{res.stderr}")
    return res.stdout


def timeline(lab: Lab, ident: str = NODE_XNAME) -> dict[str, Any]:
    """The node's boot timeline document from ``pychami status -F json``."""
    doc: dict[str, Any] = json.loads(status(lab, ident))
    return doc


def reached(doc: dict[str, Any]) -> list[str]:
    """The stages of a timeline document that were reached, in boot order."""
    return [s["stage"] for s in doc["stages"] if s["reached"]]
