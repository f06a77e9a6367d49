"""``magellan``: discover BMCs over Redfish and send them to SMD (upstream magellan's commands and flags)."""

from __future__ import annotations

from pychami.cli.magellan import collect, inventory, power, secrets, send
from pychami.cli.magellan.app import main

__all__ = ["collect", "inventory", "main", "power", "secrets", "send"]
