"""The boot-storm report: Markdown tables, the JSON of every run, a PNG of completions over time."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from bench.bootstorm.client import DHCP_STAGES, HTTP_STAGES, STAGES

HTTP_TARGET_STAGES = ("bootscript", "meta-data", "vendor-data", "user-data", "group-yaml")


def one_line(name: str, r: dict[str, Any]) -> str:
    errors = sum(s["errors"] for s in r["stages"].values())
    return (
        f"{name:18s} {r['completed']}/{r['nodes']} nodes in {r['wall_s']:.1f} s "
        f"(DHCP done {r['dhcp_wall_s']:.1f} s), errors {errors}, unfinished {r['unfinished']}, "
        f"server peak RSS {r['server_peak_mb']:.0f} MB, server CPU {r['server_cpu_s']:.1f} s"
        + (f" {r['server_cpu_each_s']}" if r.get("server_cpu_each_s") else "")
        + (f", PostgreSQL CPU {r['db_cpu_s']:.1f} s" if "db_cpu_s" in r else "")
    )


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "–"


def summary_table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        "| run | nodes done | wall time (s) | DHCP done at (s) | DORA/s | HTTP req/s | errors | retries "
        "| unfinished | server peak RSS (MB) | server CPU (s) | client CPU (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        errors = sum(s["errors"] for s in r["stages"].values())
        retries = sum(s["retries"] for s in r["stages"].values())
        lines.append(
            f"| {name} | {r['completed']:,} / {r['nodes']:,} | {r['wall_s']:.1f} | {r['dhcp_wall_s']:.1f} "
            f"| {r['dora_per_s']:,.0f} | {r['http_req_per_s']:,.0f} | {errors} | {retries} "
            f"| {r['unfinished']} | {r['server_peak_mb']:.0f} "
            f"| {r['server_cpu_s']:.1f} | {r['client_cpu_s']:.1f} |"
        )
    return lines


def stage_table(results: dict[str, dict[str, Any]], names: list[str]) -> list[str]:
    head = "| stage | " + " | ".join(f"{n} /s | {n} p50 / p99 ms" for n in names) + " |"
    lines = [head, "|---|" + "---:|---:|" * len(names)]
    for stage in STAGES:
        cells = []
        for n in names:
            s = results[n]["stages"][stage]
            if not s["count"] and not s["errors"]:
                cells += ["–", "–"]
                continue
            err = f" ({s['errors']} err)" if s["errors"] else ""
            cells += [f"{s['per_s']:,.0f}{err}", f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f}"]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return lines


def ratio_table(results: dict[str, dict[str, Any]]) -> list[str]:
    """pychami / peer throughput per stage: DHCP against Kea and dnsmasq, HTTP against nginx."""
    mine = results.get("pychami")
    if mine is None:
        return []
    peers = [n for n in results if "+nginx" in n]
    lines = ["| stage | peer | pychami /s | peer /s | pychami / peer |", "|---|---|---:|---:|---:|"]
    for p in peers:
        a, b = mine["dora_per_s"], results[p]["dora_per_s"]
        lines.append(f"| **all DORAs** | {p.split('+')[0]} | {a:,.0f} | {b:,.0f} | {_ratio(a, b)} |")
    for me, peer in (("pychami", "kea+nginx"), ("pychami http-only", "nginx http-only")):
        if me in results and peer in results:
            a, b = results[me]["http_req_per_s"], results[peer]["http_req_per_s"]
            label = "nginx" if me == "pychami" else "nginx (HTTP-only storm)"
            lines.append(f"| **all HTTP requests** | {label} | {a:,.0f} | {b:,.0f} | {_ratio(a, b)} |")
    for stage in DHCP_STAGES:
        for p in peers:
            a, b = mine["stages"][stage]["per_s"], results[p]["stages"][stage]["per_s"]
            lines.append(f"| {stage} | {p.split('+')[0]} | {a:,.0f} | {b:,.0f} | {_ratio(a, b)} |")
    http_pairs = [("pychami", "kea+nginx")]
    if "pychami http-only" in results and "nginx http-only" in results:
        http_pairs.append(("pychami http-only", "nginx http-only"))
    for stage in HTTP_STAGES:
        for me, peer in http_pairs:
            if me not in results or peer not in results:
                continue
            a, b = results[me]["stages"][stage]["per_s"], results[peer]["stages"][stage]["per_s"]
            label = "nginx" if me == "pychami" else "nginx (HTTP-only storm)"
            lines.append(f"| {stage} | {label} | {a:,.0f} | {b:,.0f} | {_ratio(a, b)} |")
    return lines


def targets(results: dict[str, dict[str, Any]]) -> list[str]:
    out = []
    mine = results.get("pychami")
    if mine is None:
        return out
    errors = sum(s["errors"] for s in mine["stages"].values())
    ok = mine["completed"] == mine["nodes"] and errors == 0 and mine["wall_s"] < 60
    out.append(
        f"* every node through every step in under 60 s with zero errors: {mine['completed']:,} / "
        f"{mine['nodes']:,} in {mine['wall_s']:.1f} s, {errors} errors: **{'met' if ok else 'not met'}**"
    )
    a = mine["dora_per_s"]
    for peer, need in (("dnsmasq+nginx", "ahead of dnsmasq"), ("kea+nginx", "at least half of Kea")):
        if peer not in results:
            continue
        b = results[peer]["dora_per_s"]
        met = a > b if peer.startswith("dnsmasq") else a >= b / 2
        out.append(f"* DHCP {need}: {a:,.0f} vs {b:,.0f} DORA/s: **{'met' if met else 'not met'}**")
    src = results.get("pychami http-only", mine)
    label = "HTTP-only storm" if "pychami http-only" in results else "full storm"
    capacity = src["http_req_per_s"]
    worst = worst_p99(src)
    out.append(
        f"* HTTP capacity ({label}, {src.get('max_inflight') or 'all'} nodes at once): {capacity:,.0f} req/s "
        f"(all HTTP steps), worst p99 of script/meta/vendor/user/group {worst:.1f} ms at saturation"
    )
    fixed = [n for n in results if n.startswith("pychami http @")]
    for name in fixed:
        r = results[name]
        rate, worst = r["http_req_per_s"], worst_p99(r)
        offered = r.get("offered_per_s", rate)
        errors = sum(st["errors"] for st in r["stages"].values())
        # Served what was offered (within 1 %: the last nodes' requests end after the ramp) at ≥ 5,000/s.
        met = offered >= 5000 and rate >= 0.99 * offered and worst < 20 and errors == 0
        peer = results.get(name.replace("pychami", "nginx", 1))
        beside = f" (nginx at the same load: {worst_p99(peer):.1f} ms)" if peer else ""
        out.append(
            f"* boot script and metadata ≥ 5,000 req/s with p99 < 20 ms ({name}, open loop): "
            f"{offered:,.0f} req/s offered, {rate:,.0f} served, worst p99 of script/meta/vendor/user/group "
            f"{worst:.1f} ms{beside}, "
            f"{errors} errors: **{'met' if met else 'not met'}**"
        )
    if not fixed:
        met = capacity >= 5000 and worst < 20
        out.append(
            f"* boot script and metadata ≥ 5,000 req/s with p99 < 20 ms ({label}): "
            f"**{'met' if met else 'not met'}** (no fixed-rate run)"
        )
    if "nginx http-only" in results:
        ngx = results["nginx http-only"]["http_req_per_s"]
        out.append(
            f"* moonshot, a third of nginx: {capacity:,.0f} vs {ngx:,.0f} req/s = {_ratio(capacity, ngx)}: "
            f"**{'met' if capacity * 3 >= ngx else 'not met'}**"
        )
    return out


def worst_p99(r: dict[str, Any]) -> float:
    """The worst p99 (ms) of the boot script and the cloud-init documents in one run."""
    return float(max(r["stages"][stage]["p99_ms"] for stage in HTTP_TARGET_STAGES))


def plot(path: Path, results: dict[str, dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=90)
    colours = {"pychami": "tab:blue", "kea+nginx": "tab:orange", "dnsmasq+nginx": "tab:green"}
    for name, colour in colours.items():
        r = results.get(name)
        if r is None:
            continue
        for key, style, label in (("done_times", "-", "all steps"), ("dhcp_done_times", ":", "DHCP done")):
            times = r[key]
            if times:
                ax.plot(times, range(1, len(times) + 1), style, color=colour, label=f"{name}: {label}")
    ax.set_xlabel("seconds since power-on")
    ax.set_ylabel("nodes")
    ax.set_title("Boot storm: completions over time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


_LINE = re.compile(r"^(.*) (\d+)$")


def profile_top(path: Path, limit: int = 20) -> dict[str, list[tuple[str, float]]]:
    """Self and inclusive time per function (by name and file, line numbers folded) from py-spy raw output."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return {"self": [], "inclusive": []}
    for line in path.read_text().splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        count = int(m.group(2))
        frames = [re.sub(r":\d+\)$", ")", f) for f in m.group(1).split(";")]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for f in set(frames):
            inclusive[f] += count

    def top(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / total, 1)) for name, n in counter.most_common(limit)]

    return {"self": top(own), "inclusive": top(inclusive), "samples": [("total", float(total))]}


def write(out: Path, meta: dict[str, Any], results: dict[str, dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    slim = {
        name: {k: v for k, v in r.items() if k not in ("done_times", "dhcp_done_times")}
        for name, r in results.items()
    }
    (out / "report.json").write_text(json.dumps({"meta": meta, "results": slim}, indent=1) + "\n")
    plot(out / "completions.png", results)
    lines = [
        f"# Boot storm report ({meta['date']})",
        "",
        f"`{meta['command']}`",
        "",
        f"{meta['nodes']:,} nodes, arrival: {meta['arrival']}, pychami and nginx workers: {meta['workers']}, "
        f"cloud-init {meta['cloudinit_via']}, database {meta.get('db', 'sqlite')}, "
        f"Range reads of {meta['range_kb']} KiB, {meta['cpus']} CPUs; "
        f"load average before {meta['load_before']}, after {meta['load_after']}.",
        "",
        "## Runs",
        "",
        *summary_table(results),
        "",
        "## Per stage (throughput = requests / time from the stage's first start to its last end)",
        "",
    ]
    names = list(results)
    for start in range(0, len(names), 3):
        lines += [*stage_table(results, names[start : start + 3]), ""]
    lines += ["## pychami / peer", "", *ratio_table(results), "", "## Targets", "", *targets(results), ""]
    for name, r in results.items():
        if r.get("error_samples"):
            lines += [f"Errors of {name} (first 20): " + "; ".join(r["error_samples"]), ""]
        if r.get("retry_samples"):
            lines += [f"HTTP retries of {name} (first 20): " + "; ".join(r["retry_samples"]), ""]
        if r.get("events"):
            lines += [f"Boot events recorded by pychami ({name}): {r['events']}", ""]
        if r.get("profile_top"):
            lines += [
                f"## Profile ({name}, py-spy, share of samples)",
                "",
                "| self | % | | inclusive | % |",
                "|---|---:|---|---|---:|",
            ]
            own, inc = r["profile_top"]["self"], r["profile_top"]["inclusive"]
            for i in range(max(len(own), len(inc))):
                a = own[i] if i < len(own) else ("", 0.0)
                b = inc[i] if i < len(inc) else ("", 0.0)
                lines.append(f"| `{a[0]}` | {a[1]} | | `{b[0]}` | {b[1]} |")
            lines.append("")
    lines.append("![completions over time](completions.png)")
    (out / "report.md").write_text("\n".join(lines) + "\n")
