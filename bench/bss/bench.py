"""Boot-storm benchmark of ``GET /boot/v1/bootscript`` with 10,000 configured nodes.

Sets up a data directory with SQLite (or ``--db`` PostgreSQL), writes 10,000 Node components and their
MACs into SMD's tables, sets their boot parameters through the API, then runs ``wrk`` (a separate load
process) against pychami (uvicorn + uvloop + httptools) asking for random nodes' scripts, and against
nginx serving the same script as a static file, in the same run. Prints a Markdown table.

Usage (from the repository root; needs the Debian packages wrk and nginx-light):
    .venv/bin/python -m bench.bss.bench [--nodes 10000] [--duration 20] [--connections 32] [--workers 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from pychami.core.db import Database
from pychami.core.settings import load_settings
from pychami.server import build_authorizer, upgrade_schema
from pychami.smd import tables as smd

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
KERNEL = "http://172.16.0.254:9090/boot-images/efi-images/compute/debug/vmlinuz-5.14.0-503.38.1.el9_5.x86_64"
INITRD = (
    "http://172.16.0.254:9090/boot-images/efi-images/compute/debug/initramfs-5.14.0-503.38.1.el9_5.x86_64.img"
)
PARAMS = (
    "nomodeset ro root=live:http://172.16.0.254:9090/boot-images/compute/debug/rocky9.5-compute-debug-9.5 "
    "ip=dhcp overlayroot=tmpfs overlayroot_cfgdisk=disabled apparmor=0 selinux=0 console=ttyS0,115200 "
    "ip6=off cloud-init=enabled ds=nocloud-net;s=http://172.16.0.254:8081/cloud-init"
)


def mac_of(i: int) -> str:
    return f"02:00:00:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"


def xname_of(i: int) -> str:
    return f"x{1000 + i // 256}c{(i // 32) % 8}s{(i // 2) % 16}b0n{i % 2}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def populate_smd(db: Database, count: int) -> None:
    """Node components and their Ethernet interfaces, as discovery would have created them."""
    now = dt.datetime.now(dt.UTC)
    comps = [
        {"id": xname_of(i), "type": "Node", "state": "On", "enabled": True, "role": "Compute", "nid": i + 1}
        for i in range(count)
    ]
    ifaces = [
        {
            "id": mac_of(i).replace(":", ""),
            "mac": mac_of(i),
            "component_id": xname_of(i),
            "last_update": now,
            "description": "",
            "type": "",
        }
        for i in range(count)
    ]
    with db.transaction() as conn:
        for start in range(0, count, 1000):
            conn.execute(smd.components.insert(), comps[start : start + 1000])
            conn.execute(smd.ethernet_interfaces.insert(), ifaces[start : start + 1000])


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def parse_wrk(text: str) -> dict[str, Any]:
    def ms(value: str) -> float:
        m = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
        if m is None:
            raise ValueError(value)
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    dist = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", text, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: (.*)", text)
    return {
        "rps": rps,
        "p50": ms(dist["50"]),
        "p99": ms(dist["99"]),
        "non2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sock.group(1) if sock else "",
    }


def run_wrk(
    url: str, args: argparse.Namespace, script: Path | None, env: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return " ".join(cmd), parse_wrk(out) | {"raw": out}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", help="PostgreSQL URL (default: SQLite in a temporary data directory)")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"bench needs {tool} (apt-get install wrk nginx-light)")

    work = Path(tempfile.mkdtemp(prefix="bss-bench-"))
    work.chmod(0o755)  # nginx workers run as www-data and must read the static file
    procs: list[subprocess.Popen[bytes]] = []
    try:
        port, nginx_port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PYCHAMI_DATA_DIR": str(work / "data"),
            "PYCHAMI_ADVERTISE_URL": "http://172.16.0.254:8081",
            "PYCHAMI_LISTEN": f"127.0.0.1:{port}",
            "BSS_BENCH_NODES": str(args.nodes),
        }
        if args.db:
            env["PYCHAMI_DB"] = args.db
        settings = load_settings(
            data_dir=work / "data", db=args.db, advertise_url=env["PYCHAMI_ADVERTISE_URL"]
        )
        (work / "data").mkdir(parents=True)
        db = Database.from_url(settings.database_url)
        upgrade_schema(db)
        populate_smd(db, args.nodes)
        db.dispose()
        _auth, issuer = build_authorizer(settings)
        assert issuer is not None
        token = issuer.issue("bench", ["bss:write"], 3600)

        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bench.bss.serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                cwd=ROOT,
                env=env,
            )
        )
        wait_ready(f"{base}/boot/v1/service/status")
        resp = httpx.put(
            f"{base}/boot/v1/bootparameters",
            json={
                "macs": [mac_of(i) for i in range(args.nodes)],
                "kernel": KERNEL,
                "initrd": INITRD,
                "params": PARAMS,
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=300,
        )
        resp.raise_for_status()
        sample = httpx.get(f"{base}/boot/v1/bootscript?mac={mac_of(args.nodes // 2)}", timeout=30)
        if sample.status_code != 200 or not sample.text.startswith("#!ipxe\nkernel"):
            raise RuntimeError(f"unexpected boot script: {sample.status_code} {sample.text}")

        static = work / "static"
        static.mkdir()
        (static / "bootscript.ipxe").write_bytes(sample.content)
        conf = work / "nginx.conf"
        conf.write_text(
            f"daemon off;\nworker_processes 1;\npid {work}/nginx.pid;\nerror_log {work}/nginx-error.log;\n"
            "events { worker_connections 1024; }\n"
            f"http {{ access_log off; client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp;\n"
            f"  fastcgi_temp_path {work}/tmp; uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;\n"
            f"  server {{ listen 127.0.0.1:{nginx_port}; root {static};\n"
            "    location / { default_type 'text/plain; charset=UTF-8'; } } }\n"
        )
        procs.append(subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)]))
        wait_ready(f"http://127.0.0.1:{nginx_port}/bootscript.ipxe")

        # Warm-up so both sides have their caches loaded before measuring.
        run_wrk(base, argparse.Namespace(**{**vars(args), "duration": 3}), HERE / "random_mac.lua", env)
        cmd_app, app = run_wrk(base, args, HERE / "random_mac.lua", env)
        cmd_uniq, uniq = run_wrk(base, args, HERE / "random_mac.lua", {**env, "BSS_BENCH_UNIQUE": "1"})
        cmd_ngx, ngx = run_wrk(f"http://127.0.0.1:{nginx_port}/bootscript.ipxe", args, None, env)
        check = httpx.get(f"{base}/boot/v1/endpoint-history?name={xname_of(7)}", timeout=30).json()

        print(app["raw"])
        print(uniq["raw"])
        print(ngx["raw"])
        print(f"endpoint-history sample after the run: {check}")
        print()
        print(
            f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}, nodes: {args.nodes}, "
            f"uvicorn workers: {args.workers}, db: {'postgresql' if args.db else 'sqlite'}, "
            f"cpus: {os.cpu_count()}"
        )
        print("| target | req/s | p50 ms | p99 ms | non-2xx |")
        print("|---|---|---|---|---|")
        rows = (
            ("pychami bootscript, random MAC of 10,000", app),
            ("pychami bootscript, random MAC + unique retry= (no memo hits)", uniq),
            ("nginx static file (same script)", ngx),
        )
        for label, r in rows:
            print(f"| {label} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']} |")
        print(f"ratio pychami/nginx: {app['rps'] / ngx['rps']:.3f} (unique: {uniq['rps'] / ngx['rps']:.3f})")
        print(f"wrk (pychami): {cmd_app}")
        print(f"wrk (unique):  BSS_BENCH_UNIQUE=1 {cmd_uniq}")
        print(f"wrk (nginx):   {cmd_ngx}")
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM if proc.args[0] != "nginx" else signal.SIGQUIT)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
