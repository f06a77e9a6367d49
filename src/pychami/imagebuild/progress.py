"""What a person sees during a build: numbered steps with elapsed time, progress bars, command output.

Commands run in their own session so that an interrupt (Ctrl-C or SIGTERM) can stop the whole process
group before the chroot mounts are released. Their output is streamed line by line at DEBUG, or at the
level a ``cmds`` entry asks for.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import IO

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from pychami.core.errors import PychamiError

log = logging.getLogger("pychami.imagebuild")
ProgressFn = Callable[[int], None]


class CommandFailed(PychamiError):
    """A command of the build exited non-zero."""

    exit_code = 1


class Reporter:
    """Step headers, timings and progress bars on stderr."""

    def __init__(self, console: Console | None = None, *, bars: bool = True) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        if not self.console.is_terminal:
            self.console.soft_wrap = True
        self.bars = bars and self.console.is_terminal
        self.timings: dict[str, float] = {}
        self._n = 0
        self._total = 0

    def start(self, total: int) -> None:
        """Announce how many steps the plan has."""
        self._total = total
        self._n = 0

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        """Print ``[i/n] title`` and, at the end, its elapsed time."""
        self._n += 1
        label = f"[{self._n}/{self._total}]" if self._total else "[-]"
        self.console.print(f"[bold]{escape(label)}[/bold] {escape(title)}")
        t0 = time.monotonic()
        try:
            yield
        except BaseException:
            self.console.print(f"    [red]failed[/red] after {time.monotonic() - t0:.1f}s: {escape(title)}")
            raise
        elapsed = time.monotonic() - t0
        self.timings[title] = elapsed
        self.console.print(f"    done in {elapsed:.1f}s")

    def info(self, message: str) -> None:
        """A line under the current step."""
        self.console.print(f"    {message}", markup=False)

    @contextmanager
    def bar(self, description: str, total: int | None, *, unit_bytes: bool = True) -> Iterator[ProgressFn]:
        """A progress bar; yields a function taking the number of units just completed."""
        if not self.bars:
            yield lambda n: None
            return
        columns = [TextColumn("    {task.description}"), BarColumn(), TaskProgressColumn()]
        if unit_bytes:
            columns += [DownloadColumn(), TransferSpeedColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=False) as progress:
            task = progress.add_task(description, total=total)
            yield lambda n: progress.advance(task, n)


_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARN": logging.WARNING, "WARNING": logging.WARNING}


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    output_level: str = "DEBUG",
    stdin: IO[bytes] | None = None,
    check: bool = True,
    what: str | None = None,
) -> int:
    """Run ``argv``; stream its output at ``output_level``; kill its process group if we are interrupted.

    With ``output_level`` ERROR the output is only shown when the command fails (upstream's default for
    ``cmds``). Returns the exit status (raises :class:`CommandFailed` on non-zero when ``check``).
    """
    level = _LEVELS.get(output_level.upper(), logging.ERROR)
    stream_level = logging.DEBUG if level >= logging.ERROR else level
    full_env = dict(os.environ)
    full_env.update(env or {})
    log.debug("running: %s", " ".join(argv))
    tail: list[str] = []
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        env=full_env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            del tail[:-40]
            log.log(stream_level, "%s", line)
        rc = proc.wait()
    except BaseException:
        stop_process_group(proc)
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    if rc != 0 and check:
        if stream_level == logging.DEBUG and not log.isEnabledFor(logging.DEBUG):
            for line in tail:
                log.error("%s", line)
        raise CommandFailed(f"{what or argv[0]} failed with exit status {rc}")
    return rc


def stop_process_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM then SIGKILL the command's whole process group and reap it."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # Children that outlived the leader (daemons started by maintainer scripts) die with the group too.
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
