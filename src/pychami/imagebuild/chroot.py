"""Mounts for a build: the overlay (parent below, new layer above) and /proc, /sys, /dev in the chroot.

Every mount is released by a context manager, also when the build fails or is interrupted (Ctrl-C, or
SIGTERM which the CLI turns into an exception). Unmounting retries, then falls back to a lazy unmount so
that a busy mount never outlives the build.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pychami.core.errors import PychamiError

log = logging.getLogger("pychami.imagebuild")


class MountError(PychamiError):
    """A mount could not be made."""


def _mount(args: list[str], target: Path) -> None:
    res = subprocess.run(["mount", *args, str(target)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise MountError(f"mount {' '.join(args)} {target}: {res.stderr.strip()}")


def _umount(target: Path, *, recursive: bool = False) -> None:
    flags = ["-R"] if recursive else []
    for attempt in range(10):
        res = subprocess.run(["umount", *flags, str(target)], capture_output=True, text=True, check=False)
        if res.returncode == 0 or not is_mounted(target):
            return
        time.sleep(0.2 * (attempt + 1))
    log.warning("%s is busy; detaching it lazily", target)
    subprocess.run(["umount", "-l", *flags, str(target)], capture_output=True, check=False)


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` (from /proc/self/mountinfo)."""
    root = str(path.resolve())
    out = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            point = line.split()[4].replace("\\040", " ")
            if point == root or point.startswith(root + "/"):
                out.append(point)
    return out


def release_all(path: Path) -> None:
    """Unmount everything at or below ``path``, deepest first (the safety net after a failure)."""
    for point in sorted(mounts_under(path), key=len, reverse=True):
        _umount(Path(point))


def is_mounted(path: Path) -> bool:
    """Whether ``path`` itself is a mount point."""
    return str(path.resolve()) in mounts_under(path)


@contextmanager
def overlay(lower: Path, upper: Path, work: Path, merged: Path) -> Iterator[Path]:
    """Mount ``lower`` (read-only) + ``upper`` (the new layer) on ``merged``."""
    for d in (upper, work, merged):
        d.mkdir(parents=True, exist_ok=True)
    opts = f"lowerdir={lower},upperdir={upper},workdir={work}"
    _mount(["-t", "overlay", "overlay", "-o", opts], merged)
    try:
        yield merged
    finally:
        _umount(merged, recursive=True)


@contextmanager
def chroot_mounts(root: Path) -> Iterator[Path]:
    """/proc, /sys, /dev (+ /dev/pts) and the host's resolv.conf inside ``root``; always released."""
    with ExitStack() as stack:
        for name, args in (
            ("proc", ["-t", "proc", "proc"]),
            ("sys", ["-t", "sysfs", "sysfs"]),
            ("dev", ["--rbind", "/dev"]),
        ):
            target = root / name
            target.mkdir(exist_ok=True)
            _mount(args, target)
            if name == "dev":
                subprocess.run(["mount", "--make-rslave", str(target)], check=False)
            stack.callback(_umount, target, recursive=name != "proc")
        resolv = root / "etc" / "resolv.conf"
        host_resolv = Path("/etc/resolv.conf")
        if host_resolv.is_file() and (root / "etc").is_dir() and not resolv.is_symlink():
            created = not resolv.exists()
            if created:
                resolv.touch()
            _mount(["--bind", str(host_resolv)], resolv)
            if created:
                stack.callback(resolv.unlink, missing_ok=True)
            stack.callback(_umount, resolv)
        yield root


@contextmanager
def no_daemons(root: Path) -> Iterator[None]:
    """A ``policy-rc.d`` that stops maintainer scripts from starting services, removed afterwards."""
    policy = root / "usr" / "sbin" / "policy-rc.d"
    if not (root / "usr" / "sbin").is_dir() or policy.exists():
        yield
        return
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    try:
        yield
    finally:
        policy.unlink(missing_ok=True)


@contextmanager
def bind(source: Path, target: Path) -> Iterator[None]:
    """Bind-mount ``source`` on ``target`` for the duration of a block."""
    target.mkdir(parents=True, exist_ok=True)
    _mount(["--bind", str(source)], target)
    try:
        yield
    finally:
        _umount(target)


def remove_tree(path: Path) -> None:
    """Delete a build directory, refusing if anything is still mounted below it."""
    if not path.exists():
        return
    left = mounts_under(path)
    if left:
        raise MountError(f"refusing to delete {path}: still mounted: {', '.join(left)}")
    shutil.rmtree(path)
