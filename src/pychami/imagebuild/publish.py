"""Boot artifacts (kernel, initramfs, SquashFS) and their publication to an object store.

Object names are upstream's (spec §7.3):
``efi-images/<prefix>initramfs-<kver>.img``, ``efi-images/<prefix>vmlinuz-<kver>`` and
``<prefix><ID><VERSION_ID>-<name>-<tag>`` for the SquashFS.

All-or-nothing rule: an image is *visible* when its SquashFS object exists (boot parameters name it with
``root=live:``). The kernel and initramfs are uploaded first, the SquashFS of every tag last, and if any
upload fails every object this publish wrote is deleted again. So a failed or interrupted publish never
leaves a SquashFS behind, and never one whose kernel/initramfs are missing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from pychami.core.storage import ObjectStore
from pychami.imagebuild.oci import ImageError
from pychami.imagebuild.progress import Reporter

log = logging.getLogger("pychami.imagebuild")


@dataclass(frozen=True)
class BootFiles:
    """Kernel and initramfs found in an image root."""

    kver: str
    kernel: Path
    initramfs: Path


def find_boot_files(root: Path) -> BootFiles:
    """First kernel version in ``/lib/modules`` with a kernel image and an initramfs in ``/boot``.

    Accepts upstream's names (``initramfs-<kver>.img``, ``initrd-<kver>``) and Debian's
    (``initrd.img-<kver>``); the kernel is ``/boot/vmlinuz-<kver>`` or ``/lib/modules/<kver>/vmlinuz``.
    """
    modules = root / "usr" / "lib" / "modules"
    if not modules.is_dir():
        modules = root / "lib" / "modules"
    kvers = sorted(p.name for p in modules.iterdir()) if modules.is_dir() else []
    boot = root / "boot"
    for kver in kvers:
        initrd = next(
            (
                p
                for p in (
                    boot / f"initramfs-{kver}.img",
                    boot / f"initrd-{kver}",
                    boot / f"initrd.img-{kver}",
                )
                if p.is_file()
            ),
            None,
        )
        kernel = next(
            (p for p in (boot / f"vmlinuz-{kver}", modules / kver / "vmlinuz") if p.is_file()),
            None,
        )
        if initrd and kernel:
            return BootFiles(kver, kernel, initrd)
    raise ImageError(
        f"no kernel with an initramfs in the image (kernels: {', '.join(kvers) or 'none'}); "
        "install a kernel and build the initramfs (e.g. dracut or update-initramfs) in cmds"
    )


def os_release_id(root: Path) -> str:
    """``<ID><VERSION_ID>`` from the image's os-release, lower-case, quotes stripped (``debian12``)."""
    for rel in ("etc/os-release", "usr/lib/os-release"):
        path = root / rel
        if path.is_file() or path.is_symlink():
            try:
                text = path.read_text() if path.is_file() else (root / "usr/lib/os-release").read_text()
            except OSError:
                continue
            values = {}
            for line in text.splitlines():
                m = re.match(r"^([A-Z_]+)=(.*)$", line.strip())
                if m:
                    values[m.group(1)] = m.group(2).strip().strip("\"'")
            return (values.get("ID", "") + values.get("VERSION_ID", "")).lower()
    raise ImageError("the image has no /etc/os-release")


@dataclass(frozen=True)
class Artifacts:
    """Files to publish and what to call them."""

    kver: str
    kernel: Path
    initramfs: Path
    squashfs: Path
    os_id: str


def boot_keys(prefix: str, name: str, tags: list[str], art: Artifacts) -> dict[str, Path]:
    """Object key -> local file, SquashFS keys last (upstream names)."""
    keys = {
        f"efi-images/{prefix}initramfs-{art.kver}.img": art.initramfs,
        f"efi-images/{prefix}vmlinuz-{art.kver}": art.kernel,
    }
    for tag in tags:
        keys[f"{prefix}{art.os_id}-{name}-{tag}"] = art.squashfs
    return keys


def stage_boot_files(root: Path, dest: Path) -> BootFiles:
    """Copy kernel and initramfs out of the (soon unmounted) root."""
    found = find_boot_files(root)
    dest.mkdir(parents=True, exist_ok=True)
    kernel = dest / f"vmlinuz-{found.kver}"
    initrd = dest / f"initramfs-{found.kver}.img"
    shutil.copyfile(found.kernel, kernel)
    shutil.copyfile(found.initramfs, initrd)
    return BootFiles(found.kver, kernel, initrd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


def publish(store: ObjectStore, keys: dict[str, Path], reporter: Reporter) -> list[str]:
    """Upload every key in order; on any failure delete what was uploaded and re-raise.

    An object that is already stored with the same sha256 (recorded at upload) is left alone: it is not
    uploaded again, and not deleted if the publish fails. Returns the keys written.
    """
    done: list[str] = []
    hashes = {key: _sha256(path) for key, path in keys.items()}
    todo = {}
    for key, path in keys.items():
        if store.sha256(key) == hashes[key]:
            reporter.info(f"unchanged {store.url(key)}")
        else:
            todo[key] = path
    total = sum(p.stat().st_size for p in todo.values())
    try:
        with reporter.bar(f"uploading to {store.bucket}", total) as advance:
            for key, path in todo.items():
                log.info("Pushing %s as %s to %s", path, key, store.bucket)
                done.append(key)
                store.put_file(key, path, advance, sha256=hashes[key])
    except BaseException:
        for key in reversed(done):
            try:
                store.delete(key)
            except Exception as exc:  # the original failure matters more
                log.error("could not delete %s after a failed publish: %s", key, exc)
        raise
    for key in done:
        reporter.info(f"published {store.url(key)}")
    return done
