"""Fixtures for the ochami CLI tests: an isolated config, tokens, a fake SMD, an in-process runner."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner, Result

from pychami.cli.ochami import cli
from pychami.cli.ochami.env import Hooks
from tests.cli.fakesmd import FakeSMD
from tests.cli.liveserver import Live, server

SCENARIO = Path("/work/shared/scenario")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def make_token(exp_in: float | None = 3600, **claims: Any) -> str:
    """An unsigned-looking JWT (the CLI never checks signatures) with ``exp`` ``exp_in`` seconds away."""
    now = int(time.time())
    body: dict[str, Any] = {"sub": "tester", "iss": "test", "aud": "test", "iat": now}
    if exp_in is not None:
        body["exp"] = now + int(exp_in)
    body.update(claims)
    return _b64({"alg": "RS256", "typ": "JWT"}) + "." + _b64(body) + ".c2lnbmF0dXJl"


@dataclass
class Ochami:
    """Runs ochami in-process with an isolated environment."""

    home: Path
    environ: dict[str, str] = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None

    @property
    def user_config(self) -> Path:
        return self.home / "xdg" / "ochami" / "config.yaml"

    @property
    def system_config(self) -> Path:
        return self.home / "etc" / "config.yaml"

    def write(self, path: Path, data: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data))

    def __call__(self, *args: str, input: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            cli,
            list(args),
            input=input,
            obj=Hooks(transport=self.transport, environ=dict(self.environ)),
            catch_exceptions=False,
        )


@pytest.fixture
def ochami(tmp_path: Path) -> Ochami:
    """ochami with empty configs, a valid DEMO_ACCESS_TOKEN and no transport."""
    o = Ochami(tmp_path)
    o.environ.update(
        {
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "OCHAMI_SYSTEM_CONFIG": str(o.system_config),
            "HOME": str(tmp_path),
            "DEMO_ACCESS_TOKEN": make_token(),
        }
    )
    return o


@pytest.fixture
def smd() -> FakeSMD:
    return FakeSMD()


@pytest.fixture
def demo(ochami: Ochami, smd: FakeSMD) -> Ochami:
    """ochami configured for cluster demo (default) and wired to the fake SMD."""
    ochami.write(
        ochami.user_config,
        {
            "clusters": [{"name": "demo", "cluster": {"uri": "https://demo.openchami.cluster:8443"}}],
            "default-cluster": "demo",
        },
    )
    ochami.transport = smd.transport()
    return ochami


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for the tests that do not change its data."""
    with server(tmp_path_factory.mktemp("e2e-shared")) as live:
        yield live


@pytest.fixture
def shared(shared_server: Live) -> Live:
    """The shared server with an environment of the test's own."""
    return Live(shared_server.url, dict(shared_server.env), shared_server.home)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    """A fresh server of the test's own."""
    with server(tmp_path) as live:
        yield live
