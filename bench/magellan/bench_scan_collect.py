"""Benchmark: scan 1,024 loopback addresses with 16 sushy emulators listening, then collect + send those 16.

Run from the repository root:  .venv/bin/python -m bench.magellan.bench_scan_collect
Targets: scan < 10 s, collect + send < 10 s. Each step runs the real ``magellan`` entry point as a
subprocess (TLS verified with a throwaway CA, basic auth), timed with a monotonic clock. ``send`` goes to
a small recording HTTP server standing in for SMD (the SMD RedfishEndpoints API is merged separately).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.discovery.emulators import (
    PASSWORD,
    USER,
    Emulator,
    FakeSystem,
    free_port,
    make_tls,
    running_emulators,
)
from tests.discovery.fakebmc import RecordingSMD, recording_smd

SUBNET = "127.0.4.0/22"  # 127.0.4.0 - 127.0.7.255: 1,024 addresses


def emulator_addresses(count: int) -> list[str]:
    """``count`` addresses spread over the /22."""
    step = 1024 // count
    return [f"127.0.{4 + (i * step) // 256}.{(i * step) % 256 + 1}" for i in range(count)]


def timed(cmd: list[str], stdin: str | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run a command, return (seconds, result); fail loudly on a non-zero exit."""
    start = time.monotonic()
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, proc


def main() -> None:
    """Start the emulators, run scan, collect and send, print the timings as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emulators", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--smd-url", help="send to this real SMD instead of the recording server")
    parser.add_argument("--token", default="", help="bearer token for --smd-url")
    args = parser.parse_args()
    magellan = shutil.which("magellan", path=str(Path(sys.executable).parent)) or "magellan"
    addresses = emulator_addresses(args.emulators)
    work = Path(tempfile.mkdtemp(prefix="magellan-bench-"))
    try:
        tls = make_tls(work / "tls", addresses)
        port = free_port(addresses)
        emus = [
            Emulator(
                addr,
                port,
                [
                    FakeSystem(
                        f"{i:08x}-0000-4000-8000-000000000001", f"node{i}", (f"52:54:00:00:{i:02x}:01",)
                    )
                ],
            )
            for i, addr in enumerate(addresses)
        ]
        t0 = time.monotonic()
        with running_emulators(emus, tls, work / "sushy"), recording_smd(RecordingSMD()) as smd:
            startup = time.monotonic() - t0
            cache = str(work / "assets.db")
            base = [magellan, "--cache", cache, "--no-progress", "-j", str(args.concurrency)]
            scan_s, scan = timed(
                [*base, "scan", "--subnet", SUBNET, "--port", str(port), "--cacert", str(tls.ca)]
            )
            found = json.loads(scan.stdout)
            assert len(found) == args.emulators, f"scan found {len(found)}"
            id_map = {addr: f"x1000c0s{i}b0" for i, addr in enumerate(addresses)}
            out = work / "nodes.json"
            creds = ["-u", USER, "-p", PASSWORD, "--cacert", str(tls.ca), "-m", json.dumps(id_map)]
            # First collection: every emulator process also renders its Jinja templates for the first time
            # (sushy's cold start). Second collection: warm emulators, closer to a real BMC's steady state.
            cold_s, _ = timed([*base, "collect", *creds, "--hide-skipped", "-o", str(out)])
            target = args.smd_url or smd.url
            sender = [*base, "--access-token", args.token] if args.token else base
            send_s, _ = timed([*sender, "send", target, "-d", f"@{out}"])
            warm_s, _ = timed([*base, "collect", *creds, "--hide-skipped", "-o", str(out)])
            resend_s, _ = timed([*sender, "send", target, "-d", f"@{out}", "--force-update"])
            if not args.smd_url:
                posted = [r for r in smd.requests if r["method"] == "POST"]
                put = [r for r in smd.requests if r["method"] == "PUT"]
                assert len(posted) == 2 * args.emulators, f"posted {len(posted)}"
                assert len(put) == args.emulators, f"put {len(put)}"
            with open("/proc/loadavg") as fh:
                load = fh.read().split()[0]
        result = {
            "addresses_scanned": 1024,
            "emulators": args.emulators,
            "emulator_startup_s": round(startup, 2),
            "scan_s": round(scan_s, 2),
            "collect_cold_s": round(cold_s, 2),
            "send_post_s": round(send_s, 2),
            "collect_plus_send_cold_s": round(cold_s + send_s, 2),
            "collect_warm_s": round(warm_s, 2),
            "send_force_update_s": round(resend_s, 2),
            "collect_plus_send_warm_s": round(warm_s + resend_s, 2),
            "load_average_1m": float(load),
            "smd": args.smd_url or "recording server",
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
