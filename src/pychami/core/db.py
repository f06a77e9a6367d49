"""Database access: engine creation for SQLite (WAL) and PostgreSQL (psycopg 3), transactions, upserts.

Services describe their tables with SQLAlchemy Core on :data:`metadata` and own their Alembic migrations
(one branch per service); the composition root passes every service's migration folder to
:func:`pychami.core.migrate.upgrade`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError as _SQLAlchemyError

from pychami.core.errors import Unavailable

SQLAlchemyError = _SQLAlchemyError

#: Naming convention so that constraint names are identical on SQLite and PostgreSQL migrations.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    """Create an engine with the settings pychami needs on each backend."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 10},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


class Database:
    """An engine plus the transaction helpers every repository is used through."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Database:
        return cls(create_engine(url, **kwargs))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: committed on success, rolled back on any error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise Unavailable(f"database error: {exc.orig}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (its implicit transaction is rolled back at the end)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise Unavailable(f"database error: {exc.orig}") from exc

    def ping(self) -> None:
        """Raise :class:`Unavailable` when the database does not answer."""
        with self.read() as conn:
            conn.execute(sa.text("SELECT 1"))

    def pool_status(self) -> dict[str, int]:
        pool: Any = self.engine.pool
        status: dict[str, int] = {}
        for name in ("size", "checkedin", "checkedout", "overflow"):
            fn = getattr(pool, name, None)
            if callable(fn):
                status[name] = int(fn())
        return status

    def dispose(self) -> None:
        self.engine.dispose()


def insert_for(conn: Connection, table: sa.Table) -> Any:
    """A dialect-specific INSERT supporting ``on_conflict_do_*`` for ``table``."""
    if conn.dialect.name == "postgresql":
        return pg.insert(table)
    return sqlite_dialect.insert(table)


def chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    """Split ``items`` so IN-lists and multi-row inserts stay under backend parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
