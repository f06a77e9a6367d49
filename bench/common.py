"""Helpers shared by the benchmarks: RSS, percentiles; the server process comes from tests.live."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path

from tests.live import Server, free_port, pychami_server

ROOT = Path(__file__).resolve().parent.parent


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:.1f} ms, p99 {percentile(values, 99) * 1000:.1f} ms, "
        f"mean {statistics.fmean(values) * 1000:.1f} ms"
    )


__all__ = ["ROOT", "Server", "free_port", "percentile", "pychami_server", "rss_mb", "summary"]
