"""Boot storm: N simulated nodes through every node-facing step, against pychami and the C peers.

Run as root from the repository root (namespaces); ``bench/bootstorm/run.sh`` installs what it needs:

    .venv/bin/python -m bench.bootstorm [--nodes 10000] [--arrival all|ramp] [--workers 2] [--profile]

Topology: a server namespace and a client namespace joined by a veth pair (198.18.0.1 / 198.18.0.2).
Node addresses are 198.19.0.0/16: the client namespace owns the whole range (a local route on lo, so
each node's connections come from its own address) and the server routes it via 198.18.0.2 (no ARP per
node). The client also acts as the DHCP relay (giaddr 198.19.0.1).

Systems, one after the other on the same machine:
* ``pychami``: ``pychami serve`` with the DHCP daemon on the veth, SMD holding the N nodes (components,
  interfaces, addresses, one group), BSS boot parameters for every MAC, cloud-init defaults and group;
* ``kea+nginx`` and ``dnsmasq+nginx``: the DHCP peer with N static hosts, and nginx serving the boot
  scripts and cloud-init documents pychami gave each node (saved by the client) plus the same kernel
  and initrd files.

Writes the report (Markdown and JSON) and the plot into ``--out`` (default ``docs/bootstorm``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.live import issue_token

from bench.bootstorm import peers, report
from bench.bootstorm.client import HTTP_STAGES
from bench.common import ROOT, NetnsPair, cpu_seconds, process_tree, rss_mb, sh

SERVER_IP, CLIENT_IP = "198.18.0.1", "198.18.0.2"
GIADDR = "198.19.0.1"
NODE_NET = "198.19.0.0/16"
PORT = 8081
GROUP = "compute"
GROUP_FILE = ROOT / "tests" / "cloudinit" / "data" / "computes.yaml"
KERNEL_KEY = "compute/storm/vmlinuz-6.1.0-storm"
INITRD_KEY = "compute/storm/initramfs-6.1.0-storm.img"
NID_WIDTH = 5


def node_ip(i: int) -> str:
    number = (198 << 24) + (19 << 16) + 256 + i
    return f"198.19.{number >> 8 & 255}.{number & 255}"


def make_nodes(count: int) -> list[dict[str, Any]]:
    from bench.cloudinit.server import xname

    return [
        {
            "index": i,
            "xname": xname(i + 1),
            "nid": i + 1,
            "mac": f"52:54:20:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
            "ip": node_ip(i),
            "hostname": f"nid{i + 1:0{NID_WIDTH}d}",
        }
        for i in range(count)
    ]


def seed(data: Path, nodes: list[dict[str, Any]], file_mb: int, db_url: str) -> None:
    """Schema, SMD rows for every node (and the group), the kernel and initrd in the object store."""
    from bench.cloudinit.server import seed_smd
    from pychami.core.inventory import Interface, IPAddress, Node

    py = sys.executable
    data.mkdir(parents=True, exist_ok=True)
    sh(py, "-m", "pychami.cli.pychami", "db", "upgrade", "--data-dir", str(data), "--db", db_url)
    items = [
        Node(
            xname=n["xname"],
            nid=n["nid"],
            role="Compute",
            interfaces=(Interface(mac=n["mac"], ips=(IPAddress(n["ip"]),)),),
            groups=(GROUP,),
        )
        for n in nodes
    ]
    seed_smd(db_url, items)
    for key in (KERNEL_KEY, INITRD_KEY):
        path = data / "objects" / "boot-images" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            out.write(os.urandom(256 * 1024) * (file_mb * 4))


class Sampler:
    """RSS (sum over the process tree) and CPU time of a server while the storm runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self.cpu_start = self._cpu()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        return process_tree(self.pid)

    def _cpu(self) -> float:
        total = 0.0
        for pid in self._tree():
            with contextlib.suppress(OSError):
                total += cpu_seconds(pid)
        return total

    def rss(self) -> float:
        total = 0.0
        for pid in self._tree():
            with contextlib.suppress(OSError):
                total += rss_mb(pid)
        return total

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_mb = max(self.peak_mb, self.rss())

    def _cpu_each(self) -> dict[int, float]:
        each = {}
        for pid in self._tree():
            with contextlib.suppress(OSError):
                each[pid] = cpu_seconds(pid)
        return each

    def __enter__(self) -> Sampler:
        self.idle_mb = self.rss()
        self.cpu_start = self._cpu()
        self._each_start = self._cpu_each()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.cpu_s = self._cpu() - self.cpu_start
        #: CPU seconds of each process in tree order (pychami: supervisor, HTTP workers, netboot process).
        end = self._cpu_each()
        self.cpu_each = [round(end[pid] - self._each_start.get(pid, 0.0), 2) for pid in end]
        self.peak_mb = max(self.peak_mb, self.rss())


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_listening(
    pair: NetnsPair, proto: str, port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 60
) -> None:
    """Wait until ``proc`` listens on ``port`` (``proto`` "tcp" or "udp") in the server namespace."""
    flags = "-Htln" if proto == "tcp" else "-Hunl"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        out = sh(*pair.run_in(pair.srv, "ss", flags, f"sport = :{port}"), check=False).stdout
        if out.strip():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not open its {proto} port {port}")


class Bench:
    def __init__(
        self, args: argparse.Namespace, pair: NetnsPair, work: Path, db_url: str | None = None
    ) -> None:
        self.args = args
        self.pair = pair
        self.work = work
        self.nodes = make_nodes(args.nodes)
        self.data = work / "data"
        #: SQLite in the data directory, or the PostgreSQL cluster of --db postgres.
        self.db_url = db_url or f"sqlite:///{(self.data / 'pychami.db').resolve()}"
        self.static = work / "static"
        self.set_up = False
        self.boot_url = f"http://{SERVER_IP}:{PORT}/boot/v1/bootscript?mac=${{net0/mac:hexhyp}}"

    def plan(self, steps: str, save: bool, rate: int = 0) -> Path:
        """The client's plan; ``rate`` > 0: an open-loop HTTP storm whose nodes start evenly so that
        their requests add up to ``rate`` per second (no bound on nodes in flight)."""
        arrival, ramp = self.args.arrival, self.args.ramp_seconds
        inflight = self.args.http_inflight if steps == "http" else self.args.max_inflight
        if rate:
            arrival, ramp, inflight = "ramp", len(HTTP_STAGES) * len(self.nodes) / rate, 0
        plan = {
            "server_ip": SERVER_IP,
            "http_port": PORT,
            "giaddr": GIADDR,
            "proxy_source": CLIENT_IP,
            "proxy_connections": self.args.proxy_connections,
            "cloudinit_via": self.args.cloudinit_via,
            "range_bytes": self.args.range_kb * 1024,
            "kernel_path": f"/boot-images/{KERNEL_KEY}",
            "initrd_path": f"/boot-images/{INITRD_KEY}",
            "group": GROUP,
            "arrival": arrival,
            "ramp_seconds": ramp,
            "timeout": self.args.timeout,
            "steps": steps,
            "max_inflight": inflight,
            "xid_salt": int.from_bytes(os.urandom(3), "big") << 8,
            "save_dir": str(self.static) if save else "",
            "nodes": self.nodes,
        }
        path = self.work / "plan.json"
        path.write_text(json.dumps(plan))
        return path

    def storm(self, steps: str = "all", save: bool = False, rate: int = 0) -> dict[str, Any]:
        """Run the client in its namespace; its JSON result plus its own CPU time."""
        out = self.work / "result.json"
        out.unlink(missing_ok=True)
        argv = self.pair.run_in(
            self.pair.cli,
            sys.executable,
            "-m",
            "bench.bootstorm.client",
            str(self.plan(steps, save, rate)),
            str(out),
        )
        start = time.monotonic()
        proc = subprocess.Popen(argv, cwd=ROOT)
        usage_before = os.times()
        proc.wait(timeout=self.args.timeout + 120)
        usage = os.times()
        if proc.returncode != 0 or not out.exists():
            raise RuntimeError(f"storm client failed ({proc.returncode})")
        result: dict[str, Any] = json.loads(out.read_text())
        result["client_cpu_s"] = round(
            usage.children_user
            + usage.children_system
            - usage_before.children_user
            - usage_before.children_system,
            2,
        )
        result["client_elapsed_s"] = round(time.monotonic() - start, 2)
        return result

    # pychami ------------------------------------------------------------------------------------

    def start_pychami(self, workers: int) -> subprocess.Popen[bytes]:
        config = self.work / "pychami.yaml"
        config.write_text(
            json.dumps(
                {
                    "listen": f"{SERVER_IP}:{PORT}",
                    "advertise_url": f"http://{SERVER_IP}:{PORT}",
                    "log_level": "WARNING",
                    "workers": workers,
                    "db": self.db_url,
                    "cloudinit": {"trusted_proxies": [f"{CLIENT_IP}/32"]},
                    "netboot": {
                        "interfaces": [self.pair.srv_if],
                        "server_ip": SERVER_IP,
                        "subnets": [f"{SERVER_IP}/16", NODE_NET],
                        "router": GIADDR,
                        "dns": [SERVER_IP],
                        "domain": "cluster",
                        "hostname": f"nid{{nid:0{NID_WIDTH}d}}",
                        "tftp": False,
                    },
                }
            )
        )
        log = (self.work / "pychami.log").open("ab")
        argv = self.pair.run_in(
            self.pair.srv,
            sys.executable,
            "-m",
            "pychami.cli.pychami",
            "serve",
            "--data-dir",
            str(self.data),
            "--config",
            str(config),
        )
        proc = subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        wait_listening(self.pair, "tcp", PORT, proc, "server")
        wait_listening(self.pair, "udp", 67, proc, "DHCP peer")
        return proc

    def setup_pychami(self) -> None:
        token = issue_token(self.data)
        setup = {
            "bootparameters": {
                "macs": [n["mac"] for n in self.nodes],
                "kernel": f"http://{SERVER_IP}:{PORT}/boot-images/{KERNEL_KEY}",
                "initrd": f"http://{SERVER_IP}:{PORT}/boot-images/{INITRD_KEY}",
                "params": (
                    f"root=live:http://{SERVER_IP}:{PORT}/boot-images/compute/storm/rootfs ip=dhcp "
                    "overlayroot=tmpfs console=ttyS0,115200 cloud-init=enabled"
                ),
            },
            "defaults": {
                "base-url": f"http://{SERVER_IP}:{PORT}/cloud-init",
                "cluster-name": "storm",
                "nid-length": NID_WIDTH,
                "short-name": "nid",
                "public-keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests admin@storm"],
            },
            "group": GROUP,
            "group_file": str(GROUP_FILE),
        }
        path = self.work / "setup.json"
        path.write_text(json.dumps(setup))
        argv = self.pair.run_in(
            self.pair.srv,
            sys.executable,
            "-m",
            "bench.bootstorm.setup_api",
            f"http://{SERVER_IP}:{PORT}",
            token,
            str(path),
        )
        subprocess.run(argv, cwd=ROOT, check=True, timeout=600)

    def run_pychami(
        self, workers: int, save: bool, profile: bool = False, steps: str = "all", rate: int = 0
    ) -> dict[str, Any]:
        proc = self.start_pychami(workers)
        try:
            if not self.set_up:
                self.setup_pychami()
                self.set_up = True
            time.sleep(2)  # let every worker settle (caches loaded on the first request anyway)
            spy = None
            if profile:
                spy = self.start_profile(proc.pid, workers)
            with Sampler(proc.pid) as sampler, Sampler(self.db_pid() or os.getpid()) as db_sampler:
                result = self.storm(steps, save=save, rate=rate)
            if spy is not None:
                stop(spy, signal.SIGINT, timeout=120)
                result["profile"] = str(self.work / "profile.txt")
        finally:
            stop(proc)
        result |= {"server_idle_mb": round(sampler.idle_mb, 1), "server_peak_mb": round(sampler.peak_mb, 1)}
        result["server_cpu_s"] = round(sampler.cpu_s, 2)
        result["server_cpu_each_s"] = sampler.cpu_each
        if self.db_pid():
            result["db_cpu_s"] = round(db_sampler.cpu_s, 2)
        result["events"] = self.count_events()
        return result

    def db_pid(self) -> int | None:
        """The PostgreSQL postmaster's PID (its backends are its children), or None on SQLite."""
        if not self.db_url.startswith("postgresql"):
            return None
        from urllib.parse import parse_qs, urlsplit

        host = parse_qs(urlsplit(self.db_url).query)["host"][0]
        return int((Path(host) / "data" / "postmaster.pid").read_text().split()[0])

    def start_profile(self, pid: int, workers: int) -> subprocess.Popen[bytes]:
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        argv = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--nonblocking"]
        if workers > 1:
            argv.append("--subprocesses")
        argv += ["--output", str(self.work / "profile.txt")]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        return proc

    def count_events(self) -> dict[str, int]:
        import sqlalchemy as sa

        from pychami.core.db import Database

        db = Database.from_url(self.db_url)
        try:
            with db.transaction() as conn:
                rows = conn.execute(sa.text("SELECT stage, count(*) FROM boot_events GROUP BY stage")).all()
                conn.execute(sa.text("DELETE FROM boot_events"))  # the next run counts its own
        finally:
            db.dispose()
        return {str(stage): int(count) for stage, count in rows}

    # peers --------------------------------------------------------------------------------------

    def start_nginx(self, workers: int) -> subprocess.Popen[bytes]:
        conf = peers.nginx_conf(self.work, self.static, self.data / "objects", f"{SERVER_IP}:{PORT}", workers)
        proc = subprocess.Popen(
            self.pair.run_in(self.pair.srv, "nginx", "-c", str(conf), "-p", str(self.work)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_listening(self.pair, "tcp", PORT, proc, "server")
        return proc

    def start_dhcp_peer(self, name: str) -> subprocess.Popen[bytes]:
        args = (self.pair.srv_if, SERVER_IP, GIADDR, self.boot_url)
        if name == "dnsmasq":
            (self.work / "dnsmasq-hosts.txt").write_text(peers.dnsmasq_hosts(self.nodes))
            argv = peers.dnsmasq_argv(self.work, *args)
            env = os.environ
        else:
            (self.work / "kea-leases.csv").unlink(missing_ok=True)
            conf = peers.write_kea(self.work, *args, self.nodes)
            argv = ["kea-dhcp4", "-c", str(conf)]
            env = {**os.environ, "KEA_PIDFILE_DIR": str(self.work), "KEA_LOCKFILE_DIR": str(self.work)}
        proc = subprocess.Popen(
            self.pair.run_in(self.pair.srv, *argv),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        wait_listening(self.pair, "udp", 67, proc, "DHCP peer")
        return proc

    def run_peer(self, dhcp: str | None, workers: int, steps: str = "all", rate: int = 0) -> dict[str, Any]:
        """A storm against ``dhcp`` + nginx (``steps`` all), ``dhcp`` alone (dhcp), or nginx alone (http)."""
        dhcp_proc = self.start_dhcp_peer(dhcp) if dhcp else None
        nginx = self.start_nginx(workers) if steps != "dhcp" else None
        try:
            time.sleep(1)
            with (
                Sampler(dhcp_proc.pid if dhcp_proc else os.getpid()) as dhcp_sample,
                Sampler(nginx.pid if nginx else os.getpid()) as web,
            ):
                result = self.storm(steps, rate=rate)
        finally:
            if nginx is not None:
                stop(nginx, signal.SIGQUIT)
            if dhcp_proc is not None:
                stop(dhcp_proc)
                time.sleep(0.5)  # kea must be gone before another start (DHCP4_ALREADY_RUNNING)
        dhcp_mb, dhcp_cpu = (dhcp_sample.peak_mb, dhcp_sample.cpu_s) if dhcp_proc else (0.0, 0.0)
        web_mb, web_cpu = (web.peak_mb, web.cpu_s) if nginx else (0.0, 0.0)
        result |= {
            "server_peak_mb": round(dhcp_mb + web_mb, 1),
            "dhcp_peak_mb": round(dhcp_mb, 1),
            "web_peak_mb": round(web_mb, 1),
            "server_cpu_s": round(dhcp_cpu + web_cpu, 2),
        }
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--arrival", choices=["all", "ramp"], default="all")
    parser.add_argument("--ramp-seconds", type=float, default=20.0, help="power-on spread for --arrival ramp")
    parser.add_argument("--workers", type=int, default=2, help="pychami HTTP workers (and nginx workers)")
    parser.add_argument("--cloudinit-via", choices=["direct", "proxy"], default="direct")
    parser.add_argument("--proxy-connections", type=int, default=64)
    parser.add_argument("--range-kb", type=int, default=64, help="size of each kernel/initrd Range read")
    parser.add_argument("--file-mb", type=int, default=8, help="size of the kernel and initrd files")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds each storm may take at most")
    parser.add_argument(
        "--runs",
        default="kea,dnsmasq,http,dhcp,rate",
        help="storms after pychami's full one: kea / dnsmasq (full, with nginx), http (HTTP-only, pychami "
        "and nginx), dhcp (DHCP-only, pychami, kea and dnsmasq), rate (HTTP-only at --http-rate, pychami "
        "and nginx)",
    )
    parser.add_argument(
        "--http-rate",
        type=int,
        default=5000,
        help="offered request rate of the 'rate' storms (latency at a given load, not at saturation)",
    )
    parser.add_argument("--max-inflight", type=int, default=0, help="nodes booting at once (0: no limit)")
    parser.add_argument(
        "--http-inflight", type=int, default=256, help="nodes at once in the HTTP-only storms (0: no limit)"
    )
    parser.add_argument("--profile", action="store_true", help="one more pychami storm under py-spy")
    parser.add_argument(
        "--profile-steps",
        choices=["all", "http", "dhcp", "rate"],
        default="all",
        help="which storm --profile records: every step, HTTP-only, DHCP-only, or HTTP at --http-rate",
    )
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="pychami's database: SQLite in its data directory, or a throwaway PostgreSQL cluster (fsync on, "
        "reached over its Unix socket)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bootstorm")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench.bootstorm needs root (network namespaces)")
    if args.nodes > 60_000:
        sys.exit("at most 60,000 nodes (198.19.0.0/16)")
    work = Path(tempfile.mkdtemp(prefix="bootstorm-"))
    work.chmod(0o755)
    pair = NetnsPair.named("bst", SERVER_IP, CLIENT_IP)
    started = dt.datetime.now(dt.UTC)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    results: dict[str, Any] = {}
    stack = contextlib.ExitStack()
    try:
        db_url = None
        if args.db == "postgres":
            from tests.pgserver import postgres_cluster

            db_url = stack.enter_context(postgres_cluster(durable=True, unix_socket=True))
        bench = Bench(args, pair, work, db_url)
        t = time.monotonic()
        seed(bench.data, bench.nodes, args.file_mb, bench.db_url)
        print(f"seeded {args.nodes} nodes in {time.monotonic() - t:.1f} s", flush=True)
        with pair.up():
            sh(*pair.run_in(pair.cli, "ip", "route", "add", "local", NODE_NET, "dev", "lo"))
            sh(*pair.run_in(pair.srv, "ip", "route", "add", NODE_NET, "via", CLIENT_IP))
            runs = set(args.runs.split(","))
            # pychami first: what it serves each node becomes nginx's documents (saved by the HTTP-only
            # storm, whose bounded concurrency lets every node through, or else by the full storm).
            results["pychami"] = bench.run_pychami(args.workers, save="http" not in runs)
            print(report.one_line("pychami", results["pychami"]), flush=True)
            if "http" in runs:  # HTTP capacity: the boot script onwards, a bounded number of nodes at once
                results["pychami http-only"] = bench.run_pychami(args.workers, save=True, steps="http")
                print(report.one_line("pychami http-only", results["pychami http-only"]), flush=True)
            for dhcp in [p for p in ("kea", "dnsmasq") if p in runs]:
                name = f"{dhcp}+nginx"
                results[name] = bench.run_peer(dhcp, args.workers)
                print(report.one_line(name, results[name]), flush=True)
            if "http" in runs:
                results["nginx http-only"] = bench.run_peer(None, args.workers, "http")
                print(report.one_line("nginx http-only", results["nginx http-only"]), flush=True)
            if "dhcp" in runs:  # DHCP capacity: both DORAs of every node, no HTTP load on the machine
                results["pychami dhcp-only"] = bench.run_pychami(args.workers, save=False, steps="dhcp")
                print(report.one_line("pychami dhcp-only", results["pychami dhcp-only"]), flush=True)
                for dhcp in ("kea", "dnsmasq"):
                    name = f"{dhcp} dhcp-only"
                    results[name] = bench.run_peer(dhcp, args.workers, "dhcp")
                    print(report.one_line(name, results[name]), flush=True)
            if "rate" in runs and args.http_rate > 0:  # latency at a fixed offered load (open loop)
                mine, peer = f"pychami http @{args.http_rate}/s", f"nginx http @{args.http_rate}/s"
                results[mine] = bench.run_pychami(args.workers, save=False, steps="http", rate=args.http_rate)
                print(report.one_line(mine, results[mine]), flush=True)
                results[peer] = bench.run_peer(None, args.workers, "http", rate=args.http_rate)
                print(report.one_line(peer, results[peer]), flush=True)
                for name in (mine, peer):
                    results[name]["offered_per_s"] = args.http_rate
            if args.profile:
                steps, rate = args.profile_steps, 0
                if steps == "rate":
                    steps, rate = "http", args.http_rate
                profiled = bench.run_pychami(args.workers, save=False, profile=True, steps=steps, rate=rate)
                results["pychami (py-spy)"] = profiled
                print(report.one_line("pychami (py-spy)", profiled), flush=True)
                profiled["profile_top"] = report.profile_top(Path(profiled["profile"]))
    finally:
        stack.close()
        if (work / "pychami.log").exists():
            tail = (work / "pychami.log").read_text(errors="replace").splitlines()[-15:]
            if any("Error" in line or "error" in line for line in tail):
                print("pychami log tail:\n" + "\n".join(tail), file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    meta = {
        "date": f"{started:%Y-%m-%d %H:%M} UTC",
        "nodes": args.nodes,
        "arrival": args.arrival if args.arrival == "all" else f"ramp over {args.ramp_seconds:g} s",
        "http_rate": args.http_rate,
        "workers": args.workers,
        "cloudinit_via": args.cloudinit_via,
        "db": args.db,
        "range_kb": args.range_kb,
        "cpus": os.cpu_count(),
        "load_before": " ".join(load_before),
        "load_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "command": "sudo bench/bootstorm/run.sh " + " ".join(sys.argv[1:]),
    }
    report.write(args.out, meta, results)
    print(f"report: {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
