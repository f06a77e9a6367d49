"""``ochami``: the OpenCHAMI CLI (config, tokens, smd, discover static, bss, cloud-init)."""

from __future__ import annotations

from pychami.cli.ochami.main import main
from pychami.cli.ochami.root import cli

__all__ = ["cli", "main"]
