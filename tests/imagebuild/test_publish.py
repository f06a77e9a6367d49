"""Boot artifact discovery, upstream key names and the all-or-nothing publish rule (local store + fake)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pychami.core.errors import BadRequest, Unavailable
from pychami.core.storage import LocalObjectStore, ObjectInfo
from pychami.imagebuild.oci import ImageError
from pychami.imagebuild.progress import Reporter
from pychami.imagebuild.publish import Artifacts, boot_keys, find_boot_files, os_release_id, publish


def fake_root(root: Path, debian: bool = True) -> None:
    (root / "boot").mkdir(parents=True)
    (root / "lib" / "modules" / "6.1.0-50-amd64").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text('PRETTY_NAME="Debian"\nID=debian\nVERSION_ID="12"\n')
    (root / "boot" / "vmlinuz-6.1.0-50-amd64").write_text("kernel")
    name = "initrd.img-6.1.0-50-amd64" if debian else "initramfs-6.1.0-50-amd64.img"
    (root / "boot" / name).write_text("initrd")


def test_find_boot_files_debian_and_upstream_names(tmp_path: Path) -> None:
    """Debian's initrd.img-<kver> and upstream's initramfs-<kver>.img are both found; os id is debian12."""
    fake_root(tmp_path / "a")
    fake_root(tmp_path / "b", debian=False)
    for root in (tmp_path / "a", tmp_path / "b"):
        found = find_boot_files(root)
        assert found.kver == "6.1.0-50-amd64"
        assert found.kernel.read_text() == "kernel"
        assert found.initramfs.read_text() == "initrd"
    assert os_release_id(tmp_path / "a") == "debian12"


def test_no_kernel_is_a_clear_error(tmp_path: Path) -> None:
    """An image without kernel+initramfs cannot be published as boot artifacts."""
    (tmp_path / "etc").mkdir()
    with pytest.raises(ImageError, match="no kernel with an initramfs"):
        find_boot_files(tmp_path)


def test_keys_are_upstreams(tmp_path: Path) -> None:
    """Keys follow spec 7.3: efi-images/<prefix>{initramfs,vmlinuz}-<kver>, <prefix><ID><VER>-<name>-<tag>."""
    art = Artifacts("6.1.0-50-amd64", tmp_path / "k", tmp_path / "i", tmp_path / "s", "debian12")
    keys = list(boot_keys("compute/base/", "compute-base", ["12", "latest"], art))
    assert keys == [
        "efi-images/compute/base/initramfs-6.1.0-50-amd64.img",
        "efi-images/compute/base/vmlinuz-6.1.0-50-amd64",
        "compute/base/debian12-compute-base-12",
        "compute/base/debian12-compute-base-latest",
    ]


class FailingStore(LocalObjectStore):
    """A local store whose n-th upload fails (an S3 outage in the middle of a publish)."""

    def __init__(self, root: Path, fail_at: int) -> None:
        super().__init__(root)
        self.fail_at = fail_at
        self.calls = 0

    def put_file(self, key: str, path: Path, progress: object = None, sha256: str | None = None) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise Unavailable("S3 went away")
        super().put_file(key, path)


def test_failed_publish_leaves_nothing(tmp_path: Path) -> None:
    """When the SquashFS upload fails, the kernel and initramfs uploaded before it are deleted."""
    for name in ("k", "i", "s"):
        (tmp_path / name).write_text(name * 10)
    art = Artifacts("6.1", tmp_path / "k", tmp_path / "i", tmp_path / "s", "debian12")
    keys = boot_keys("p/", "img", ["1"], art)
    store = FailingStore(tmp_path / "store", fail_at=3)
    with pytest.raises(Unavailable):
        publish(store, keys, Reporter(bars=False))
    assert store.list() == []
    ok = LocalObjectStore(tmp_path / "store")
    assert publish(ok, keys, Reporter(bars=False)) == list(keys)
    assert ok.list() == [
        ObjectInfo("efi-images/p/initramfs-6.1.img", 10),
        ObjectInfo("efi-images/p/vmlinuz-6.1", 10),
        ObjectInfo("p/debian12-img-1", 10),
    ]
    assert ok.path("p/debian12-img-1").read_text() == "s" * 10
    # a second publish of the same files writes nothing; a changed SquashFS is the only upload
    assert publish(ok, keys, Reporter(bars=False)) == []
    (tmp_path / "s").write_text("changed")
    assert publish(ok, keys, Reporter(bars=False)) == ["p/debian12-img-1"]


def test_local_store_refuses_escaping_keys(tmp_path: Path) -> None:
    """Keys with .. or a leading / are refused."""
    store = LocalObjectStore(tmp_path)
    for key in ("../x", "/etc/passwd", "a/../../b", ""):
        with pytest.raises(BadRequest):
            store.path(key)
