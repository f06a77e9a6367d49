"""Boot artifacts of the fast loop: Debian's kernel (``apt-get download``), a busybox initramfs built here.

The kernel and busybox-static .debs are downloaded once into a cache kept between runs
(``$PYCHAMI_TEST_E2E_CACHE``, default ``~/.cache/pychami-e2e``) and unpacked there; a fresh machine only
needs apt to work. busybox-static is downloaded rather than installed because it conflicts with Debian's
``busybox`` package, which other tests use.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: The NIC drivers the initramfs loads (Debian builds virtio-net and virtio-pci as modules).
NIC_MODULES = ("virtio_pci", "virtio_net")


def cache_dir() -> Path:
    """Where downloaded .debs and their unpacked trees are kept between runs."""
    env = os.environ.get("PYCHAMI_TEST_E2E_CACHE")
    path = Path(env) if env else Path.home() / ".cache" / "pychami-e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(*args: str, cwd: Path | None = None, timeout: float = 300) -> str:
    res = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({res.returncode}):\n{res.stdout}{res.stderr}")
    return res.stdout


def unpacked_deb(package: str, cache: Path) -> Path:
    """``apt-get download PACKAGE`` into the cache and ``dpkg -x`` it; cached trees are reused."""
    tree = cache / f"{package}.root"
    if (tree / ".complete").exists():
        return tree
    debs = cache / "debs"
    debs.mkdir(exist_ok=True)
    found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        try:
            _run("apt-get", "download", package, cwd=debs)
        except RuntimeError:
            _run("apt-get", "update", "-q")  # a fresh machine may have no package lists yet
            _run("apt-get", "download", package, cwd=debs)
        found = sorted(debs.glob(f"{package}_*.deb"))
    if not found:
        raise RuntimeError(f"apt-get download {package} produced no .deb in {debs}")
    shutil.rmtree(tree, ignore_errors=True)
    _run("dpkg-deb", "-x", str(found[-1]), str(tree))
    (tree / ".complete").write_text(found[-1].name + "\n")
    return tree


def kernel_package() -> str:
    """The versioned package ``linux-image-amd64`` depends on (e.g. ``linux-image-6.1.0-57-amd64``)."""
    cached = sorted(cache_dir().glob("linux-image-*-amd64.root/.complete"))
    if cached:
        return cached[-1].parent.name.removesuffix(".root")

    def dependency() -> str | None:
        res = subprocess.run(
            ["apt-cache", "depends", "linux-image-amd64"], capture_output=True, text=True, check=False
        )
        match = re.search(r"Depends: (linux-image-[0-9][^\s]*-amd64)", res.stdout)
        return match.group(1) if match else None

    found = dependency()
    if found is None:
        _run("apt-get", "update", "-q")  # a fresh machine may have no package lists yet
        found = dependency()
    if found is None:
        raise RuntimeError("apt-cache cannot tell which package linux-image-amd64 depends on")
    return found


@dataclass(frozen=True)
class Kernel:
    """An unpacked Debian kernel package."""

    version: str
    vmlinuz: Path
    modules: Path

    def module_file(self, name: str) -> Path | None:
        """The .ko of module ``name`` (``-`` and ``_`` are the same), None when it is built in."""
        for path in self.modules.rglob("*.ko*"):
            if path.name.split(".ko")[0].replace("-", "_") == name.replace("-", "_"):
                return path
        return None


def debian_kernel() -> Kernel:
    """Debian's current amd64 kernel, downloaded once."""
    tree = unpacked_deb(kernel_package(), cache_dir())
    (vmlinuz,) = sorted((tree / "boot").glob("vmlinuz-*"))
    version = vmlinuz.name.removeprefix("vmlinuz-")
    return Kernel(version, vmlinuz, tree / "lib" / "modules" / version)


def static_busybox() -> Path:
    """The static busybox binary of Debian's busybox-static, downloaded once."""
    path = unpacked_deb("busybox-static", cache_dir()) / "bin" / "busybox"
    if not path.exists():
        raise RuntimeError(f"no bin/busybox in busybox-static ({path})")
    return path


def module_depends(ko: Path) -> list[str]:
    """The ``depends=`` field of a module's .modinfo section."""
    data = ko.read_bytes()
    match = re.search(rb"(?:^|\x00)depends=([^\x00]*)\x00", data)
    if not match or not match.group(1):
        return []
    return match.group(1).decode().split(",")


def load_order(kernel: Kernel, wanted: tuple[str, ...] = NIC_MODULES) -> list[Path]:
    """The .ko files needed for ``wanted``, dependencies first (insmod does not resolve them)."""
    order: list[Path] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        key = name.replace("-", "_")
        if key in seen:
            return
        seen.add(key)
        ko = kernel.module_file(key)
        if ko is None:
            return  # built into the kernel
        for dep in module_depends(ko):
            visit(dep)
        order.append(ko)

    for name in wanted:
        visit(name)
    return order


#: The initramfs' /init. It gets an address by DHCP, reads the cloud-init seed URL from the kernel
#: command line (``ds=nocloud-net;s=URL``), fetches the node's meta-data, takes its hostname, phones home
#: and powers off. Lines starting with ``E2E-`` are what the tests look for on the serial console.
INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "E2E-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m" || echo "E2E-INSMOD-FAILED $m"; done
ip link set lo up
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
if udhcpc -i eth0 -s /etc/udhcpc.script -q -n -t 10 -T 2; then
  echo "E2E-IP $(ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9.]*\).*/\1/p')"
else
  echo "E2E-DHCP-FAILED"
fi
seed=$(sed -n 's/.*ds=nocloud-net;s=\([^ ]*\).*/\1/p' /proc/cmdline)
echo "E2E-SEED $seed"
if wget -q -O /tmp/meta-data "${seed}meta-data"; then
  name=$(sed -n 's/^local-hostname: *//p' /tmp/meta-data)
  iid=$(sed -n 's/^instance-id: *//p' /tmp/meta-data)
  hostname "$name"
  echo "E2E-HOSTNAME $(hostname)"
  wget -q -O /dev/null --post-data "instance_id=$iid&hostname=$name" "${seed}phone-home/$iid" \
    && echo "E2E-PHONED-HOME $iid"
else
  echo "E2E-META-DATA-FAILED"
fi
echo "E2E-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
"""

UDHCPC_SCRIPT = r"""#!/bin/sh
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
    echo "udhcpc: $1 ip=$ip router=$router serverid=$serverid hostname=$hostname" ;;
esac
exit 0
"""


class _Cpio:
    """A minimal ``newc`` archive writer (what the kernel unpacks as an initramfs)."""

    def __init__(self) -> None:
        self.buf = io.BytesIO()
        self.ino = 1

    def add(self, name: str, mode: int, data: bytes = b"") -> None:
        fields = [self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        header = b"070701" + b"".join(f"{v:08X}".encode() for v in fields)
        self.ino += 1
        self._write(header + name.encode() + b"\x00")
        self._write(data)

    def _write(self, chunk: bytes) -> None:
        self.buf.write(chunk)
        self.buf.write(b"\x00" * (-self.buf.tell() % 4))

    def finish(self) -> bytes:
        self.add("TRAILER!!!", 0)
        return self.buf.getvalue()


def busybox_initramfs(kernel: Kernel, busybox: Path, dest: Path) -> Path:
    """Write a gzip newc initramfs with busybox, the NIC modules (in load order) and the init above."""
    archive = _Cpio()
    for d in ("bin", "dev", "etc", "lib", "lib/modules", "proc", "sys", "tmp", "run"):
        archive.add(d, 0o040755)
    archive.add("bin/busybox", 0o100755, busybox.read_bytes())
    archive.add("bin/sh", 0o120777, b"busybox")
    order = load_order(kernel)
    for ko in order:
        archive.add(f"lib/modules/{ko.name}", 0o100644, ko.read_bytes())
    archive.add("lib/modules/order", 0o100644, "".join(f"{ko.name}\n" for ko in order).encode())
    archive.add("etc/udhcpc.script", 0o100755, UDHCPC_SCRIPT.encode())
    archive.add("init", 0o100755, INIT.encode())
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(gzip.compress(archive.finish(), compresslevel=1, mtime=0))
    return dest
