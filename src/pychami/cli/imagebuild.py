"""``image-build``: build a layered image from an upstream image-builder config, without containers."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import click
from rich.logging import RichHandler

from pychami.cli.common import handle_errors
from pychami.imagebuild.builder import BuildEnv, Builder
from pychami.imagebuild.config import ImageConfig, load_config
from pychami.imagebuild.planner import plan, render
from pychami.imagebuild.progress import Reporter

EPILOG = """\b
Examples:
  image-build --config debian-base.yaml
  image-build --config compute.yaml --log-level DEBUG
  image-build --config rocky-base.yaml --plan
  S3_ACCESS=admin S3_SECRET=secret image-build --config compute.yaml --publish-tags '12 latest'

\b
S3 credentials come from S3_ACCESS / S3_SECRET. Flags override the config file, except
--publish-s3 and --publish-registry, where the config file wins (as upstream).
"""


def _split(values: tuple[str, ...]) -> list[str] | None:
    out = [v for value in values for v in value.replace(",", " ").split()]
    return out or None


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
@click.option("--layer-type", type=click.Choice(["base", "ansible"]))
@click.option("--name")
@click.option("--parent")
@click.option(
    "--publish-tags", multiple=True, help="One or more tags (repeat or separate with spaces/commas)."
)
@click.option("--pkg-manager", type=click.Choice(["dnf", "zypper", "apt"]))
@click.option("--publish-local/--no-publish-local", default=None)
@click.option("--publish-registry")
@click.option("--publish-s3")
@click.option("--s3-prefix")
@click.option("--s3-bucket")
@click.option("--registry-opts-push", multiple=True, help="e.g. --registry-opts-push=--tls-verify=false")
@click.option("--registry-opts-pull", multiple=True)
@click.option("--group-list", "groups", multiple=True, help="Ansible groups of the image.")
@click.option("--pb", "--playbooks", "playbooks", multiple=True, help="Ansible playbooks.")
@click.option("--inventory")
@click.option("--ansible-verbosity", type=click.IntRange(0, 4))
@click.option("--plan", "--dry-run", "dry_run", is_flag=True, help="Print the steps and exit.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pychami" / "imagebuild",
    show_default="~/.cache/pychami/imagebuild",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PYCHAMI_DATA_DIR",
    default=Path("./pychami-data"),
    show_default=True,
    help="pychami data directory (local image and object stores).",
)
@click.option("--no-cache", is_flag=True, help="Rebuild the layer and the base even if cached.")
@handle_errors
def main(
    config_path: Path,
    log_level: str | None,
    dry_run: bool,
    cache_dir: Path,
    data_dir: Path,
    no_cache: bool,
    **flags: Any,
) -> None:
    """Build an image layer from CONFIG and publish it (OCI registry, S3, local stores)."""
    overrides = {k: v for k, v in flags.items() if v is not None}
    for key in ("publish_tags", "registry_opts_push", "registry_opts_pull", "groups", "playbooks"):
        value = overrides.pop(key, ())
        if key.startswith("registry_opts"):
            if value:
                overrides[key] = list(value)
        elif _split(value):
            overrides[key] = _split(value)
    cfg = load_config(config_path, overrides)
    level = (log_level or cfg.options.log_level or "INFO").upper()
    level = "WARNING" if level == "WARN" else level
    reporter = Reporter()
    handler: logging.Handler
    if reporter.console.is_terminal:
        handler = RichHandler(console=reporter.console, show_time=False, show_path=False, markup=False)
        fmt = "%(message)s"
    else:
        handler = logging.StreamHandler(sys.stderr)
        fmt = "%(levelname)-7s %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    logger = logging.getLogger("pychami")
    saved = (logger.level, logger.propagate)
    logger.setLevel(level)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        _build(cfg, config_path, reporter, dry_run, cache_dir, data_dir, no_cache)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _build(
    cfg: ImageConfig,
    config_path: Path,
    reporter: Reporter,
    dry_run: bool,
    cache_dir: Path,
    data_dir: Path,
    no_cache: bool,
) -> None:
    if dry_run:
        click.echo(render(cfg, plan(cfg)))
        return
    env = BuildEnv(
        cache_dir=cache_dir,
        data_dir=data_dir,
        config_dir=config_path.resolve().parent,
        reporter=reporter,
        s3_access=os.environ.get("S3_ACCESS"),
        s3_secret=os.environ.get("S3_SECRET"),
        use_cache=not no_cache,
    )
    old = signal.signal(signal.SIGTERM, _sigterm)
    try:
        result = Builder(cfg, env).run()
    finally:
        signal.signal(signal.SIGTERM, old)
    total = sum(result.timings.values())
    reporter.console.print(
        f"built {cfg.options.name} {result.manifest_digest}"
        + (" (cached layer)" if result.cached else "")
        + f" in {total:.1f}s",
        markup=False,
    )
