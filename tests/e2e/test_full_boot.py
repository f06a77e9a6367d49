"""Full loop: the scenario's compute-debug image, built by the real ``image-build`` (base -> compute ->
debug), boots a QEMU VM (TCG) through pychami with a live root from its SquashFS; cloud-init against
pychami names the node, installs the SSH key and phones home."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.images import DebugImage, build_debug_image, live_params
from tests.e2e.lab import (
    API,
    NODE_HOSTNAME,
    NODE_IP,
    NODE_XNAME,
    ConsoleTimeout,
    boot_lab,
    load_scenario,
    node,
    reached,
    status,
    timeline,
)
from tests.imagebuild.servers import Servers, registry, seaweedfs

pytestmark = [pytest.mark.netns, pytest.mark.slow, pytest.mark.integration]

#: Generous bounds for TCG on a busy 2-core machine (a quiet one boots to the prompt in ~2-3 minutes).
LOGIN_TIMEOUT = 480
PHONE_HOME_TIMEOUT = 180


@pytest.fixture(scope="module")
def debug_image(
    e2e_host: None, build_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DebugImage, Path]]:
    """The three scenario layers built with registry + S3 servers of this module and the session's build
    cache (shared with tests/imagebuild, whose images have the same names but trimmed package lists)."""
    work = tmp_path_factory.mktemp("e2e-full")
    with registry(work / "registry") as reg, seaweedfs(work / "s3") as s3:
        yield build_debug_image(Servers(reg, s3), build_cache, work, work / "data"), work


def test_full_loop(debug_image: tuple[DebugImage, Path]) -> None:
    """PXE -> iPXE -> boot script -> the image's kernel + initramfs -> live root fetched from pychami ->
    cloud-init sets hostname nid001, installs root's SSH key, phones home; the console shows the login."""
    image, work = debug_image
    # DHCP hands out the xname as host name (option 12), cloud-init's meta-data says nid001: the login
    # prompt shows which of the two named the node.
    dhcp_names = {"netboot": {"hostname": "{xname}"}}
    with boot_lab(work / "lab", data=work / "data", settings=dhcp_names) as lab:
        kernel = f"{API}/boot-images/{image.kernel_key}"
        initrd = f"{API}/boot-images/{image.initrd_key}"
        squashfs = f"{API}/boot-images/{image.squashfs_key}"
        load_scenario(lab, kernel, initrd, live_params(squashfs))
        with node(lab, "bios", "full-bios", memory=2048, cpus=2) as vm:
            vm.wait_for(f"{NODE_HOSTNAME} login:", LOGIN_TIMEOUT)
            deadline = time.monotonic() + PHONE_HOME_TIMEOUT
            while timeline(lab)["last_stage"] != "phone-home":
                if time.monotonic() > deadline:
                    raise ConsoleTimeout(f"no phone-home; console:\n{vm.text()[-6000:]}")
                time.sleep(2)
            console = vm.text()
        assert f"Trying wget {squashfs}?.squashfs" in console
        assert re.search(
            rf"IP-Config: eth0 complete \(dhcp from 172\.16\.0\.254\):\n.*\n.*\n host +: {NODE_XNAME}",
            console,
        )
        assert "Authorized keys from /root/.ssh/authorized_keys for user root" in console
        assert "admin@demo" in console
        phoned = lab.get(f"/cloud-init/admin/phone-home/{NODE_XNAME}")
        assert (phoned["ip"], phoned["hostname"]) == (NODE_IP, NODE_HOSTNAME)  # posted by cloud-init
        assert phoned["instance_id"].startswith("i-")
        doc = timeline(lab)
        assert (doc["last_stage"], doc["complete"]) == ("phone-home", True)
        assert reached(doc) == [
            "DHCP (iPXE)", "boot script", "kernel", "initrd", "DHCP (OS)", "root image",
            "cloud-init meta-data", "phone-home",
        ]  # fmt: skip
        root = next(s for s in doc["stages"] if s["stage"] == "root image")
        assert root["detail"]["key"] == image.squashfs_key
        api = lab.get(f"/boot-events/v1/nodes/{NODE_XNAME}", token=lab.server.token("smd:read"))
        assert reached(api) == reached(doc)
        assert "phone-home" in status(lab, fmt="table").splitlines()[-1]
