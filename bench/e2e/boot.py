"""End-to-end boot benchmark: wall times of the fast loop (per firmware) and of the full loop.

Usage (as root, from the repository root):
    .venv/bin/python -m bench.e2e.boot [--runs 3] [--firmware bios uefi] [--full] [--cache DIR]

Each fast run builds the whole lab (namespace, RA, ``pychami serve``, scenario loaded with ochami), then
times a QEMU node (TCG) from start to the init's ``E2E-DONE`` line. ``--full`` also builds the scenario's
compute-debug image with ``image-build`` (``--cache`` keeps layers between runs: omit it for a cold build)
and times the boot to ``nid001 login:`` and to the phone-home. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.artifacts import busybox_initramfs, debian_kernel, static_busybox
from tests.e2e.images import build_debug_image, live_params
from tests.e2e.lab import API, FIRMWARES, SEED, boot_lab, load_scenario, node, timeline
from tests.imagebuild.servers import Servers, registry, seaweedfs


def fast(firmware: str, tmp: Path) -> tuple[float, float]:
    """(QEMU start -> E2E-DONE, lab start -> E2E-DONE) in seconds."""
    t0 = time.monotonic()
    tmp.mkdir(parents=True)
    kernel = debian_kernel()
    initrd = busybox_initramfs(kernel, static_busybox(), tmp / "initrd.img")
    with boot_lab(tmp / "lab") as lab:
        k = lab.publish(f"e2e/fast/vmlinuz-{kernel.version}", kernel.vmlinuz)
        i = lab.publish("e2e/fast/initrd.img", initrd)
        load_scenario(lab, k, i, f"console=ttyS0 quiet ds=nocloud-net;s={SEED}")
        with node(lab, firmware, f"bench-{firmware}") as vm:
            boot = vm.wait_for("E2E-DONE", 300)
    return boot, time.monotonic() - t0


def full(tmp: Path, cache: Path) -> list[tuple[str, str]]:
    rows = []
    tmp.mkdir(parents=True)
    t0 = time.monotonic()
    with registry(tmp / "registry") as reg, seaweedfs(tmp / "s3") as s3:
        image = build_debug_image(Servers(reg, s3), cache, tmp, tmp / "data")
    build = time.monotonic() - t0
    rows.append(("full: image-build base -> compute -> debug", f"{build:.1f} s"))
    with boot_lab(tmp / "lab", data=tmp / "data") as lab:
        load_scenario(
            lab,
            f"{API}/boot-images/{image.kernel_key}",
            f"{API}/boot-images/{image.initrd_key}",
            live_params(f"{API}/boot-images/{image.squashfs_key}"),
        )
        with node(lab, "bios", "bench-full", memory=2048, cpus=2) as vm:
            login = vm.wait_for("nid001 login:", 900)
            while timeline(lab)["last_stage"] != "phone-home":
                if time.monotonic() - vm.started > 1200:
                    raise SystemExit("no phone-home")
                time.sleep(1)
            phoned = time.monotonic() - vm.started
    rows.append(("full: QEMU start -> `nid001 login:`", f"{login:.1f} s"))
    rows.append(("full: QEMU start -> phone-home recorded", f"{phoned:.1f} s"))
    rows.append(("full: build + boot to phone-home", f"{time.monotonic() - t0:.1f} s"))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--firmware", nargs="*", choices=FIRMWARES, default=list(FIRMWARES))
    ap.add_argument("--full", action="store_true", help="also build and boot the compute-debug image")
    ap.add_argument("--cache", type=Path, help="image-build cache (default: a fresh one = cold build)")
    args = ap.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as d:
        tmp = Path(d)
        for fw in args.firmware:
            boots, totals = [], []
            for i in range(args.runs):
                boot, total = fast(fw, tmp / f"{fw}-{i}")
                boots.append(boot)
                totals.append(total)
                sys.stderr.write(f"{fw} run {i + 1}: boot {boot:.1f}s, with lab setup {total:.1f}s\n")
            rows.append((f"fast {fw}: QEMU start -> E2E-DONE", ", ".join(f"{b:.1f}" for b in boots) + " s"))
            rows.append((f"fast {fw}: incl. lab setup", ", ".join(f"{t:.1f}" for t in totals) + " s"))
        if args.full:
            rows += full(tmp / "full", args.cache or tmp / "full" / "cache")
    sys.stdout.write("| measurement | wall time |\n|---|---|\n")
    for name, value in rows:
        sys.stdout.write(f"| {name} | {value} |\n")


if __name__ == "__main__":
    main()
