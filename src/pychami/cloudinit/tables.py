"""cloud-init tables (SQLAlchemy Core): everything upstream keeps in memory, persisted."""

from __future__ import annotations

import sqlalchemy as sa

from pychami.core.db import metadata

#: One row (id 1): a counter bumped by every write, so caches can tell cheaply whether to reload.
revision = sa.Table(
    "cloudinit_revision",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("revision", sa.BigInteger(), nullable=False),
)

#: One row (id 1): the cluster defaults as their wire JSON.
cluster_defaults = sa.Table(
    "cloudinit_cluster_defaults",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

groups = sa.Table(
    "cloudinit_groups",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("meta_data", sa.JSON(), nullable=False),
    #: The config exactly as uploaded (base64 text when encoding is base64).
    sa.Column("content", sa.Text(), nullable=False, server_default=""),
    sa.Column("filename", sa.String(255), nullable=False, server_default=""),
    sa.Column("encoding", sa.String(16), nullable=False, server_default=""),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

instance_info = sa.Table(
    "cloudinit_instance_info",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("instance_id", sa.String(64), nullable=False, server_default=""),
    #: The remaining InstanceInfo fields as their wire JSON.
    sa.Column("data", sa.JSON(), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

host_keys = sa.Table(
    "cloudinit_host_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("ip", sa.String(45), nullable=False, server_default=""),
    sa.Column("instance_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("hostname", sa.String(255), nullable=False, server_default=""),
    sa.Column("fqdn", sa.String(255), nullable=False, server_default=""),
    sa.Column("pub_key_rsa", sa.Text(), nullable=False, server_default=""),
    sa.Column("pub_key_ecdsa", sa.Text(), nullable=False, server_default=""),
    sa.Column("pub_key_ed25519", sa.Text(), nullable=False, server_default=""),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)
