"""The full loop's image: the scenario's three Debian layers built by the real ``image-build`` CLI.

debian-base and compute-base are built exactly as the scenario says (registry + S3). compute-debug is the
scenario's config with two admin choices for this network: it is published to pychami's local object
store (``publish_local``, served at ``/boot-images/...``) instead of S3, because the nodes' network reaches
pychami but not the S3 server of the build host; and one command more writes a cloud-init drop-in that
turns on ``phone_home`` to pychami (the scenario's cloud-configs do not ask for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.e2e.lab import API, SEED
from tests.imagebuild.conftest import BuildRun, Servers, image_build, scenario_config

LAYERS = ("debian-base", "debian-compute", "debian-debug")

#: /etc/cloud/cloud.cfg.d/90-pychami-phone-home.cfg of the debug image.
PHONE_HOME_CFG = f"""phone_home:
  url: {API}/cloud-init/phone-home/$INSTANCE_ID
  post: [instance_id, hostname, fqdn]
  tries: 5
"""


@dataclass
class DebugImage:
    """compute-debug as published to the local store of ``data``."""

    kernel_key: str
    initrd_key: str
    squashfs_key: str
    runs: dict[str, BuildRun]


def _debug_extras(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    opts = doc["options"]
    opts.pop("publish_s3")
    opts["publish_local"] = True
    cfg = "/etc/cloud/cloud.cfg.d/90-pychami-phone-home.cfg"
    doc["cmds"].append({"cmd": f"printf '%s' '{PHONE_HOME_CFG}' > {cfg}", "loglevel": "INFO"})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def build_debug_image(servers: Servers, cache: Path, work: Path, data: Path) -> DebugImage:
    """base -> compute -> debug with the scenario's package lists; debug lands in ``data``'s store."""
    runs: dict[str, BuildRun] = {}
    for name in LAYERS:
        cfg = scenario_config(name, servers, work / "configs")
        if name == "debian-debug":
            _debug_extras(cfg)
        run = image_build(cfg, cache, data if name == "debian-debug" else work / "build-data", servers)
        if run.rc != 0:
            raise AssertionError(f"image-build {name} failed:\n{run.out}")
        runs[name] = run
    store = data / "objects" / "boot-images"
    (kernel,) = sorted(store.glob("efi-images/compute/debug/vmlinuz-*"))
    kver = kernel.name.removeprefix("vmlinuz-")
    return DebugImage(
        kernel_key=f"efi-images/compute/debug/vmlinuz-{kver}",
        initrd_key=f"efi-images/compute/debug/initramfs-{kver}.img",
        squashfs_key="compute/debug/debian12-compute-debug-12",
        runs=runs,
    )


def live_params(squashfs_url: str) -> str:
    """Kernel parameters for Debian's live-boot. live-boot's ``fetch=`` only accepts URLs ending in
    ``.iso``, ``.squashfs``, ``.tgz`` or ``.tar``, and upstream's SquashFS keys have no extension, so a
    query string supplies one (pychami ignores it)."""
    return (
        f"boot=live fetch={squashfs_url}?.squashfs console=ttyS0,115200 net.ifnames=0 ds=nocloud-net;s={SEED}"
    )
