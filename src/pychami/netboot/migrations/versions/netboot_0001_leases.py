"""netboot: bootloop leases

Revision ID: netboot_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "netboot_0001"
down_revision = None
branch_labels = ("netboot",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "netboot_leases",
        sa.Column("mac", sa.String(17), primary_key=True),
        sa.Column("ip", sa.String(15), nullable=False, unique=True),
        sa.Column("expires", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("netboot_leases")
