"""Time ``ochami discover static`` of N nodes against a local ``pychami serve`` (SQLite), fresh and then
with ``--overwrite`` over the same inventory; prints exit status and wall seconds of each run.

Usage (repository root): PATH=$PWD/.venv/bin:$PATH python -m bench.cli.discover_static N [ochami flags...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.common import pychami_server


def nodes(count: int) -> list[dict[str, object]]:
    """``count`` tutorial-format nodes: one BMC and one interface (with a network name) each."""
    out: list[dict[str, object]] = []
    for i in range(count):
        cabinet, rest = divmod(i, 256)
        chassis, rest = divmod(rest, 32)
        slot, bmc = divmod(rest, 4)
        hi, lo = divmod(i, 256)
        out.append(
            {
                "name": f"nid{i + 1}",
                "nid": i + 1,
                "xname": f"x{1000 + cabinet}c{chassis}s{slot}b{bmc}n0",
                "bmc_mac": f"de:ca:fc:00:{hi:02x}:{lo:02x}",
                "bmc_ip": f"10.0.{hi}.{lo}",
                "group": "compute",
                "interfaces": [
                    {
                        "mac_addr": f"52:54:00:00:{hi:02x}:{lo:02x}",
                        "ip_addrs": [{"name": "management", "ip_addr": f"172.16.{hi}.{lo}"}],
                    }
                ],
            }
        )
    return out


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    extra = sys.argv[2:]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nodes.yaml"
        path.write_text(yaml.safe_dump({"nodes": nodes(count)}))
        with pychami_server(Path(tmp) / "data") as server:
            env = {**os.environ, "DEMO_ACCESS_TOKEN": server.token()}
            for flags in ([], ["--overwrite"]):
                cmd = ["ochami", "-u", server.base, "-C", "demo", "discover", "static", "-f", "yaml"]
                cmd += ["-d", f"@{path}", *flags, *extra]
                t0 = time.perf_counter()
                r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
                took = time.perf_counter() - t0
                tail = r.stderr[-300:]
                print(f"nodes={count} flags={flags + extra} exit={r.returncode} wall={took:.2f}s {tail}")


if __name__ == "__main__":
    main()
