"""DORA rate of pychami's DHCP daemon vs dnsmasq with 10,000 known MACs, measured with perfdhcp.

Run as root from the repository root:  .venv/bin/python bench/netboot/dhcp_bench.py [--duration 5]
For each rate, both servers are measured back to back (same machine load); the highest rate at which
perfdhcp sees under 1% drops in both DISCOVER-OFFER and REQUEST-ACK is each server's figure.
perfdhcp runs in relay mode (unicast to the server, giaddr = its own address), so replies need no ARP.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from lab import CLI, CLI_IF, SERVER_IP, SRV, SRV_IF, SUBNET, in_ns, lab
from serve_static import nodes_for


def macs(n: int) -> list[str]:
    return [f"52:54:10:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}" for i in range(n)]


def start_pychami(work: Path) -> subprocess.Popen[str]:
    argv = in_ns(
        SRV,
        sys.executable,
        str(Path(__file__).parent / "serve_static.py"),
        str(work / "macs.txt"),
        SRV_IF,
        SERVER_IP,
        SUBNET,
        str(work / "events.db"),  # boot events go through the real recorder into SQLite
    )
    log = work / "pychami.log"
    with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while "ready" not in log.read_text() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    if "ready" not in log.read_text():
        raise RuntimeError(f"pychami did not start: {log.read_text()}")
    return proc


def start_dnsmasq(work: Path) -> subprocess.Popen[str]:
    argv = in_ns(
        SRV,
        "dnsmasq",
        "--no-daemon",
        "--conf-file=/dev/null",
        "--port=0",
        f"--interface={SRV_IF}",
        "--bind-interfaces",
        "--dhcp-range=198.18.0.0,static,255.255.0.0,1h",
        "--dhcp-authoritative",
        f"--dhcp-hostsfile={work / 'hosts.txt'}",
        "--leasefile-ro",
        "--no-ping",
        "--log-facility=/dev/null",
        "--user=root",
        "--pid-file=",
        f"--dhcp-option=3,{SERVER_IP}",
        f"--dhcp-option=6,{SERVER_IP}",
        "--domain=cluster",
    )
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    time.sleep(1.0)
    if proc.poll() is not None:
        raise RuntimeError("dnsmasq exited at start")
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def perfdhcp(work: Path, rate: int, duration: int) -> dict[str, float]:
    argv = in_ns(
        CLI,
        "perfdhcp",
        "-4",
        "-l",
        CLI_IF,
        "-r",
        str(rate),
        "-p",
        str(duration),
        "-M",
        str(work / "macs.txt"),
        SERVER_IP,
    )
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False).stdout
    blocks = out.split("***Statistics for: ")
    stats: dict[str, float] = {}
    for block in blocks[1:]:
        name = block.split("***", 1)[0]
        sent = re.search(r"sent packets: (\d+)", block)
        received = re.search(r"received packets: (\d+)", block)
        ratio = re.search(r"drops ratio: ([\d.]+)", block)
        if sent and received and ratio:
            stats[f"{name} sent"] = float(sent.group(1))
            stats[f"{name} received"] = float(received.group(1))
            stats[f"{name} drops%"] = float(ratio.group(1))
    stats["dora_per_s"] = stats.get("REQUEST-ACK received", 0.0) / duration
    stats["max_drop%"] = max(
        stats.get("DISCOVER-OFFER drops%", 100.0), stats.get("REQUEST-ACK drops%", 100.0)
    )
    return stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rates", default="500,1000,1500,2000,2500,3000,4000,5000")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nbbench-"))
    mac_list = macs(args.nodes)
    (work / "macs.txt").write_text("\n".join(mac_list) + "\n")
    nodes = nodes_for(mac_list, SUBNET)
    (work / "hosts.txt").write_text(
        "".join(f"{n.interfaces[0].mac},{n.interfaces[0].ips[0].address},nid{n.nid:03d}\n" for n in nodes)
    )
    best = {"pychami": 0.0, "dnsmasq": 0.0}
    rows = []
    with lab():
        for rate in (int(r) for r in args.rates.split(",")):
            for name, starter in (("pychami", start_pychami), ("dnsmasq", start_dnsmasq)):
                (work / "dnsmasq.leases").write_text("")
                proc = starter(work)
                try:
                    stats = perfdhcp(work, rate, args.duration)
                finally:
                    stop(proc)
                ok = stats["max_drop%"] < 1.0
                if ok:
                    best[name] = max(best[name], stats["dora_per_s"])
                rows.append((rate, name, stats["dora_per_s"], stats["max_drop%"], ok))
                print(
                    f"rate {rate:5d}/s  {name:8s}  DORA {stats['dora_per_s']:8.1f}/s  "
                    f"drops {stats['max_drop%']:6.2f}%  {'ok' if ok else 'over 1%'}",
                    flush=True,
                )
    print(
        f"\nbest DORA/s under 1% drops: pychami {best['pychami']:.0f}, dnsmasq {best['dnsmasq']:.0f}, "
        f"ratio {best['pychami'] / best['dnsmasq'] if best['dnsmasq'] else float('nan'):.2f}"
    )


if __name__ == "__main__":
    main()
