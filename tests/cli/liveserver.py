"""A real `pychami serve` subprocess on a free loopback port, and ochami run as a user would run it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live import pychami_server

BIN = Path(sys.executable).parent


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
    with pychami_server(tmp_path / "data") as srv:
        env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "OCHAMI_SYSTEM_CONFIG": str(tmp_path / "etc-ochami.yaml"),
            "DEMO_ACCESS_TOKEN": srv.token(),
            "LANG": "C.UTF-8",
        }
        live = Live(srv.base, env, tmp_path)
        r = live.ochami("config", "cluster", "set", "--user", "--default", "demo", "cluster.uri", srv.base)
        assert r.returncode == 0, r.stderr
        yield live
