"""smd: initial schema

Revision ID: smd_0001
Revises:
"""

from __future__ import annotations

from alembic import op

from pychami.smd import tables

revision = "smd_0001"
down_revision = None
branch_labels = ("smd",)
depends_on = None

_ORDER = [
    tables.components,
    tables.ethernet_interfaces,
    tables.interface_ips,
    tables.redfish_endpoints,
    tables.component_endpoints,
    tables.groups,
    tables.group_members,
    tables.partitions,
    tables.partition_members,
]


def upgrade() -> None:
    bind = op.get_bind()
    # The first revision creates the tables exactly as declared; later revisions use explicit ops.
    for table in _ORDER:
        table.create(bind)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_ORDER):
        table.drop(bind)
