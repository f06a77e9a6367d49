"""Load generator (its own process): a boot storm of N nodes fetching meta-data and vendor-data.

``--mode direct``: every node opens its own TCP connection from its own loopback address, fetches
meta-data then vendor-data on it (keep-alive) and closes, as a booting node's cloud-init does.
``--mode proxy``: a trusted proxy (127.0.2.1) relays for every node over a pool of persistent
connections, naming the node in ``X-Forwarded-For``.

Prints one JSON object: requests, seconds, req/s, p50/p99 per document (milliseconds), errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from bench.cloudinit.server import TRUSTED_PROXY, node_address
from bench.common import Conn

PATHS = ("/cloud-init/meta-data", "/cloud-init/vendor-data")


async def run(mode: str, port: int, count: int, concurrency: int, nid_width: int) -> dict[str, object]:
    latencies: dict[str, list[float]] = {p: [] for p in PATHS}
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(1, count + 1):
        queue.put_nowait(i)

    async def fetch(conn: Conn, path: str, i: int, extra: str) -> None:
        nonlocal errors
        start = time.perf_counter()
        status, body = await conn.get(path, extra)
        latencies[path].append(time.perf_counter() - start)
        expected = f"hostname: nid{i:0{nid_width}d}".encode() if path.endswith("meta-data") else b"#include\n"
        if status != 200 or expected not in body:
            errors += 1

    async def direct_worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            conn = await Conn.open("127.0.0.1", port, node_address(i))
            try:
                for path in PATHS:
                    await fetch(conn, path, i, "")
            finally:
                conn.close()

    async def proxy_worker() -> None:
        conn = await Conn.open("127.0.0.1", port, TRUSTED_PROXY)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                extra = f"X-Forwarded-For: {node_address(i)}\r\n"
                for path in PATHS:
                    await fetch(conn, path, i, extra)
        finally:
            conn.close()

    worker = direct_worker if mode == "direct" else proxy_worker
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    total = sum(len(v) for v in latencies.values())

    def pct(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=100)[q - 1] * 1000, 2)

    every = [x for v in latencies.values() for x in v]
    return {
        "mode": mode,
        "nodes": count,
        "concurrency": concurrency,
        "requests": total,
        "seconds": round(elapsed, 2),
        "req_per_s": round(total / elapsed),
        "errors": errors,
        "p50_ms": pct(every, 50),
        "p99_ms": pct(every, 99),
        **{f"{p.rsplit('/', 1)[1]}_p50_ms": pct(latencies[p], 50) for p in PATHS},
        **{f"{p.rsplit('/', 1)[1]}_p99_ms": pct(latencies[p], 99) for p in PATHS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["direct", "proxy"], default="direct")
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--nid-width", type=int, default=5)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(run(args.mode, args.port, args.nodes, args.concurrency, args.nid_width))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
