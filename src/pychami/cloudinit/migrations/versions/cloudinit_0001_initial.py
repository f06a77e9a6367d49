"""cloudinit: revision counter, cluster defaults, groups, instance info, phone-home host keys

Revision ID: cloudinit_0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cloudinit_0001"
down_revision = None
branch_labels = ("cloudinit",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cloudinit_revision",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cloudinit_revision"),
    )
    op.create_table(
        "cloudinit_cluster_defaults",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cloudinit_cluster_defaults"),
    )
    op.create_table(
        "cloudinit_groups",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("meta_data", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), server_default="", nullable=False),
        sa.Column("filename", sa.String(255), server_default="", nullable=False),
        sa.Column("encoding", sa.String(16), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_cloudinit_groups"),
    )
    op.create_table(
        "cloudinit_instance_info",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("instance_id", sa.String(64), server_default="", nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cloudinit_instance_info"),
    )
    op.create_table(
        "cloudinit_host_keys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(45), server_default="", nullable=False),
        sa.Column("instance_id", sa.String(64), server_default="", nullable=False),
        sa.Column("hostname", sa.String(255), server_default="", nullable=False),
        sa.Column("fqdn", sa.String(255), server_default="", nullable=False),
        sa.Column("pub_key_rsa", sa.Text(), server_default="", nullable=False),
        sa.Column("pub_key_ecdsa", sa.Text(), server_default="", nullable=False),
        sa.Column("pub_key_ed25519", sa.Text(), server_default="", nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cloudinit_host_keys"),
    )


def downgrade() -> None:
    for name in (
        "cloudinit_host_keys",
        "cloudinit_instance_info",
        "cloudinit_groups",
        "cloudinit_cluster_defaults",
        "cloudinit_revision",
    ):
        op.drop_table(name)
