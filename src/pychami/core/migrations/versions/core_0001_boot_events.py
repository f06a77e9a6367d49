"""core: boot events (the per-node boot timeline)

Revision ID: core_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boot_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("xname", sa.String(64), nullable=True),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("stage", sa.String(64), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
    )
    op.create_index("ix_boot_events_xname_ts", "boot_events", ["xname", "ts"])
    op.create_index("ix_boot_events_mac_ts", "boot_events", ["mac", "ts"])


def downgrade() -> None:
    op.drop_table("boot_events")
