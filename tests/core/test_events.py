"""The boot-event recorder: batched writes read back unchanged, in the form SQLAlchemy stores."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from pychami.core.db import Database
from pychami.core.events import (
    _SQLITE_INSERT,
    BootEventRecorder,
    _pg_copy,
    _sqlite_row,
    boot_events,
)


def test_flushed_events_read_back_unchanged(db: Database) -> None:
    """Events with and without detail come back from the timeline with their fields and UTC time."""
    recorder = BootEventRecorder(db)
    before = dt.datetime.now(dt.UTC)
    recorder.record(
        "dhcp_ack",
        "netboot",
        xname="x1000c0s0b0n0",
        mac="52:54:00:00:00:01",
        ip="10.0.0.5",
        detail={"client": "ipxe", "file": "http://h/b?mac=1"},
    )
    recorder.record("bootscript", "bss", mac="52:54:00:00:00:01")
    assert recorder.flush() == 2
    events = recorder.timeline(mac="52:54:00:00:00:01")
    assert [(e.stage, e.source, e.xname, e.ip, e.detail) for e in events] == [
        ("dhcp_ack", "netboot", "x1000c0s0b0n0", "10.0.0.5", {"client": "ipxe", "file": "http://h/b?mac=1"}),
        ("bootscript", "bss", None, None, None),
    ]
    assert all(before - dt.timedelta(seconds=1) <= e.ts <= dt.datetime.now(dt.UTC) for e in events)


def test_fast_rows_equal_what_sqlalchemy_writes(db: Database) -> None:
    """The driver-level insert (SQLite, PostgreSQL) stores the very values the generic SQLAlchemy insert
    does."""
    sqlite = db.engine.dialect.name == "sqlite"
    row = {
        "ts": dt.datetime(2026, 1, 2, 3, 4, 5, 60, tzinfo=dt.UTC),
        "stage": "kernel",
        "source": "bootfiles",
        "xname": "x1",
        "mac": None,
        "ip": "10.1.1.1",
    }
    with db.transaction() as conn:
        for detail in ({"key": "a/b"}, None):
            conn.execute(boot_events.insert(), [{**row, "detail": detail}])
            if sqlite:
                conn.exec_driver_sql(_SQLITE_INSERT, [_sqlite_row({**row, "detail": detail})])
            else:
                _pg_copy(conn, [{**row, "detail": detail}])
    with db.read() as conn:
        stored = conn.exec_driver_sql(
            "SELECT ts, xname, mac, ip, stage, source, detail::text FROM boot_events ORDER BY id"
            if db.engine.dialect.name == "postgresql"
            else "SELECT ts, xname, mac, ip, stage, source, detail FROM boot_events ORDER BY id"
        ).all()
    assert stored[0] == stored[1] and stored[2] == stored[3]
    assert stored[0] != stored[2]
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(boot_events)).scalar() == 4
