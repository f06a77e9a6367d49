"""The ``pychami`` admin command: tokens, migrations, and ``serve`` as a real process over HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from click.testing import CliRunner

from pychami.cli.pychami import main
from tests.live import Server, pychami_server


def test_token_create_prints_a_jwt(tmp_path: Path) -> None:
    """token create prints an RS256 JWT with sub, scopes, exp; ttl and scopes come from the flags."""
    result = CliRunner().invoke(
        main,
        [
            "token",
            "create",
            "--data-dir",
            str(tmp_path),
            "--sub",
            "ops",
            "--scope",
            "smd:read bss:read",
            "--scope",
            "cloud-init:write",
            "--ttl",
            "30m",
        ],
    )
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "ops"
    assert claims["scope"] == "smd:read bss:read cloud-init:write"
    assert claims["exp"] - claims["iat"] == 1800
    assert jwt.get_unverified_header(token)["alg"] == "RS256"


def test_token_create_bad_ttl(tmp_path: Path) -> None:
    """A bad --ttl is a one-line error and a non-zero exit."""
    result = CliRunner().invoke(main, ["token", "create", "--data-dir", str(tmp_path), "--ttl", "soon"])
    assert result.exit_code == 1
    assert "Error: --ttl: invalid duration 'soon'" in result.output


def test_db_upgrade_reports_heads(tmp_path: Path, db_url: str) -> None:
    """db upgrade migrates an empty database and prints the revisions reached (idempotent)."""
    for _ in range(2):
        result = CliRunner().invoke(main, ["db", "upgrade", "--data-dir", str(tmp_path), "--db", db_url])
        assert result.exit_code == 0, result.output
        assert "smd_0002" in result.output and "core_0001" in result.output


def test_invalid_setting_is_exit_2(tmp_path: Path) -> None:
    """serve with an invalid flag value explains the setting and exits 2 without starting."""
    result = CliRunner().invoke(main, ["serve", "--listen", "localhost", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "listen address 'localhost' must be HOST:PORT" in result.output


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    """`pychami serve` as a subprocess on a free loopback port with its own data directory."""
    with pychami_server(tmp_path / "data") as server:
        yield server


def test_serve_end_to_end(served: Server) -> None:
    """A token from `pychami token create` works against a running server over real HTTP."""
    base, data = served.base, served.data
    token = subprocess.run(
        [
            sys.executable,
            "-m",
            "pychami.cli.pychami",
            "token",
            "create",
            "--data-dir",
            str(data),
            "--sub",
            "admin",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert httpx.get(f"{base}/hsm/v2/groups").status_code == 401
    auth = {"Authorization": f"Bearer {token}"}
    body = {"Components": [{"ID": "x1000c0s0b0n0", "State": "On", "NID": 1}]}
    assert httpx.post(f"{base}/hsm/v2/State/Components", json=body, headers=auth).status_code == 204
    got = httpx.get(f"{base}/hsm/v2/State/Components?type=Node").json()
    assert got["Components"][0]["ID"] == "x1000c0s0b0n0"
    assert (data / "pychami.db").exists()
