"""Fast loop: a QEMU VM (TCG) PXE-boots through pychami (DHCP, TFTP, BSS boot script, boot files,
cloud-init) into Debian's kernel and a busybox initramfs, under SeaBIOS + iPXE ROM and under OVMF's PXE;
the boot timeline (``pychami status``, ``/boot-events/v1``) shows every stage, or where a node stalled."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.artifacts import Kernel
from tests.e2e.lab import (
    API,
    FIRMWARES,
    NODE_HOSTNAME,
    NODE_IP,
    NODE_MAC,
    NODE_XNAME,
    SEED,
    Lab,
    boot_lab,
    load_scenario,
    node,
    reached,
    status,
    timeline,
)

pytestmark = [pytest.mark.netns, pytest.mark.slow, pytest.mark.integration]

#: A console that shows none of these within this many seconds fails the test (TCG on 2 cores).
BOOT_TIMEOUT = 150
FAST_PARAMS = f"console=ttyS0 quiet ds=nocloud-net;s={SEED}"
#: The stages of a complete fast boot. QEMU's NIC ROM already is iPXE (no firmware DHCP nor TFTP);
#: the busybox initramfs has no root image.
BIOS_STAGES = [
    "DHCP (iPXE)",
    "boot script",
    "kernel",
    "initrd",
    "DHCP (OS)",
    "cloud-init meta-data",
    "phone-home",
]
FIRMWARE_STAGES = {"bios": BIOS_STAGES, "uefi": ["DHCP (firmware)", "TFTP", *BIOS_STAGES]}


def publish_fast(lab: Lab, artifacts: tuple[Kernel, Path]) -> tuple[str, str]:
    kernel, initrd = artifacts
    return (
        lab.publish(f"e2e/fast/vmlinuz-{kernel.version}", kernel.vmlinuz),
        lab.publish("e2e/fast/initrd.img", initrd),
    )


@pytest.mark.parametrize("firmware", FIRMWARES)
def test_fast_loop(firmware: str, fast_artifacts: tuple[Kernel, Path], tmp_path: Path) -> None:
    """Firmware PXE -> pychami DHCP -> (TFTP iPXE) -> boot script -> kernel + initrd over HTTP -> the init
    gets 172.16.0.1 by DHCP, fetches its meta-data and prints hostname nid001; the timeline has it all."""
    with boot_lab(tmp_path) as lab:
        kernel_url, initrd_url = publish_fast(lab, fast_artifacts)
        load_scenario(lab, kernel_url, initrd_url, FAST_PARAMS)
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
        phoned = lab.get(f"/cloud-init/admin/phone-home/{NODE_XNAME}")
        assert (phoned["ip"], phoned["hostname"]) == (NODE_IP, NODE_HOSTNAME)
        if firmware == "uefi":
            assert "Start PXE over IPv4" in console  # OVMF's own PXE, not an iPXE option ROM
            assert "NBP filename is ipxe.efi" in console
        assert f"{kernel_url}... ok" in console
        # The kernel resets the UART while iPXE's last characters may still be in flight ("... o"
        # then the kernel's output), so the initrd's "ok" is not always on the console; the init
        # running from it (E2E-INIT) and the initrd stage of the timeline prove the download.
        assert f"{initrd_url}... " in console
        assert console.index(f"{initrd_url}... ") < console.index("E2E-INIT")
        time.sleep(1)  # events are written every 0.5 s
        doc = timeline(lab)
        assert (doc["xname"], doc["last_stage"], doc["complete"]) == (NODE_XNAME, "phone-home", True)
        assert reached(doc) == FIRMWARE_STAGES[firmware]
        times = [s["time"] for s in doc["stages"] if s["reached"]]
        assert times == sorted(times)
        kernel_stage = next(s for s in doc["stages"] if s["stage"] == "kernel")
        assert kernel_stage["ip"] == NODE_IP
        assert kernel_stage["detail"]["key"] == f"e2e/fast/vmlinuz-{fast_artifacts[0].version}"
        api = lab.get(f"/boot-events/v1/nodes/{NODE_XNAME}", token=lab.server.token("smd:read"))
        assert (api["last_stage"], reached(api)) == ("phone-home", FIRMWARE_STAGES[firmware])
        table = status(lab, NODE_MAC, fmt="table")
        assert table.startswith(f"{NODE_XNAME}: latest boot started ")
        assert "phone-home" in table.splitlines()[-1]


def test_stalled_node_shows_its_last_stage(fast_artifacts: tuple[Kernel, Path], tmp_path: Path) -> None:
    """A node whose initrd is missing from the store stalls after its kernel: the timeline says so."""
    with boot_lab(tmp_path) as lab:
        kernel_url, _ = publish_fast(lab, fast_artifacts)
        missing = f"{API}/boot-images/e2e/fast/missing-initrd.img"
        load_scenario(lab, kernel_url, missing, FAST_PARAMS)
        with node(lab, "bios", "stall") as vm:
            vm.wait_for(f"{kernel_url}... ok", BOOT_TIMEOUT)
            vm.wait_for("(http://ipxe.org/", 30)  # iPXE's error for the initrd; it retries in 30 s
            time.sleep(1)
            doc = timeline(lab)
            assert "E2E-INIT" not in vm.text()
        assert (doc["last_stage"], doc["complete"]) == ("kernel", False)
        assert reached(doc) == ["DHCP (iPXE)", "boot script", "kernel"]
        table = status(lab, fmt="table")
        assert "last stage: kernel" in table
