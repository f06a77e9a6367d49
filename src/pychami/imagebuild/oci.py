"""OCI images without a container engine: layer tars with whiteouts, unpacking, image config, layouts.

A new layer is the overlay's upper directory. overlayfs records a deletion as a 0/0 character device
and an opaque directory as the xattr ``trusted.overlay.opaque=y``; in the layer tar they become
``.wh.<name>`` and ``.wh..wh..opq`` (OCI image spec, "Representing Changes"). Layers are gzip
(``application/vnd.oci.image.layer.v1.tar+gzip``) with the gzip header's mtime set to 0.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pychami.core.errors import NotFound, PychamiError
from pychami.imagebuild.progress import ProgressFn

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MT_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
REF_ANNOTATION = "org.opencontainers.image.ref.name"
WH = ".wh."
OPAQUE = ".wh..wh..opq"


class ImageError(PychamiError):
    """An image or layer is malformed."""


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int

    def to_json(self) -> dict[str, Any]:
        """The descriptor as in a manifest."""
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Layer:
    """A layer blob plus the digest of its uncompressed tar (the config's diff_id)."""

    descriptor: Descriptor
    diff_id: str


def sha256_file(path: Path) -> str:
    """``sha256:<hex>`` of a file."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


class _HashingWriter:
    """A write-only file that hashes and counts what passes through it."""

    def __init__(self, inner: Any, progress: ProgressFn | None = None) -> None:
        self.inner = inner
        self.hash = hashlib.sha256()
        self.size = 0
        self.progress = progress

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        self.size += len(data)
        if self.progress:
            self.progress(len(data))
        self.inner.write(data)
        return len(data)

    def flush(self) -> None:
        self.inner.flush()


class BlobStore:
    """Content-addressed blobs in an OCI layout directory (``blobs/sha256/<hex>``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, digest: str) -> Path:
        """Where blob ``digest`` lives (it may not exist)."""
        algo, _, hexd = digest.partition(":")
        if algo != "sha256" or len(hexd) != 64 or not all(c in "0123456789abcdef" for c in hexd):
            raise ImageError(f"unsupported digest {digest!r}")
        return self.root / "blobs" / "sha256" / hexd

    def has(self, digest: str) -> bool:
        """Whether the blob is present."""
        return self.path(digest).is_file()

    def tmpfile(self) -> tuple[IO[bytes], Path]:
        """A temporary file in the store (same filesystem, for an atomic rename)."""
        d = self.root / "blobs" / "tmp"
        d.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=d)
        return os.fdopen(fd, "wb"), Path(name)

    def adopt(self, tmp: Path, digest: str) -> Path:
        """Move a finished temporary file into place under its digest."""
        target = self.path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        return target

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if not self.has(digest):
            fh, tmp = self.tmpfile()
            with fh:
                fh.write(data)
            self.adopt(tmp, digest)
        return digest

    def read_json(self, digest: str) -> dict[str, Any]:
        """Load a JSON blob (manifest, index, config)."""
        try:
            data: dict[str, Any] = json.loads(self.path(digest).read_bytes())
        except FileNotFoundError:
            raise NotFound(f"blob {digest} is missing from {self.root}") from None
        return data


# -- writing layers -----------------------------------------------------------------------------------


def _entries(root: Path, rel: str = "") -> Any:
    """Depth-first, sorted walk yielding (relative path, DirEntry)."""
    with os.scandir(root / rel if rel else root) as it:
        items = sorted(it, key=lambda e: e.name)
    for entry in items:
        path = f"{rel}/{entry.name}" if rel else entry.name
        yield path, entry
        if entry.is_dir(follow_symlinks=False):
            yield from _entries(root, path)


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def write_layer(
    src: Path, blobs: BlobStore, *, from_overlay: bool, progress: ProgressFn | None = None, level: int = 1
) -> Layer:
    """Tar+gzip the directory ``src`` into the blob store, converting overlay whiteouts if asked."""
    fh, tmp = blobs.tmpfile()
    try:
        with fh:
            outer = _HashingWriter(fh)
            with gzip.GzipFile(fileobj=outer, mode="wb", compresslevel=level, mtime=0) as gz:
                inner = _HashingWriter(gz, progress)
                with tarfile.open(fileobj=inner, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                    _add_tree(tar, src, from_overlay)
        digest = "sha256:" + outer.hash.hexdigest()
        diff_id = "sha256:" + inner.hash.hexdigest()
        blobs.adopt(tmp, digest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Layer(Descriptor(MT_LAYER_GZIP, digest, outer.size), diff_id)


def _add_tree(tar: tarfile.TarFile, src: Path, from_overlay: bool) -> None:
    for rel, entry in _entries(src):
        full = entry.path
        st = entry.stat(follow_symlinks=False)
        if from_overlay and _is_whiteout(st):
            parent, _, name = rel.rpartition("/")
            info = tarfile.TarInfo(f"{parent}/{WH}{name}" if parent else f"{WH}{name}")
            info.mtime = int(st.st_mtime)
            tar.addfile(info)
            continue
        if stat.S_ISSOCK(st.st_mode):
            continue
        info = tar.gettarinfo(full, arcname=rel)
        info.uname = info.gname = ""
        if info.isreg():
            with open(full, "rb") as data:
                tar.addfile(info, data)
        else:
            tar.addfile(info)
        if from_overlay and info.isdir() and _is_opaque(full):
            marker = tarfile.TarInfo(f"{rel}/{OPAQUE}")
            marker.mtime = int(st.st_mtime)
            tar.addfile(marker)


# -- unpacking ----------------------------------------------------------------------------------------


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def unpack_layer(blob: Path, dest: Path, progress: ProgressFn | None = None) -> None:
    """Apply one (gzip or plain) layer tar onto ``dest``, honouring whiteouts.

    Whiteouts are applied first (they only concern lower layers), then GNU tar extracts everything else
    (fast, keeps owners numerically, hard links, devices and permissions).
    """
    listing = subprocess.run(["tar", "-tf", str(blob)], capture_output=True, check=False)
    if listing.returncode != 0:
        raise ImageError(f"layer {blob.name} is not a readable tar: {listing.stderr.decode()[-300:]}")
    for raw in listing.stdout.decode(errors="surrogateescape").splitlines():
        name = os.path.normpath(raw.lstrip("/"))
        if name.startswith("..") or name == ".":
            raise ImageError(f"layer {blob.name} has an unsafe path {raw!r}")
        parent, _, base = name.rpartition("/")
        if base == OPAQUE:
            d = dest / parent
            if d.is_dir() and not d.is_symlink():
                for child in d.iterdir():
                    _remove(child)
        elif base.startswith(WH):
            _remove(dest / parent / base[len(WH) :])
    argv = ["tar", "-xf", str(blob), "-C", str(dest), "--numeric-owner", "--same-owner", "-p"]
    argv += ["--exclude=.wh.*", "--exclude=.wh..wh..opq"]
    res = subprocess.run(argv, capture_output=True, check=False)
    if res.returncode != 0:
        raise ImageError(f"unpacking layer {blob.name} failed: {res.stderr.decode()[-300:]}")
    if progress:
        progress(blob.stat().st_size)


# -- images -------------------------------------------------------------------------------------------


@dataclass
class Image:
    """A resolved image: its manifest digest, manifest, config and layers (blobs in a BlobStore)."""

    digest: str
    manifest: dict[str, Any]
    config: dict[str, Any]

    @property
    def layers(self) -> list[Layer]:
        """Layers bottom-up with their diff_ids."""
        diff_ids = self.config.get("rootfs", {}).get("diff_ids", [])
        out = []
        for i, d in enumerate(self.manifest.get("layers", [])):
            out.append(Layer(Descriptor(d["mediaType"], d["digest"], int(d["size"])), diff_ids[i]))
        return out

    @property
    def labels(self) -> dict[str, str]:
        """The config's labels."""
        labels: dict[str, str] = (self.config.get("config") or {}).get("Labels") or {}
        return labels


def now_iso() -> str:
    """UTC timestamp for image configs."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_config(parent: Image | None, layers: list[Layer], labels: dict[str, str], created_by: str) -> bytes:
    """The image config: parent's config + our layers' diff_ids, merged labels and a history entry."""
    base: dict[str, Any] = json.loads(json.dumps(parent.config)) if parent else {}
    created = now_iso()
    cfg = base.get("config") or {}
    merged = dict(cfg.get("Labels") or {})
    merged.update(labels)
    cfg["Labels"] = merged
    diff_ids = list((base.get("rootfs") or {}).get("diff_ids", []))
    diff_ids += [layer.diff_id for layer in layers]
    history = list(base.get("history", []))
    history += [{"created": created, "created_by": created_by} for _ in layers]
    out = {
        "created": created,
        "architecture": base.get("architecture", "amd64"),
        "os": base.get("os", "linux"),
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }
    return json.dumps(out, sort_keys=True, separators=(",", ":")).encode()


def make_manifest(config: Descriptor, layers: list[Descriptor], annotations: dict[str, str]) -> bytes:
    """An OCI image manifest."""
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": config.to_json(),
        "layers": [d.to_json() for d in layers],
    }
    if annotations:
        doc["annotations"] = annotations
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


class OciLayout:
    """An OCI image layout directory (``oci-layout``, ``index.json``, ``blobs/``); refs are ``name:tag``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = BlobStore(root)

    def _index(self) -> dict[str, Any]:
        path = self.root / "index.json"
        if not path.exists():
            return {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": []}
        data: dict[str, Any] = json.loads(path.read_text())
        return data

    def tag(self, ref: str, manifest_digest: str, size: int) -> None:
        """Point ``ref`` at a manifest (replacing an older entry with that ref)."""
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        index = self._index()
        manifests = [m for m in index["manifests"] if (m.get("annotations") or {}).get(REF_ANNOTATION) != ref]
        manifests.append(
            {
                "mediaType": MT_MANIFEST,
                "digest": manifest_digest,
                "size": size,
                "annotations": {REF_ANNOTATION: ref},
            }
        )
        index["manifests"] = manifests
        tmp = self.root / "index.json.tmp"
        tmp.write_text(json.dumps(index, indent=1))
        os.replace(tmp, self.root / "index.json")

    def refs(self) -> dict[str, str]:
        """ref -> manifest digest."""
        out = {}
        for m in self._index()["manifests"]:
            ref = (m.get("annotations") or {}).get(REF_ANNOTATION)
            if ref:
                out[ref] = m["digest"]
        return out

    def resolve(self, ref: str | None) -> Image:
        """The image tagged ``ref`` (or the only image when ``ref`` is None)."""
        refs = self.refs()
        if ref is None:
            if len(refs) != 1:
                raise NotFound(f"{self.root}: name an image (one of {', '.join(sorted(refs)) or 'none'})")
            ref = next(iter(refs))
        if ref not in refs:
            raise NotFound(f"image {ref!r} not found in {self.root}")
        digest = refs[ref]
        manifest = self.blobs.read_json(digest)
        config = self.blobs.read_json(manifest["config"]["digest"])
        return Image(digest, manifest, config)
