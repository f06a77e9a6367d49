"""Group commit: many small writes from concurrent requests, one transaction per batch.

In a boot storm every node phones home once; a transaction (and, on SQLite, a write lock and a WAL
sync) per node made phone-home the slowest step. :class:`GroupCommit` queues the items that requests
submit and writes whatever has gathered in one transaction from one thread; each submitter gets a future
that completes only when its item is committed, so a request still answers after its data is durable.
If a batch fails, its items are written one by one, so one bad item fails only its own request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from pychami.core.db import Database
from pychami.core.logs import get_logger

log = get_logger("pychami.batch")
T = TypeVar("T")

#: Largest batch written in one transaction.
MAX_BATCH = 1000


class GroupCommit(Generic[T]):
    """Writes submitted items with ``write(conn, items)`` in one transaction per batch.

    The writer thread starts on the first :meth:`submit` and is a daemon: it needs no stopping, and it
    finishes the batch in hand while the process shuts down (requests waiting on it are still served).
    ``after`` runs in the writer thread once a batch is committed (boot events, logs).
    """

    def __init__(
        self,
        db: Database,
        write: Callable[[Connection, Sequence[T]], None],
        *,
        name: str,
        after: Callable[[Sequence[T]], None] | None = None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._db = db
        self._write = write
        self._after = after
        self._name = name
        self._max = max_batch
        self._queue: list[tuple[T, Future[None]]] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        #: Batches written so far (for tests and metrics).
        self.batches = 0

    def submit(self, item: T) -> Future[None]:
        """Queue ``item``; the future completes when it is committed (or fails with the write's error)."""
        done: Future[None] = Future()
        with self._ready:
            self._queue.append((item, done))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"group-commit-{self._name}", daemon=True
                )
                self._thread.start()
            self._ready.notify()
        return done

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                batch, self._queue = self._queue[: self._max], self._queue[self._max :]
            self._commit(batch)

    def _commit(self, batch: list[tuple[T, Future[None]]]) -> None:
        items = [item for item, _ in batch]
        try:
            with self._db.transaction() as conn:
                self._write(conn, items)
        except Exception as exc:
            if len(batch) == 1:
                batch[0][1].set_exception(exc)
                return
            log.warning(
                "batch write failed; writing its items one by one", writer=self._name, items=len(batch)
            )
            for entry in batch:
                self._commit([entry])
            return
        self.batches += 1
        if self._after is not None:
            try:
                self._after(items)
            except Exception:  # the data is committed: a failing follow-up must not fail the requests
                log.exception("after-commit step failed", writer=self._name)
        for _, done in batch:
            done.set_result(None)
