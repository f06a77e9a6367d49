"""A real `pychami serve` subprocess on a free loopback port, and ochami run as a user would run it."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    """A running server and an environment for ochami pointing at it as cluster `demo`."""

    url: str
    env: dict[str, str]
    home: Path

    def sh(self, command: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a shell command line (ochami, jq ...) exactly as a user would type it."""
        return subprocess.run(
            ["bash", "-o", "pipefail", "-c", command],
            env=self.env, cwd=self.home, input=input, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def ochami(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run `ochami ARGS`."""
        return self.sh("ochami " + " ".join(shlex.quote(a) for a in args), input=input)


@contextmanager
def server(tmp_path: Path) -> Iterator[Live]:
    """`pychami serve` on a free loopback port with a fresh data dir; ochami configured for it."""
    port = _free_port()
    data = tmp_path / "data"
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "pychami"), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data)],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/hsm/v2/service/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                raise RuntimeError("pychami serve did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.1)
        token = subprocess.run(
            [str(BIN / "pychami"), "token", "create", "--data-dir", str(data), "--sub", "admin"],
            capture_output=True, text=True, check=True, cwd=tmp_path,
        ).stdout.strip()  # fmt: skip
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "OCHAMI_SYSTEM_CONFIG": str(tmp_path / "etc-ochami.yaml"),
            "DEMO_ACCESS_TOKEN": token,
            "LANG": "C.UTF-8",
        }
        live = Live(url, env, tmp_path)
        r = live.ochami("config", "cluster", "set", "--user", "--default", "demo", "cluster.uri", url)
        assert r.returncode == 0, r.stderr
        yield live
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
