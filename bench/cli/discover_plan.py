"""Time `discover static` validation + payload building for a large nodes file (no network).

Usage: .venv/bin/python bench/cli/discover_plan.py [NODES]   (default 10000)
"""

from __future__ import annotations

import sys
import time

import yaml

from pychami.cli.ochami import discovery as dsc
from pychami.cli.ochami.io import parse_payload


def nodes_file(count: int) -> str:
    """A tutorial-format nodes file with ``count`` nodes, one BMC and one interface each."""
    nodes = []
    for i in range(count):
        cab, slot = divmod(i, 64)
        nodes.append(
            {
                "name": f"nid{i + 1:05d}",
                "nid": i + 1,
                "xname": f"x{1000 + cab}c0s{slot}b0n0",
                "bmc_mac": f"de:ca:fc:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                "bmc_ip": f"10.{1 + (i >> 16)}.{i >> 8 & 255}.{i & 255}",
                "group": "compute",
                "interfaces": [
                    {
                        "mac_addr": f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                        "ip_addrs": [
                            {
                                "name": "management",
                                "ip_addr": f"172.{16 + (i >> 16)}.{i >> 8 & 255}.{i & 255}",
                            }
                        ],
                    }
                ],
            }
        )
    return yaml.safe_dump({"nodes": nodes})


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    text = nodes_file(count)
    t0 = time.perf_counter()
    doc = parse_payload(text, "yaml")
    t1 = time.perf_counter()
    plan = dsc.plan(doc)
    t2 = time.perf_counter()
    bodies = [dsc.redfish_endpoint(b, "https://demo.openchami.cluster:8443/hsm/v2") for b in plan.bmcs]
    t3 = time.perf_counter()
    assert len(plan.nodes) == count
    assert len(bodies) == count
    print(f"nodes={count} yaml_parse={t1 - t0:.3f}s validate+plan={t2 - t1:.3f}s rfe_payloads={t3 - t2:.3f}s")


if __name__ == "__main__":
    main()
