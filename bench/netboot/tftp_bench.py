"""TFTP throughput of the iPXE binary to 50 concurrent curl clients: pychami vs dnsmasq's TFTP.

Run as root from the repository root:  .venv/bin/python bench/netboot/tftp_bench.py [--clients 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lab import CLI, SERVER_IP, SRV, SRV_IF, in_ns, lab

ROOT = Path("/usr/lib/ipxe")


def start(name: str, work: Path) -> subprocess.Popen[str]:
    if name == "pychami":
        argv = in_ns(SRV, sys.executable, str(Path(__file__).parent / "serve_tftp.py"), str(ROOT), SERVER_IP)
    else:
        argv = in_ns(
            SRV,
            "dnsmasq",
            "--no-daemon",
            "--conf-file=/dev/null",
            "--port=0",
            f"--interface={SRV_IF}",
            "--bind-interfaces",
            "--enable-tftp",
            f"--tftp-root={ROOT}",
            "--log-facility=/dev/null",
            "--user=root",
            "--pid-file=",
            "--tftp-max=200",
        )
    log = work / f"{name}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, text=True)
    time.sleep(1.5)
    if proc.poll() is not None:
        raise RuntimeError(f"{name} exited: {log.read_text()}")
    return proc


def round_trip(clients: int, name: str, blksize: int) -> tuple[float, int]:
    """Start ``clients`` curl downloads at once; return wall seconds and bytes received."""
    argv = in_ns(
        CLI,
        "curl",
        "-sS",
        "--tftp-blksize",
        str(blksize),
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}\n",
        f"tftp://{SERVER_IP}/{name}",
    )
    t0 = time.perf_counter()
    procs = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(clients)]
    total = 0
    for p in procs:
        out, _ = p.communicate(timeout=300)
        if p.returncode != 0:
            raise RuntimeError(f"curl failed with {p.returncode}")
        total += int(out.strip() or 0)
    return time.perf_counter() - t0, total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--file", default="ipxe.efi")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = (ROOT / args.file).stat().st_size
    work = Path(tempfile.mkdtemp(prefix="nbtftp-"))
    with lab():
        for blksize in (512, 1468):
            for name in ("pychami", "dnsmasq"):
                proc = start(name, work)
                try:
                    for _ in range(args.rounds):
                        seconds, total = round_trip(args.clients, args.file, blksize)
                        assert total == size * args.clients, (total, size * args.clients)
                        print(
                            f"{name:8s} blksize {blksize:5d}: {args.clients} x {args.file} ({size} B) "
                            f"in {seconds:6.2f} s = {total / seconds / 1e6:6.1f} MB/s",
                            flush=True,
                        )
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)


if __name__ == "__main__":
    main()
