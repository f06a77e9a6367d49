"""Real sushy-tools Redfish emulators on distinct loopback addresses, with TLS and basic auth.

Shared by the tests and the benchmark. Each emulator is its own ``sushy-emulator`` process (fake driver)
with its own state directory, so BMCs never see each other's systems. The fake driver delays power
changes by a random 1-11 s on purpose; the launcher pins that delay to zero so tests need not wait.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bcrypt
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

USER = "root"
PASSWORD = "s3cret-bmc"

# Pins the fake driver's random power delay to 0 s, then runs the real sushy-emulator entry point.
LAUNCHER = (
    "import random, sys\n"
    "random.randint = lambda a, b: 0\n"
    "from sushy_tools.emulator.main import main\n"
    "sys.argv = ['sushy-emulator'] + sys.argv[1:]\n"
    "sys.exit(main())\n"
)


@dataclass(frozen=True)
class FakeSystem:
    """One emulated ComputerSystem."""

    uuid: str
    name: str
    macs: tuple[str, ...]
    power_state: str = "Off"


@dataclass
class Emulator:
    """A running emulator."""

    address: str
    port: int
    systems: list[FakeSystem]
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """``https://address:port``."""
        return f"https://{self.address}:{self.port}"


@dataclass
class TLSFiles:
    """A throwaway CA and a server certificate valid for a set of loopback addresses."""

    ca: Path
    cert: Path
    key: Path
    addresses: list[str] = field(default_factory=list)


def make_tls(directory: Path, addresses: Sequence[str]) -> TLSFiles:
    """Create a CA and a server certificate whose SANs are ``addresses``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "magellan test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    sans = [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bmc")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(
        directory / "ca.pem", directory / "server.pem", directory / "server.key", list(addresses)
    )
    files.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


def free_port(addresses: Sequence[str], start: int = 20000, stop: int = 40000) -> int:
    """A TCP port that is free on every one of ``addresses``."""
    rng = int.from_bytes(os.urandom(2), "big")
    for offset in range(stop - start):
        port = start + (rng + offset) % (stop - start)
        socks: list[socket.socket] = []
        try:
            for addr in addresses:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((addr, port))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return port
    raise RuntimeError("no free port")


def _config(emu: Emulator, state_dir: Path, auth_file: Path) -> str:
    systems = [
        {
            "uuid": s.uuid,
            "name": s.name,
            "power_state": s.power_state,
            "external_notifier": False,
            "nics": [{"mac": m} for m in s.macs],
        }
        for s in emu.systems
    ]
    return (
        f"SUSHY_EMULATOR_LISTEN_IP = {emu.address!r}\n"
        f"SUSHY_EMULATOR_LISTEN_PORT = {emu.port}\n"
        "SUSHY_EMULATOR_FAKE_DRIVER = True\n"
        f"SUSHY_EMULATOR_FAKE_SYSTEMS = {systems!r}\n"
        f"SUSHY_EMULATOR_STATE_DIR = {str(state_dir)!r}\n"
        f"SUSHY_EMULATOR_AUTH_FILE = {str(auth_file)!r}\n"
    )


def _ready(emu: Emulator, ca: Path) -> bool:
    try:
        resp = httpx.get(f"{emu.base_url}/redfish/v1/", verify=_ctx(ca), timeout=0.5)
    except httpx.HTTPError:
        return False
    return resp.status_code == 200


def _ctx(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


@contextlib.contextmanager
def running_emulators(
    emulators: Sequence[Emulator], tls: TLSFiles, workdir: Path, startup_timeout: float = 60.0
) -> Iterator[list[Emulator]]:
    """Start every emulator (in parallel), wait until each serves TLS, stop them all at exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    auth_file = workdir / "htpasswd"
    digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    auth_file.write_text(f"{USER}:{digest}\n")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for i, emu in enumerate(emulators):
            state = workdir / f"state{i}"
            state.mkdir(exist_ok=True)
            cfg = workdir / f"emu{i}.conf"
            cfg.write_text(_config(emu, state, auth_file))
            log = (workdir / f"emu{i}.log").open("wb")
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    LAUNCHER,
                    "--config",
                    str(cfg),
                    "--fake",
                    "--ssl-certificate",
                    str(tls.cert),
                    "--ssl-key",
                    str(tls.key),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            emu.process = proc
            procs.append(proc)
        deadline = time.monotonic() + startup_timeout
        pending = list(emulators)
        while pending:
            for emu in list(pending):
                assert emu.process is not None
                if emu.process.poll() is not None:
                    raise RuntimeError(
                        f"sushy-emulator {emu.address} exited: {(workdir / 'emu0.log').read_text()[-2000:]}"
                    )
                if _ready(emu, tls.ca):
                    pending.remove(emu)
            if pending and time.monotonic() > deadline:
                raise RuntimeError(f"sushy-emulators not up: {[e.address for e in pending]}")
            if pending:
                time.sleep(0.1)
        yield list(emulators)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
