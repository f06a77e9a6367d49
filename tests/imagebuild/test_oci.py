"""OCI layers from a real overlayfs upper dir (whiteouts, opaque dirs), unpacking, layouts, configs."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from pychami.imagebuild.chroot import chroot_mounts, mounts_under, overlay
from pychami.imagebuild.oci import (
    MT_CONFIG,
    BlobStore,
    Descriptor,
    Image,
    OciLayout,
    make_config,
    make_manifest,
    sha256_file,
    unpack_layer,
    write_layer,
)


def make_lower(root: Path) -> None:
    (root / "d").mkdir(parents=True)
    (root / "d" / "x").write_text("x")
    (root / "d" / "y").write_text("y")
    (root / "gone").write_text("bye")
    (root / "keep").write_text("keep")
    (root / "etc").mkdir()


def test_overlay_upper_becomes_layer_with_whiteouts(tmp_path: Path) -> None:
    """Deleted files become .wh.<name>, a replaced dir gets .wh..wh..opq, and unpacking applies both."""
    lower = tmp_path / "lower"
    make_lower(lower)
    with overlay(lower, tmp_path / "upper", tmp_path / "work", tmp_path / "merged") as merged:
        (merged / "gone").unlink()
        shutil.rmtree(merged / "d")
        (merged / "d").mkdir()
        (merged / "d" / "z").write_text("z")
        (merged / "new").write_text("new")
        os.link(merged / "new", merged / "new-link")
    assert not mounts_under(tmp_path)
    blobs = BlobStore(tmp_path / "oci")
    layer = write_layer(tmp_path / "upper", blobs, from_overlay=True)
    blob = blobs.path(layer.descriptor.digest)
    assert sha256_file(blob) == layer.descriptor.digest
    with gzip.open(blob) as raw:
        data = raw.read()
    assert "sha256:" + __import__("hashlib").sha256(data).hexdigest() == layer.diff_id
    with tarfile.open(blob) as tar:
        names = {m.name: m for m in tar.getmembers()}
    assert ".wh.gone" in names
    assert "d/.wh..wh..opq" in names
    assert names["new-link"].islnk() or names["new"].islnk()

    dest = tmp_path / "dest"
    shutil.copytree(lower, dest)
    unpack_layer(blob, dest)
    assert not (dest / "gone").exists()
    assert sorted(p.name for p in (dest / "d").iterdir()) == ["z"]
    assert (dest / "new").read_text() == "new"
    assert (dest / "keep").read_text() == "keep"
    assert os.stat(dest / "new").st_ino == os.stat(dest / "new-link").st_ino


def test_chroot_mounts_are_released_on_failure(tmp_path: Path) -> None:
    """/proc, /sys, /dev are unmounted even when the block raises."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    seen: list[str] = []

    def fail_inside() -> None:
        with chroot_mounts(root):
            seen.extend(mounts_under(root))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert len(seen) >= 4
    assert mounts_under(root) == []
    assert not (root / "etc" / "resolv.conf").exists()


def test_layout_and_config(tmp_path: Path) -> None:
    """A manifest tagged in an OCI layout resolves back; labels merge over the parent's."""
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "f").write_text("f")
    layout = OciLayout(tmp_path / "layout")
    layer = write_layer(root, layout.blobs, from_overlay=False)
    parent = Image("sha256:" + "0" * 64, {"layers": []}, {"config": {"Labels": {"a": "1", "b": "1"}}})
    cfg_raw = make_config(parent, [layer], {"b": "2"}, "test")
    cfg = json.loads(cfg_raw)
    assert cfg["config"]["Labels"] == {"a": "1", "b": "2"}
    assert cfg["rootfs"]["diff_ids"] == [layer.diff_id]
    assert all("created" in h for h in cfg["history"])
    cfg_digest = layout.blobs.put_bytes(cfg_raw)
    manifest = make_manifest(Descriptor(MT_CONFIG, cfg_digest, len(cfg_raw)), [layer.descriptor], {})
    m_digest = layout.blobs.put_bytes(manifest)
    layout.tag("img:1", m_digest, len(manifest))
    layout.tag("img:1", m_digest, len(manifest))
    assert layout.refs() == {"img:1": m_digest}
    image = layout.resolve("img:1")
    assert image.layers[0].diff_id == layer.diff_id
    assert image.labels["b"] == "2"
