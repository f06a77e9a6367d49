"""A progress bar on stderr for scans and collections over many hosts (silent when not a terminal)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


class Tracker:
    """Counts finished hosts and how many of them were found or collected."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        self._progress = progress
        self._task = task
        self.done = 0
        self.hits = 0

    def advance(self, hit: bool) -> None:
        """One more host finished."""
        self.done += 1
        self.hits += int(hit)
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, hits=self.hits)


@contextmanager
def track(description: str, total: int, enabled: bool | None = None) -> Iterator[Tracker]:
    """A live bar while the block runs; ``enabled=None`` shows it only when stderr is a terminal."""
    console = Console(stderr=True)
    show = console.is_terminal if enabled is None else enabled
    if not show or total <= 1:
        yield Tracker(None, None)
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("found {task.fields[hits]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=total, hits=0)
        yield Tracker(progress, task)
