"""Command running and step reporting."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest
from rich.console import Console

from pychami.imagebuild.progress import CommandFailed, Reporter, run


def test_failed_command_shows_its_output(caplog: pytest.LogCaptureFixture) -> None:
    """A failing command raises CommandFailed and its last lines are logged at ERROR."""
    caplog.set_level(logging.INFO, logger="pychami")
    with pytest.raises(CommandFailed, match="demo failed with exit status 3"):
        run(["sh", "-c", "echo first; echo last; exit 3"], what="demo")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["first", "last"]


def test_info_level_streams_output(caplog: pytest.LogCaptureFixture) -> None:
    """output_level INFO streams each line as it comes (cmds with loglevel INFO)."""
    caplog.set_level(logging.INFO, logger="pychami")
    assert run(["sh", "-c", "echo one; echo two"], output_level="INFO") == 0
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == ["one", "two"]


def test_interrupt_stops_the_command_group() -> None:
    """An interrupt while a command runs kills its whole process group before propagating."""
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run(["sh", "-c", "sleep 30 & sleep 30; wait"])
    assert time.monotonic() - t0 < 15


def test_steps_are_numbered_and_timed() -> None:
    """Each step prints [i/n] and its elapsed time; a failed step says so."""
    console = Console(record=True, width=200)
    r = Reporter(console, bars=False)
    r.start(2)
    with r.step("first [cached]"):
        r.info("detail")

    def failing_step() -> None:
        with r.step("second"):
            raise ValueError("step broke")

    with pytest.raises(ValueError, match="step broke"):
        failing_step()
    text = console.export_text()
    assert "[1/2] first [cached]" in text
    assert "done in" in text
    assert "failed after" in text
    assert "first [cached]" in r.timings
