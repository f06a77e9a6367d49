"""``mksquashfs`` of an image root, with its progress bar turned into ours."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

from pychami.core.errors import ConfigError
from pychami.imagebuild.progress import CommandFailed, Reporter, stop_process_group

log = logging.getLogger("pychami.imagebuild")
_PROGRESS = re.compile(rb"(\d+)/(\d+)\s+(\d+)%")


def squash_argv(root: Path, out: Path, compression: str, level: int | None) -> list[str]:
    """The mksquashfs command line (``/proc``, ``/sys``, ``/dev`` content is never included)."""
    argv = ["mksquashfs", str(root), str(out), "-noappend", "-comp", compression]
    if level is not None:
        argv += ["-Xcompression-level", str(level)]
    argv += ["-wildcards", "-e", "proc/*", "sys/*", "dev/*"]
    return argv


def make_squashfs(
    root: Path, out: Path, reporter: Reporter, compression: str = "zstd", level: int | None = 3
) -> int:
    """Squash ``root`` into ``out``; returns the image size in bytes."""
    if not shutil.which("mksquashfs"):
        raise ConfigError("mksquashfs not found (apt-get install squashfs-tools)")
    out.parent.mkdir(parents=True, exist_ok=True)
    argv = squash_argv(root, out, compression, level)
    log.debug("running: %s", " ".join(argv))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    tail = b""
    try:
        with reporter.bar("squashing", 100, unit_bytes=False) as advance:
            done = 0
            assert proc.stdout is not None
            while chunk := proc.stdout.read1(65536):  # type: ignore[attr-defined]
                tail = (tail + chunk)[-4096:]
                matches = _PROGRESS.findall(chunk)
                if matches:
                    pct = int(matches[-1][2])
                    if pct > done:
                        advance(pct - done)
                        done = pct
        rc = proc.wait()
    except BaseException:
        stop_process_group(proc)
        out.unlink(missing_ok=True)
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    if rc != 0:
        out.unlink(missing_ok=True)
        for line in tail.decode(errors="replace").splitlines()[-10:]:
            log.error("%s", line)
        raise CommandFailed(f"mksquashfs failed with exit status {rc}")
    return out.stat().st_size
