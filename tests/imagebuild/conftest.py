"""Helpers of the image-builder tests: a build runner and scenario configs.

The session's registry + S3 servers (``servers``) and build cache (``build_cache``) are fixtures of
``tests/conftest.py``: the end-to-end boot tests build the same scenario images with them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.imagebuild.servers import Servers

SCENARIO = Path(__file__).parent / "scenario"


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
