"""The build cache: scratch bases, unpacked parents, finished layers and SquashFS images, by their inputs.

Layout under the cache directory (default ``~/.cache/pychami/imagebuild``)::

    oci/blobs/sha256/...        every blob pulled or built (content addressed)
    bases/<key>/rootfs          a debootstrap base, <key> = hash of (mirror, suite, components, arch, ...)
    bases/<key>/layer.json      its layer blob (digest, diff_id, size)
    rootfs/<layers hash>/       a parent image unpacked (used read-only as the overlay's lower dir)
    layers/<key>.json           the layer a config built on a parent (key = hash of config + parent digest)
    squash/<key>-<comp>/        rootfs.squashfs, kernel, initramfs and meta.json of that layer
    apt-archives/               .deb files shared by all apt builds
    work/<build>/               per-build scratch space (overlay upper/work/merged), removed at the end

A single ``flock`` on ``.lock`` serialises builds that share a cache directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pychami.imagebuild.chroot import remove_tree
from pychami.imagebuild.oci import BlobStore, Descriptor, Image, Layer, unpack_layer
from pychami.imagebuild.progress import ProgressFn


def digest_of(obj: Any) -> str:
    """Stable hash of a JSON-able value."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def _layer_json(layer: Layer) -> dict[str, Any]:
    d = layer.descriptor
    return {"mediaType": d.media_type, "digest": d.digest, "size": d.size, "diff_id": layer.diff_id}


def _layer_from(doc: dict[str, Any]) -> Layer:
    return Layer(Descriptor(doc["mediaType"], doc["digest"], int(doc["size"])), doc["diff_id"])


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    os.replace(tmp, path)


class BuildCache:
    """See the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = BlobStore(root / "oci")
        root.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cache lock for a whole build."""
        with (self.root / ".lock").open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # scratch bases
    def base(self, key: str) -> tuple[Path, Layer] | None:
        """The cached base rootfs and its layer, if complete."""
        meta = self.root / "bases" / key / "layer.json"
        if not meta.is_file():
            return None
        layer = _layer_from(json.loads(meta.read_text()))
        if not self.blobs.has(layer.descriptor.digest):
            return None
        return self.root / "bases" / key / "rootfs", layer

    def base_tmp(self, key: str) -> Path:
        """An empty directory to bootstrap into (replacing a half-made one)."""
        tmp = self.root / "bases" / key / "rootfs.tmp"
        remove_tree(tmp)
        tmp.parent.mkdir(parents=True, exist_ok=True)
        return tmp

    def put_base(self, key: str, tmp: Path, layer: Layer, inputs: dict[str, Any]) -> Path:
        """Make a bootstrapped base current."""
        final = self.root / "bases" / key / "rootfs"
        remove_tree(final)
        os.replace(tmp, final)
        _write_json(self.root / "bases" / key / "inputs.json", inputs)
        _write_json(self.root / "bases" / key / "layer.json", _layer_json(layer))
        return final

    # unpacked parents
    def rootfs(self, image: Image, progress: ProgressFn | None = None) -> Path:
        """``image`` unpacked (all its layers applied in order), cached by its chain of layer digests."""
        hexd = digest_of([layer.descriptor.digest for layer in image.layers])
        final = self.root / "rootfs" / hexd
        if (self.root / "rootfs" / f"{hexd}.complete").exists() and final.is_dir():
            return final
        tmp = self.root / "rootfs" / f"{hexd}.tmp"
        remove_tree(tmp)
        tmp.mkdir(parents=True)
        for layer in image.layers:
            unpack_layer(self.blobs.path(layer.descriptor.digest), tmp, progress)
        remove_tree(final)
        os.replace(tmp, final)
        (self.root / "rootfs" / f"{hexd}.complete").touch()
        return final

    # layers
    def layer(self, key: str) -> Layer | None:
        """The layer built earlier for ``key``."""
        meta = self.root / "layers" / f"{key}.json"
        if not meta.is_file():
            return None
        layer = _layer_from(json.loads(meta.read_text()))
        return layer if self.blobs.has(layer.descriptor.digest) else None

    def put_layer(self, key: str, layer: Layer) -> None:
        """Remember the layer of ``key``."""
        _write_json(self.root / "layers" / f"{key}.json", _layer_json(layer))

    def squash_dir(self, key: str, compression: str, level: int | None) -> Path:
        """Where the boot artifacts of a layer are kept."""
        return self.root / "squash" / f"{key}-{compression}{level or ''}"

    def workdir(self, name: str) -> Path:
        """A fresh per-build directory."""
        d = self.root / "work" / f"{name}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
        d.mkdir(parents=True)
        return d

    def copy_tree(self, src: Path, dest: Path) -> None:
        """``cp -a`` (keeps owners, devices, hard links, xattrs)."""
        dest.mkdir(parents=True, exist_ok=True)
        import subprocess  # noqa: PLC0415

        subprocess.run(["cp", "-a", f"{src}/.", str(dest)], check=True)

    def link_blob(self, src: BlobStore, dst: BlobStore, digest: str) -> None:
        """Make blob ``digest`` of ``src`` available in ``dst`` (hard link, or copy across filesystems)."""
        if dst.has(digest):
            return
        target = dst.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src.path(digest), target)
        except OSError:
            shutil.copyfile(src.path(digest), target)
