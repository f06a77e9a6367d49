"""Run the cloud-init boot-storm benchmark: start the server process, run the load process per mode
(a cold pass with empty document caches, then a warm one), print a Markdown table, stop the server.

    .venv/bin/python bench/cloudinit/bench.py --nodes 10000 [--inventory smd]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("benchmark server exited")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("benchmark server did not become ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--inventory", choices=["static", "smd"], default="static")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="ci-bench-") as data_dir:
        server = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "server.py"),
                "--nodes",
                str(args.nodes),
                "--port",
                str(args.port),
                "--data-dir",
                data_dir,
                "--inventory",
                args.inventory,
            ],
        )
        try:
            wait_ready(f"http://127.0.0.1:{args.port}/healthz", server)
            for mode in ("direct", "proxy"):
                for phase in ("cold", "warm"):
                    if phase == "cold":
                        # New cluster defaults: every cached document must be rendered again.
                        subprocess.run(
                            [sys.executable, str(HERE / "touch_defaults.py"), data_dir, str(args.port)],
                            check=True,
                        )
                    cpu_before = cpu_seconds(server.pid)
                    out = subprocess.run(
                        [
                            sys.executable,
                            "-m",
                            "bench.cloudinit.load",
                            "--mode",
                            mode,
                            "--port",
                            str(args.port),
                            "--nodes",
                            str(args.nodes),
                            "--concurrency",
                            str(args.concurrency),
                        ],
                        check=True,
                        capture_output=True,
                        text=True,
                        cwd=HERE.parent.parent,
                    )
                    result = json.loads(out.stdout)
                    result["phase"] = phase
                    # Server CPU per request: what a dedicated core would allow, whatever the neighbours do.
                    cpu_us = (cpu_seconds(server.pid) - cpu_before) / result["requests"] * 1e6
                    result["server_cpu_us_per_req"] = round(cpu_us)
                    result["req_per_s_per_core"] = round(1e6 / cpu_us)
                    results.append(result)
                    print(json.dumps(result), file=sys.stderr)
        finally:
            server.terminate()
            server.wait(timeout=30)
    cols = [
        "mode",
        "caches",
        "requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "meta-data p50/p99",
        "vendor-data p50/p99",
        "server CPU µs/req",
        "req/s per server core",
    ]
    print("| " + " | ".join([*cols, "errors"]) + " |")
    print("|" + "---|" * (len(cols) + 1))
    for r in results:
        cells = [r["mode"], r["phase"], r["requests"], r["req_per_s"], r["p50_ms"], r["p99_ms"]]
        cells.append(f"{r['meta-data_p50_ms']} / {r['meta-data_p99_ms']}")
        cells.append(f"{r['vendor-data_p50_ms']} / {r['vendor-data_p99_ms']}")
        cells += [r["server_cpu_us_per_req"], r["req_per_s_per_core"], r["errors"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
