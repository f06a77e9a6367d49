"""Group commit: items submitted together share a transaction; each future completes after its commit."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pychami.core.batch import GroupCommit
from pychami.core.db import Database

ITEMS = sa.Table(
    "group_commit_items",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value", sa.String(16), nullable=False),
)


@pytest.fixture
def table(db: Database) -> sa.Table:
    ITEMS.create(db.engine, checkfirst=True)
    return ITEMS


def stored(db: Database) -> dict[int, str]:
    with db.read() as conn:
        return {row.id: row.value for row in conn.execute(sa.select(ITEMS))}


def test_items_waiting_behind_a_batch_share_the_next_transaction(db: Database, table: sa.Table) -> None:
    release = threading.Event()
    seen: list[list[int]] = []

    def write(conn: Connection, items: Sequence[int]) -> None:
        seen.append(list(items))
        if len(seen) == 1:
            assert release.wait(10)
        conn.execute(sa.insert(table), [{"id": i, "value": f"v{i}"} for i in items])

    writer: GroupCommit[int] = GroupCommit(db, write, name="test")
    first = writer.submit(0)
    while not seen:  # the writer holds item 0's transaction open
        threading.Event().wait(0.01)
    rest = [writer.submit(i) for i in range(1, 50)]
    assert not first.done()
    release.set()
    for done in [first, *rest]:
        assert done.result(timeout=10) is None
    assert seen == [[0], list(range(1, 50))]
    assert writer.batches == 2
    assert stored(db) == {i: f"v{i}" for i in range(50)}


def test_a_bad_item_fails_only_its_own_request(db: Database, table: sa.Table) -> None:
    release = threading.Event()
    calls = 0

    def write(conn: Connection, items: Sequence[int]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            assert release.wait(10)
        if 13 in items:
            raise ValueError("no 13")
        conn.execute(sa.insert(table), [{"id": i, "value": "ok"} for i in items])

    writer: GroupCommit[int] = GroupCommit(db, write, name="test")
    futures = {0: writer.submit(0)}
    while calls == 0:
        threading.Event().wait(0.01)
    futures |= {i: writer.submit(i) for i in (12, 13, 14)}
    release.set()
    with pytest.raises(ValueError, match="no 13"):
        futures[13].result(timeout=10)
    for i in (0, 12, 14):
        assert futures[i].result(timeout=10) is None
    assert stored(db) == {0: "ok", 12: "ok", 14: "ok"}


def test_after_runs_once_committed_and_its_failure_fails_no_request(db: Database, table: sa.Table) -> None:
    committed: list[list[int]] = []

    def write(conn: Connection, items: Sequence[int]) -> None:
        conn.execute(sa.insert(table), [{"id": i, "value": "x"} for i in items])

    def after(items: Sequence[int]) -> None:
        committed.append(sorted(stored(db)))
        raise RuntimeError("follow-up failed")

    writer: GroupCommit[int] = GroupCommit(db, write, name="test", after=after)
    assert writer.submit(7).result(timeout=10) is None
    assert committed == [[7]]


def test_batches_are_capped(db: Database, table: sa.Table) -> None:
    release = threading.Event()
    sizes: list[int] = []

    def write(conn: Connection, items: Sequence[int]) -> None:
        sizes.append(len(items))
        if len(sizes) == 1:
            assert release.wait(10)
        conn.execute(sa.insert(table), [{"id": i, "value": "x"} for i in items])

    writer: GroupCommit[int] = GroupCommit(db, write, name="test", max_batch=10)
    first = writer.submit(0)
    while not sizes:
        threading.Event().wait(0.01)
    rest = [writer.submit(i) for i in range(1, 26)]
    release.set()
    for done in [first, *rest]:
        done.result(timeout=10)
    assert sizes == [1, 10, 10, 5]
