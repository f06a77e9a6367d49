"""SMD benchmark: ingest N nodes through the API, list them, and measure server memory.

Usage (from the repository root, with the venv active):
    python -m bench.smd.ingest --nodes 10000 --big 100000 --db sqlite
    python -m bench.smd.ingest --nodes 10000 --big 100000 --db postgres

Ingest = what ``ochami discover static`` sends: one POST of all node components, the RedfishEndpoint
V2 payloads (creating BMC components, interfaces and component endpoints) in wrapped batches of
``--batch`` (``{"RedfishEndpoints": [...]}``, upstream's collection form; ``--batch 1`` is one request per
BMC as ochami v0.5 does), and one group POST.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from bench.common import pychami_server, rss_mb
from tests.pgserver import postgres_cluster
from tests.smd.conftest import rfe_v2


def node_xname(i: int) -> str:
    # 4 nodes per slot, 8 slots per chassis, 8 chassis per cabinet
    cab, rest = divmod(i, 256)
    chassis, rest = divmod(rest, 32)
    slot, bmc = divmod(rest, 4)
    return f"x{1000 + cab}c{chassis}s{slot}b{bmc}n0"


def rfe_for(i: int) -> dict[str, Any]:
    node = node_xname(i)
    bmc = node[: node.rindex("n")]
    hi, lo = divmod(i, 256)
    return rfe_v2(
        bmc,
        f"52:54:00:{hi >> 8:02x}:{hi & 255:02x}:{lo:02x}",
        f"172.{16 + (i >> 16)}.{hi & 255}.{lo}",
        f"de:ca:fc:{hi >> 8:02x}:{hi & 255:02x}:{lo:02x}",
        f"10.{i >> 16}.{hi & 255}.{lo}",
        f"nid{i + 1}",
    )


async def post_all(client: httpx.AsyncClient, url: str, bodies: list[Any], concurrency: int) -> int:
    queue = list(reversed(bodies))
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while queue:
            body = queue.pop()
            resp = await client.post(url, json=body)
            if resp.status_code != 201:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


def timed_get(client: httpx.Client, url: str, repeat: int = 3) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        start = time.perf_counter()
        resp = client.get(url)
        best = min(best, time.perf_counter() - start)
        count = len(resp.json()["Components"])
    return best, count


def run(
    db_kind: str, nodes: int, big: int, concurrency: int, batch: int, db_url: str | None
) -> dict[str, Any]:
    results: dict[str, Any] = {"db": db_kind, "nodes": nodes, "batch": batch}
    with tempfile.TemporaryDirectory() as tmp, pychami_server(Path(tmp) / "data", db_url) as server:
        time.sleep(2)
        results["idle_rss_mb"] = round(rss_mb(server.pid), 1)
        headers = {"Authorization": f"Bearer {server.token()}"}
        comps = [
            {"ID": node_xname(i), "Type": "Node", "State": "On", "Enabled": True, "NID": i + 1}
            for i in range(nodes)
        ]
        rfes: list[Any] = [rfe_for(i) for i in range(nodes)]
        if batch > 1:
            rfes = [{"RedfishEndpoints": rfes[i : i + batch]} for i in range(0, nodes, batch)]
        start = time.perf_counter()
        with httpx.Client(base_url=server.base, headers=headers, timeout=120) as client:
            assert client.post("/hsm/v2/State/Components", json={"Components": comps}).status_code == 204

            async def send() -> int:
                async with httpx.AsyncClient(base_url=server.base, headers=headers, timeout=120) as ac:
                    return await post_all(ac, "/hsm/v2/Inventory/RedfishEndpoints", rfes, concurrency)

            errors = asyncio.run(send())
            group = {"label": "compute", "members": {"ids": [c["ID"] for c in comps]}}
            assert client.post("/hsm/v2/groups", json=group).status_code == 201
            results["ingest_s"] = round(time.perf_counter() - start, 2)
            results["ingest_errors"] = errors
            ifaces = client.get("/hsm/v2/Inventory/EthernetInterfaces").json()
            results["interfaces"] = len(ifaces)
            seconds, count = timed_get(client, "/hsm/v2/State/Components?type=Node")
            results["get_nodes_s"] = round(seconds, 3)
            results["get_nodes_count"] = count
            if big > nodes:
                extra = [{"ID": node_xname(i), "State": "On", "NID": i + 1} for i in range(nodes, big)]
                for part in range(0, len(extra), 20000):
                    resp = client.post(
                        "/hsm/v2/State/Components", json={"Components": extra[part : part + 20000]}
                    )
                    assert resp.status_code == 204
                seconds, count = timed_get(client, "/hsm/v2/State/Components?type=Node")
                results["get_big_s"] = round(seconds, 3)
                results["get_big_count"] = count
        results["rss_after_mb"] = round(rss_mb(server.pid), 1)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=10000)
    parser.add_argument("--big", type=int, default=100000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=500, help="RedfishEndpoints per request")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        if kind == "postgres":
            with postgres_cluster() as url:
                out = run(kind, args.nodes, args.big, args.concurrency, args.batch, url)
        else:
            out = run(kind, args.nodes, args.big, args.concurrency, args.batch, None)
        print(json.dumps(out))


if __name__ == "__main__":
    main()
