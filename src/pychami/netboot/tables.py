"""Netboot tables: the bootloop leases handed to unknown MACs (they survive a daemon restart)."""

from __future__ import annotations

import sqlalchemy as sa

from pychami.core.db import metadata

netboot_leases = sa.Table(
    "netboot_leases",
    metadata,
    sa.Column("mac", sa.String(17), primary_key=True),
    sa.Column("ip", sa.String(15), nullable=False, unique=True),
    #: Seconds since the epoch.
    sa.Column("expires", sa.Float(), nullable=False),
)
