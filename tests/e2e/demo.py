"""``scripts/demo``: watch a node network-boot from pychami, with its serial console on your terminal.

Builds the same isolated network as tests/e2e (a throwaway network namespace; nothing leaves it), starts
pychami there, loads the example cluster with ``ochami`` (showing each command), boots a QEMU VM with
MAC 52:54:00:be:ef:01 and attaches its console. Afterwards it prints the node's boot timeline. Everything
it created (namespace, processes, work directory unless --keep) is removed on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType

from tests.e2e.lab import (
    API,
    FIRMWARES,
    NODE_MAC,
    NODE_XNAME,
    SEED,
    Lab,
    boot_lab,
    load_scenario,
    qemu_argv,
    status,
    stop,
    timeline,
)

EPILOG = """\
what you will see (fast loop, about a minute under TCG):
  firmware PXE -> DHCP from pychami -> (UEFI: ipxe.efi by TFTP) -> iPXE -> boot script from BSS ->
  Debian kernel + busybox initramfs over HTTP -> udhcpc gets 172.16.0.1 -> the init fetches its
  cloud-init meta-data and prints "E2E-HOSTNAME nid001" -> power off.
--full: the scenario's compute-debug image (built by image-build on the first run, ~6-10 min, then
  cached) boots with a live root; cloud-init names it nid001 and you get "nid001 login:".
  Quit with Ctrl-a x.

needs root (network namespace, tap device, ports 67/69) and the Debian packages of ci/apt/e2e.txt
(scripts/demo installs them). Caches: $PYCHAMI_TEST_E2E_CACHE (kernel, busybox; default
~/.cache/pychami-e2e) and $PYCHAMI_TEST_IMAGEBUILD_CACHE (image layers; default ~/.cache/pychami/imagebuild).
"""


def say(text: str) -> None:
    sys.stderr.write(f"\033[1;36m{text}\033[0m\n" if sys.stderr.isatty() else f"{text}\n")
    sys.stderr.flush()


def show(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/demo",
        description="Boot a QEMU node from pychami (DHCP, TFTP, BSS, cloud-init) on an isolated network "
        "and watch its serial console.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--firmware", choices=FIRMWARES, default="bios", help="bios (SeaBIOS + iPXE ROM, default) "
                   "or uefi (OVMF's own PXE, which fetches iPXE by TFTP)")  # fmt: skip
    p.add_argument("--full", action="store_true", help="boot the scenario's compute-debug image (live root, "
                   "cloud-init, login prompt) instead of the fast busybox initramfs")  # fmt: skip
    p.add_argument("--no-attach", action="store_true", help="do not attach the console: wait for the boot "
                   "to finish and print the console afterwards (for scripts and CI)")  # fmt: skip
    p.add_argument("--timeout", type=float, default=900, help="with --no-attach: give up after this many "
                   "seconds (default 900)")  # fmt: skip
    p.add_argument("--workdir", type=Path, help="keep logs and data here (default: a temporary directory)")
    p.add_argument("--keep", action="store_true", help="do not delete the work directory at the end")
    return p.parse_args(argv)


def fast_boot(lab: Lab) -> None:
    from tests.e2e.artifacts import busybox_initramfs, debian_kernel, static_busybox

    say("== boot files: Debian's kernel (apt-get download, cached) and a busybox initramfs")
    kernel = debian_kernel()
    initrd = busybox_initramfs(kernel, static_busybox(), lab.workdir / "initrd.img")
    kernel_url = lab.publish(f"e2e/fast/vmlinuz-{kernel.version}", kernel.vmlinuz)
    initrd_url = lab.publish("e2e/fast/initrd.img", initrd)
    show(f"published {kernel_url}\npublished {initrd_url}")
    say("== the example cluster, loaded with ochami")
    load_scenario(lab, kernel_url, initrd_url, f"console=ttyS0 quiet ds=nocloud-net;s={SEED}")


def full_boot(lab: Lab, work: Path) -> None:
    from tests.e2e.images import build_debug_image, live_params
    from tests.imagebuild.servers import Servers, registry, seaweedfs

    say("== image-build: debian-base -> compute-base -> compute-debug (registry + S3 on 127.0.0.1)")
    cache = Path(os.environ.get("PYCHAMI_TEST_IMAGEBUILD_CACHE", Path.home() / ".cache/pychami/imagebuild"))
    t0 = time.monotonic()
    with registry(work / "registry") as reg, seaweedfs(work / "s3") as s3:
        image = build_debug_image(Servers(reg, s3), cache, work, lab.data)
    for name, run in image.runs.items():
        show(f"--- image-build {name}\n{run.out.rstrip()}")
    show(f"built in {time.monotonic() - t0:.0f}s")
    say("== the example cluster, loaded with ochami")
    load_scenario(
        lab,
        f"{API}/boot-images/{image.kernel_key}",
        f"{API}/boot-images/{image.initrd_key}",
        live_params(f"{API}/boot-images/{image.squashfs_key}"),
    )


def show_timeline(lab: Lab) -> None:
    say(f"== the node's boot timeline (pychami status; also GET {API}/boot-events/v1/nodes/{NODE_XNAME})")
    show(f"$ pychami status {NODE_XNAME} --data-dir {lab.data}")
    show(status(lab, NODE_XNAME, fmt="table").rstrip("\n"))


def boot(lab: Lab, args: argparse.Namespace) -> int:
    console = lab.workdir / "node.console"
    memory, cpus = (2048, 2) if args.full else (512, 1)
    argv = qemu_argv(lab, args.firmware, console, memory=memory, cpus=cpus, attach=not args.no_attach)
    say(f"== booting {NODE_MAC} ({args.firmware}, TCG)" + ("" if args.no_attach else ": Ctrl-a x quits"))
    if not args.no_attach:
        return subprocess.run(argv, check=False).returncode
    marker = "login:" if args.full else "E2E-DONE"
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = False
    try:
        deadline = time.monotonic() + args.timeout
        while not done and proc.poll() is None and time.monotonic() < deadline:
            text = console.read_text(errors="replace") if console.exists() else ""
            # the full loop: the login prompt, then cloud-init's phone-home (it may come a bit later)
            done = marker in text and (not args.full or timeline(lab)["last_stage"] == "phone-home")
            time.sleep(0 if done else 1)
        text = console.read_text(errors="replace") if console.exists() else ""
        done = done or (not args.full and marker in text)  # the fast init powers off after its marker
    finally:
        stop(proc, timeout=5)
    show(text or "(no console output)")
    if not done:
        say(f"the boot did not finish ({marker!r} not seen, or no phone-home) within {args.timeout:.0f}s")
    return 0 if done else 1


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)

    def terminate(signum: int, frame: FrameType | None) -> None:
        del frame
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="pychami-demo-"))
    try:
        say(f"== network namespace, bridge, tap, pychami serve on {API} (work directory {work})")
        with boot_lab(work, trace=show) as lab:
            show(f"namespace {lab.seg.netns}: br0 172.16.0.254/24 + tap0; pychami log {lab.server.log}")
            if args.full:
                full_boot(lab, work)
            else:
                fast_boot(lab)
            rc = boot(lab, args)
            time.sleep(1)  # the last events are flushed every 0.5 s
            show_timeline(lab)
        return rc
    except KeyboardInterrupt:
        say("interrupted: cleaning up")
        return 130
    finally:
        if args.keep or args.workdir:
            show(f"kept {work}")
        else:
            with contextlib.suppress(OSError):
                shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
