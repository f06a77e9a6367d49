"""Boot events: every node-facing touch, recorded in batches, read back as a per-node timeline."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pychami.core.db import Database, metadata
from pychami.core.logs import get_logger

log = get_logger("pychami.events")

boot_events = sa.Table(
    "boot_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
    sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
    sa.Column("xname", sa.String(64), nullable=True),
    sa.Column("mac", sa.String(17), nullable=True),
    sa.Column("ip", sa.String(45), nullable=True),
    sa.Column("stage", sa.String(64), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("detail", sa.JSON(), nullable=True),
)


_SQLITE_INSERT = (
    "INSERT INTO boot_events (ts, xname, mac, ip, stage, source, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


#: The same for PostgreSQL, as one COPY in the flush's transaction (psycopg adapts the datetimes; the
#: server parses the JSON text).
_PG_COPY = "COPY boot_events (ts, xname, mac, ip, stage, source, detail) FROM STDIN"


def _pg_copy(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(_PG_COPY) as copy:
            for row in rows:
                copy.write_row(_pg_row(row))
    finally:
        cursor.close()


def _pg_row(row: dict[str, Any]) -> tuple[Any, ...]:
    return _driver_row(row, row["ts"])


def _sqlite_row(row: dict[str, Any]) -> tuple[Any, ...]:
    ts: dt.datetime = row["ts"]
    text = (
        f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d} {ts.hour:02d}:{ts.minute:02d}:{ts.second:02d}"
        f".{ts.microsecond:06d}"
    )
    return _driver_row(row, text)


def _driver_row(row: dict[str, Any], ts: Any) -> tuple[Any, ...]:
    """A row in column order for the driver, with ``ts`` as the driver takes it and the detail as the JSON
    text SQLAlchemy's JSON type writes."""
    return (ts, row["xname"], row["mac"], row["ip"], row["stage"], row["source"], json.dumps(row["detail"]))


@dataclass(frozen=True)
class BootEvent:
    ts: dt.datetime
    stage: str
    source: str
    xname: str | None = None
    mac: str | None = None
    ip: str | None = None
    detail: Mapping[str, Any] | None = None


class BootEventRecorder:
    """Buffers events in memory and writes them in one INSERT per flush (hot paths never wait on SQL)."""

    def __init__(self, db: Database, flush_interval: float = 0.5, max_buffer: int = 100_000) -> None:
        self._db = db
        self._interval = flush_interval
        self._max = max_buffer
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def record(
        self,
        stage: str,
        source: str,
        *,
        xname: str | None = None,
        mac: str | None = None,
        ip: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        row = {
            "ts": dt.datetime.now(dt.UTC),
            "stage": stage,
            "source": source,
            "xname": xname,
            "mac": mac,
            "ip": ip,
            "detail": dict(detail) if detail else None,
        }
        with self._lock:
            if len(self._buffer) >= self._max:
                self.dropped += 1
                return
            self._buffer.append(row)

    def flush(self) -> int:
        with self._lock:
            rows, self._buffer = self._buffer, []
        if not rows:
            return 0
        try:
            with self._db.transaction() as conn:
                # Plain tuples straight to the driver (SQLite's executemany, PostgreSQL's COPY), in the
                # exact form SQLAlchemy's DATETIME and JSON types store: a boot storm writes ~13 events
                # per node, and the generic path (parameter processing per row, 12-20 µs) held the GIL
                # long enough to delay DHCP answers.
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_row(r) for r in rows])
                elif conn.dialect.name == "postgresql":
                    _pg_copy(conn, rows)
                else:
                    conn.execute(boot_events.insert(), rows)
        except Exception:
            log.exception("boot event flush failed", count=len(rows))
            return 0
        return len(rows)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="boot-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def timeline(
        self,
        xname: str | None = None,
        mac: str | None = None,
        limit: int = 1000,
        *,
        macs: Sequence[str] = (),
    ) -> list[BootEvent]:
        """The newest ``limit`` events of one node (by xname or any of its MACs), oldest first."""
        self.flush()
        wanted = [m.lower() for m in (*([mac] if mac else []), *macs)]
        conds = []
        if xname:
            conds.append(boot_events.c.xname == xname)
        if wanted:
            conds.append(boot_events.c.mac.in_(wanted))
        query = sa.select(boot_events).order_by(boot_events.c.ts.desc(), boot_events.c.id.desc()).limit(limit)
        if conds:
            query = query.where(sa.or_(*conds))
        with self._db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(r) for r in reversed(rows)]

    def since(self, start: dt.datetime) -> list[BootEvent]:
        """Every event recorded at or after ``start``, oldest first (the status of a whole boot storm)."""
        self.flush()
        query = (
            sa.select(boot_events)
            .where(boot_events.c.ts >= start)
            .order_by(boot_events.c.ts, boot_events.c.id)
        )
        with self._db.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [_event(r) for r in rows]


def _event(r: sa.RowMapping) -> BootEvent:
    ts: dt.datetime = r["ts"]
    return BootEvent(
        ts=ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC),
        stage=r["stage"],
        source=r["source"],
        xname=r["xname"],
        mac=r["mac"],
        ip=r["ip"],
        detail=r["detail"],
    )
