"""Assembles the command tree and is the console entry point."""

from __future__ import annotations

from pychami.cli.ochami import bss, cloudinit, config_cmd, discover_cmd, smd
from pychami.cli.ochami.root import cli

cli.add_command(config_cmd.config)
cli.add_command(smd.smd)
cli.add_command(discover_cmd.discover)
cli.add_command(bss.bss)
cli.add_command(cloudinit.cloud_init)


def main() -> None:
    """Console entry point."""
    cli(prog_name="ochami")
