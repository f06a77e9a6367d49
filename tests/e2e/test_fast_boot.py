"""Fast loop: a QEMU VM (TCG) PXE-boots through pychami (DHCP, TFTP, BSS boot script, boot files,
cloud-init) into Debian's kernel and a busybox initramfs, under SeaBIOS + iPXE ROM and under OVMF's PXE."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.artifacts import Kernel
from tests.e2e.lab import (
    FIRMWARES,
    NODE_HOSTNAME,
    NODE_IP,
    NODE_MAC,
    NODE_XNAME,
    SEED,
    boot_lab,
    events_of,
    load_scenario,
    node,
    stages,
)

pytestmark = [pytest.mark.netns, pytest.mark.slow, pytest.mark.integration]

#: A console that shows none of these within this many seconds fails the test (TCG on 2 cores).
BOOT_TIMEOUT = 150


@pytest.mark.parametrize("firmware", FIRMWARES)
def test_fast_loop(firmware: str, fast_artifacts: tuple[Kernel, Path], tmp_path: Path) -> None:
    """Firmware PXE -> pychami DHCP -> (TFTP iPXE) -> boot script -> kernel + initrd over HTTP -> the init
    gets 172.16.0.1 by DHCP, fetches its meta-data and prints hostname nid001; the events are recorded."""
    kernel, initrd = fast_artifacts
    with boot_lab(tmp_path) as lab:
        kernel_url = lab.publish(f"e2e/fast/vmlinuz-{kernel.version}", kernel.vmlinuz)
        initrd_url = lab.publish("e2e/fast/initrd.img", initrd)
        load_scenario(lab, kernel_url, initrd_url, f"console=ttyS0 quiet ds=nocloud-net;s={SEED}")
        script = lab.cli.ok(f"ochami bss boot script get -m {NODE_MAC}")
        assert kernel_url in script
        with node(lab, firmware, f"fast-{firmware}") as vm:
            vm.wait_for("E2E-DONE", BOOT_TIMEOUT)
            console = vm.text()
            assert vm.wait_exit(20) == 0  # the init powers off; -no-reboot makes QEMU exit
        assert f"E2E-IP {NODE_IP}\n" in console
        assert f"udhcpc: bound ip={NODE_IP} router=172.16.0.254 serverid=172.16.0.254" in console
        assert f"E2E-SEED {SEED}\n" in console
        assert f"E2E-HOSTNAME {NODE_HOSTNAME}\n" in console
        assert "E2E-PHONED-HOME i-" in console
        if firmware == "uefi":
            assert "Start PXE over IPv4" in console  # OVMF's own PXE, not an iPXE option ROM
        assert f"{kernel_url}... ok" in console
        # TODO(timeline): once `pychami status` and /boot-events/v1 are on main, assert them here; until
        # then the recorded events are read from the server's database.
        seen = stages(events_of(lab, NODE_XNAME))
        want = ["bootscript", "kernel", "initrd", "cloud-init meta-data", "cloud-init done"]
        if firmware == "uefi":
            want = ["dhcp_discover", "tftp_start", "tftp_done", *want]
        for stage in want:
            assert stage in seen, (stage, seen)
