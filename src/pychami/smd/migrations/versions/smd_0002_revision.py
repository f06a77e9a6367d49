"""smd: revision counter for cross-process cache invalidation

Revision ID: smd_0002
Revises: smd_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "smd_0002"
down_revision = "smd_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "smd_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "value": 0}])


def downgrade() -> None:
    op.drop_table("smd_revision")
