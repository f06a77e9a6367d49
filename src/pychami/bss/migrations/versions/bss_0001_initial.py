"""bss: boot configurations and their assignments

Revision ID: bss_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bss_0001"
down_revision = None
branch_labels = ("bss",)
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bss_boot_configs",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kernel", sa.Text(), nullable=False),
        sa.Column("initrd", sa.Text(), nullable=False, server_default=""),
        sa.Column("params", sa.Text(), nullable=False, server_default=""),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.UniqueConstraint("digest", name="uq_bss_boot_configs_digest"),
    )
    op.create_table(
        "bss_assignments",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("config_id", _ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["config_id"],
            ["bss_boot_configs.id"],
            name="fk_bss_assignments_config_id_bss_boot_configs",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("kind", "key", name="uq_bss_assignments_kind_key"),
    )
    op.create_index("ix_bss_assignments_config_id", "bss_assignments", ["config_id"])
    state = op.create_table(
        "bss_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.bulk_insert(state, [{"id": 1, "version": 0}])


def downgrade() -> None:
    op.drop_table("bss_state")
    op.drop_table("bss_assignments")
    op.drop_table("bss_boot_configs")
