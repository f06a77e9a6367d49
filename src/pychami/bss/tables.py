"""BSS tables (SQLAlchemy Core).

Identical (kernel, initrd, params) triples share one ``bss_boot_configs`` row. An assignment binds one
identifier to a config, keyed by whichever identifier was used (as upstream's Postgres mode): ``mac``
(lower case), ``xname``, ``nid`` (decimal text) or ``group`` (an SMD group label, our addition).
"""

from __future__ import annotations

import sqlalchemy as sa

from pychami.core.db import metadata

ID_TYPE = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

boot_configs = sa.Table(
    "bss_boot_configs",
    metadata,
    sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    sa.Column("kernel", sa.Text(), nullable=False),
    sa.Column("initrd", sa.Text(), nullable=False, server_default=""),
    sa.Column("params", sa.Text(), nullable=False, server_default=""),
    #: sha256 of the triple: a unique key that works for long command lines on every backend.
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
)

assignments = sa.Table(
    "bss_assignments",
    metadata,
    sa.Column("id", ID_TYPE, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column(
        "config_id",
        ID_TYPE,
        sa.ForeignKey("bss_boot_configs.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.UniqueConstraint("kind", "key", name="uq_bss_assignments_kind_key"),
)

#: One row whose ``version`` every write bumps: other processes revalidate their cache with one read.
state = sa.Table(
    "bss_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
)
