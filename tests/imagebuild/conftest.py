"""Helpers of the image-builder tests: a build runner and scenario configs.

The session's build cache (``build_cache``) is a fixture of ``tests/conftest.py``: the end-to-end boot
tests build the scenario images with it too, so debootstrap runs once per session. They use registry and
S3 servers of their own (the same image names with other package lists would collide here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.imagebuild.servers import Servers, registry, seaweedfs

SCENARIO = Path(__file__).parent / "scenario"


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """docker-registry and SeaweedFS on 127.0.0.1, for the whole session."""
    tmp = tmp_path_factory.mktemp("ib-servers")
    with registry(tmp / "registry") as reg, seaweedfs(tmp / "s3") as s3:
        yield Servers(reg, s3)


@dataclass
class BuildRun:
    """The outcome of one `image-build` process."""

    rc: int
    out: str


def image_build(
    config: Path, cache: Path, data: Path, servers: Servers | None, *extra: str, timeout: float = 900
) -> BuildRun:
    """Run the real `image-build` entry point (as a user would) and capture its output."""
    exe = Path(sys.executable).parent / "image-build"
    env = dict(os.environ)
    if servers is not None:
        env.update(S3_ACCESS=servers.s3.access, S3_SECRET=servers.s3.secret)
    res = subprocess.run(
        [str(exe), "--config", str(config), "--cache-dir", str(cache), "--data-dir", str(data), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    return BuildRun(res.returncode, res.stdout + res.stderr)


def image_build_here(config: Path, cache: Path, data: Path, servers: Servers | None, *extra: str) -> BuildRun:
    """Run the `image-build` command in this process (click's runner), so coverage sees the builder."""
    from click.testing import CliRunner

    from pychami.cli.imagebuild import main

    env = {"S3_ACCESS": servers.s3.access, "S3_SECRET": servers.s3.secret} if servers else {}
    res = CliRunner().invoke(
        main,
        ["--config", str(config), "--cache-dir", str(cache), "--data-dir", str(data), *extra],
        env=env,
        catch_exceptions=False,
    )
    return BuildRun(res.exit_code, res.output)


def scenario_config(
    name: str, servers: Servers, dest: Path, packages: list[str] | None = None, **extra_options: object
) -> Path:
    """A scenario config with its placeholders filled (optionally another package list and extra options)."""
    import yaml

    doc = yaml.safe_load(servers.fill((SCENARIO / f"{name}.yaml").read_text()))
    doc["options"].update(extra_options)
    if packages is not None:
        doc["packages"] = packages
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path
