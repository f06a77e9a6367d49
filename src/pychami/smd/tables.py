"""SMD tables (SQLAlchemy Core)."""

from __future__ import annotations

import sqlalchemy as sa

from pychami.core.db import metadata

components = sa.Table(
    "smd_components",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False, server_default=""),
    sa.Column("flag", sa.String(16), nullable=False, server_default=""),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("software_status", sa.String(128), nullable=False, server_default=""),
    sa.Column("role", sa.String(32), nullable=False, server_default=""),
    sa.Column("subrole", sa.String(32), nullable=False, server_default=""),
    sa.Column("nid", sa.BigInteger(), nullable=True, index=True),
    sa.Column("subtype", sa.String(64), nullable=False, server_default=""),
    sa.Column("net_type", sa.String(32), nullable=False, server_default=""),
    sa.Column("arch", sa.String(16), nullable=False, server_default=""),
    sa.Column("class", sa.String(16), nullable=False, server_default=""),
    sa.Column("reservation_disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("locked", sa.Boolean(), nullable=False, server_default=sa.false()),
)

ethernet_interfaces = sa.Table(
    "smd_ethernet_interfaces",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("mac", sa.String(17), nullable=False, unique=True),
    sa.Column("last_update", sa.DateTime(timezone=True), nullable=False),
    sa.Column("component_id", sa.String(64), nullable=False, server_default="", index=True),
    sa.Column("type", sa.String(32), nullable=False, server_default=""),
)

interface_ips = sa.Table(
    "smd_interface_ips",
    metadata,
    sa.Column(
        "interface_id",
        sa.String(32),
        sa.ForeignKey("smd_ethernet_interfaces.id", ondelete="CASCADE", onupdate="CASCADE"),
        primary_key=True,
    ),
    sa.Column("ip", sa.String(45), primary_key=True),
    sa.Column("network", sa.String(64), nullable=False, server_default=""),
    sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
    sa.Index("ix_smd_interface_ips_ip", "ip"),
)

redfish_endpoints = sa.Table(
    "smd_redfish_endpoints",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("name", sa.String(128), nullable=False, server_default=""),
    sa.Column("hostname", sa.String(255), nullable=False, server_default=""),
    sa.Column("domain", sa.String(255), nullable=False, server_default=""),
    sa.Column("fqdn", sa.String(255), nullable=False, unique=True),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("uuid", sa.String(64), nullable=False, server_default=""),
    sa.Column("user", sa.String(128), nullable=False, server_default=""),
    sa.Column("password", sa.String(255), nullable=False, server_default=""),
    sa.Column("use_ssdp", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("mac_required", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("mac_addr", sa.String(32), nullable=False, server_default=""),
    sa.Column("ip_address", sa.String(45), nullable=False, server_default=""),
    sa.Column("rediscover_on_update", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("template_id", sa.String(128), nullable=False, server_default=""),
    sa.Column("discovery_info", sa.JSON(), nullable=False),
)

component_endpoints = sa.Table(
    "smd_component_endpoints",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("redfish_type", sa.String(64), nullable=False, server_default=""),
    sa.Column("redfish_subtype", sa.String(64), nullable=False, server_default=""),
    sa.Column("uuid", sa.String(64), nullable=False, server_default=""),
    sa.Column("odata_id", sa.String(512), nullable=False, server_default=""),
    sa.Column(
        "redfish_endpoint_id",
        sa.String(64),
        sa.ForeignKey("smd_redfish_endpoints.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    sa.Column("mac_addr", sa.String(32), nullable=False, server_default=""),
    sa.Column("component_endpoint_type", sa.String(64), nullable=False, server_default=""),
    sa.Column("info", sa.JSON(), nullable=False),
)

groups = sa.Table(
    "smd_groups",
    metadata,
    sa.Column("label", sa.String(255), primary_key=True),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("tags", sa.JSON(), nullable=False),
    sa.Column("exclusive_group", sa.String(255), nullable=False, server_default=""),
)

group_members = sa.Table(
    "smd_group_members",
    metadata,
    sa.Column(
        "label", sa.String(255), sa.ForeignKey("smd_groups.label", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "component_id",
        sa.String(64),
        sa.ForeignKey("smd_components.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Index("ix_smd_group_members_component_id", "component_id"),
)

partitions = sa.Table(
    "smd_partitions",
    metadata,
    sa.Column("name", sa.String(255), primary_key=True),
    sa.Column("description", sa.Text(), nullable=False, server_default=""),
    sa.Column("tags", sa.JSON(), nullable=False),
)

partition_members = sa.Table(
    "smd_partition_members",
    metadata,
    sa.Column(
        "name", sa.String(255), sa.ForeignKey("smd_partitions.name", ondelete="CASCADE"), nullable=False
    ),
    sa.Column(
        "component_id",
        sa.String(64),
        sa.ForeignKey("smd_components.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

#: One row (id 1) whose value advances with every committed SMD write.
revision = sa.Table(
    "smd_revision",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)
