"""Fixtures of the end-to-end boot tests: root and the QEMU/OVMF/iPXE packages are required."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.artifacts import Kernel, busybox_initramfs, debian_kernel, static_busybox
from tests.e2e.lab import OVMF_CODE


@pytest.fixture(scope="session")
def e2e_host() -> None:
    """Fail (not skip) with a clear reason when the machine cannot run the boot tests."""
    assert os.geteuid() == 0, "the end-to-end boot tests need root (netns, tap, ports 67/69)"
    for tool in ("qemu-system-x86_64", "dnsmasq", "ip", "apt-get", "dpkg-deb"):
        assert shutil.which(tool), f"{tool} missing: install ci/apt/e2e.txt"
    assert OVMF_CODE.exists(), "OVMF missing: install ci/apt/e2e.txt"
    assert Path("/usr/lib/ipxe/ipxe.efi").exists(), "iPXE missing: install ci/apt/e2e.txt"


@pytest.fixture(scope="session")
def fast_artifacts(e2e_host: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Kernel, Path]:
    """Debian's kernel (downloaded once into the e2e cache) and a busybox initramfs built for this run."""
    kernel = debian_kernel()
    initrd = busybox_initramfs(kernel, static_busybox(), tmp_path_factory.mktemp("e2e-initrd") / "initrd.img")
    return kernel, initrd
