"""Every SMD write goes through :func:`write`: one transaction that also advances the SMD revision, so
inventory caches in any process can tell with one tiny query whether anything changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.core.db import Database
from pychami.core.inventory import ChangeSignal
from pychami.smd import tables as t


@contextmanager
def write(db: Database, changed: ChangeSignal) -> Iterator[Connection]:
    """A write transaction; on commit the revision has advanced and this process's caches are told."""
    with db.transaction() as conn:
        yield conn
        conn.execute(sa.update(t.revision).where(t.revision.c.id == 1).values(value=t.revision.c.value + 1))
    changed.bump()


def current_revision(conn: Connection) -> int:
    value = conn.execute(sa.select(t.revision.c.value).where(t.revision.c.id == 1)).scalar()
    return int(value or 0)
