"""The simulated nodes (one asyncio process, run inside the client namespace by ``bench.bootstorm``).

Each node, from its power-on time (all at once, or a ramp), does what a diskless node does:

1. DHCP DORA as UEFI firmware (option 60 ``PXEClient``, 93 = 7), expecting its SMD address and an iPXE
   binary as boot file;
2. DHCP DORA as iPXE (option 77 ``iPXE``), expecting an HTTP boot-script URL;
3. on one keep-alive connection from its own address: the boot script, then HEAD and a Range read of
   the kernel and of the initrd;
4. on a new connection (from its own address, or through the trusted proxy with X-Forwarded-For):
   meta-data, vendor-data, user-data, the group YAML, then phone-home.

DHCP goes through this process acting as the relay (giaddr, answers on port 67), so the server sees
one distinct MAC per node. Lost DHCP messages are retransmitted as firmware does (after 4, 8, 16 and
32 s, iPXE after 1, 2, 4 and 8 s, plus up to 0.5 s of jitter), a NAK restarts the DORA,
HTTP failures are retried twice after 1 s; a node that still fails counts as an error. The process
prints one JSON document: per-stage latencies summarised, node completion times, errors.

    python -m bench.bootstorm.client PLAN.json RESULT.json
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Conn, percentile
from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import DhcpPacket, MessageType

DHCP_STAGES = ("dhcp-firmware", "dhcp-ipxe")
HTTP_STAGES = (
    "bootscript",
    "kernel-head",
    "kernel-range",
    "initrd-head",
    "initrd-range",
    "meta-data",
    "vendor-data",
    "user-data",
    "group-yaml",
    "phone-home",
)
STAGES = DHCP_STAGES + HTTP_STAGES
#: Seconds before each retransmission: UEFI PXE firmware as the PXE spec and EDK2 do (4, 8, 16, 32),
#: iPXE from 1 s doubling.
RETRANSMIT = {"firmware": (4.0, 8.0, 16.0, 32.0), "ipxe": (1.0, 2.0, 4.0, 8.0)}
HTTP_ATTEMPTS = 3
PXE_VENDOR = b"PXEClient:Arch:00007:UNDI:003016"
PARAMS = bytes((1, 3, 6, 12, 15, 17, 43, 60, 66, 67, 119, 175))


class StageError(Exception):
    """A step gave a wrong or no answer (after its retries)."""

    def __init__(self, why: str, stage: str = "") -> None:
        super().__init__(why)
        self.stage = stage


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STAGES})
    first: dict[str, float] = field(default_factory=dict)
    last: dict[str, float] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    retries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    error_samples: list[str] = field(default_factory=list)
    #: Why steps were retried (the first 20), though they succeeded in the end.
    retry_samples: list[str] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    dhcp_done: list[float] = field(default_factory=list)
    failed_nodes: int = 0
    naks: int = 0

    def add(self, stage: str, start: float, end: float) -> None:
        self.latencies[stage].append(end - start)
        self.first[stage] = min(self.first.get(stage, start), start)
        self.last[stage] = max(self.last.get(stage, end), end)

    def error(self, stage: str, why: str) -> None:
        self.errors[stage] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{stage}: {why}")


class Relay:
    """The relay's socket: sends requests with giaddr set, hands each reply to the exchange waiting for it.

    The socket is drained to empty on every wakeup (a reader callback, not a datagram transport): a
    transport reads a datagram or a few per loop iteration, and with thousands of HTTP connections ready
    per iteration the replies piled up in the socket (a full 32 MB queue, thousands dropped) while the
    DHCP server sat idle, so the load generator, not the server, limited the DHCP rate.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        #: xid -> (message types the exchange waits for, its future)
        self.waiting: dict[int, tuple[frozenset[MessageType], asyncio.Future[DhcpPacket]]] = {}
        self.stray = 0
        self.send_failures = 0

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.sock.sendto(data, addr)
        except BlockingIOError:  # a full send buffer: the retransmission timer covers it
            self.send_failures += 1

    def drain(self) -> None:
        for _ in range(100_000):
            try:
                data = self.sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                return
            self.datagram_received(data)

    def datagram_received(self, data: bytes) -> None:
        try:
            pkt = codec.decode(data)
        except codec.CodecError:
            self.stray += 1
            return
        entry = self.waiting.get(pkt.xid)
        if entry is None or entry[1].done() or pkt.message_type not in entry[0]:
            self.stray += 1  # a late answer to a retransmitted message (an OFFER while waiting for the ACK)
            return
        del self.waiting[pkt.xid]
        entry[1].set_result(pkt)


OFFER = frozenset({MessageType.OFFER})
ACK_OR_NAK = frozenset({MessageType.ACK, MessageType.NAK})
#: A NAK sends the client back to DISCOVER (RFC 2131 4.4); this many times at most.
NAK_RESTARTS = 3


class Storm:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.stats = Stats()
        self.relay: Relay | None = None
        self.server = plan["server_ip"]
        self.port = int(plan["http_port"])
        self.giaddr = plan["giaddr"]
        self.range_bytes = int(plan["range_bytes"])
        self.proxy = plan.get("cloudinit_via") == "proxy"
        self.proxy_pool: asyncio.Queue[Conn] = asyncio.Queue()
        self.bodies: dict[str, dict[str, bytes]] = {"bootscript": {}, "meta-data": {}, "vendor-data": {}}
        self.save = bool(plan.get("save_dir"))
        self.t0 = 0.0
        self.dhcp_only = plan.get("steps") == "dhcp"
        self.http_only = plan.get("steps") == "http"
        cap = int(plan.get("max_inflight", 0))
        self.inflight = asyncio.Semaphore(cap) if cap else None

    # DHCP ---------------------------------------------------------------------------------------

    def _packet(
        self, node: dict[str, Any], xid: int, kind: str, mtype: MessageType, offer: DhcpPacket | None
    ) -> bytes:
        opts: list[tuple[int, bytes]] = [(codec.OPT_MESSAGE_TYPE, bytes((mtype,)))]
        if offer is not None:
            opts.append((codec.OPT_REQUESTED_IP, socket.inet_aton(offer.yiaddr)))
            server_id = offer.get(codec.OPT_SERVER_ID)
            if server_id is not None:
                opts.append((codec.OPT_SERVER_ID, server_id))
        opts += [
            (codec.OPT_MAX_SIZE, (1472).to_bytes(2, "big")),
            (codec.OPT_PARAM_REQUEST, PARAMS),
            (codec.OPT_VENDOR_CLASS, PXE_VENDOR),
            (codec.OPT_CLIENT_ARCH, b"\x00\x07"),
            (codec.OPT_CLIENT_NDI, b"\x01\x03\x10"),
            (codec.OPT_UUID, b"\x00" + node["uuid"]),
        ]
        if kind == "ipxe":
            opts += [(codec.OPT_USER_CLASS, b"iPXE"), (codec.OPT_IPXE, b"\x13\x01\x01")]
        pkt = DhcpPacket(
            xid=xid, hops=1, giaddr=self.giaddr, chaddr=node["mac_bytes"] + b"\x00" * 10, options=opts
        )
        return codec.encode(pkt)

    async def _exchange(self, data: bytes, xid: int, stage: str, want: frozenset[MessageType]) -> DhcpPacket:
        assert self.relay is not None
        timeouts = RETRANSMIT[stage.removeprefix("dhcp-")]
        for attempt, timeout in enumerate(timeouts):
            fut: asyncio.Future[DhcpPacket] = asyncio.get_running_loop().create_future()
            self.relay.waiting[xid] = (want, fut)
            self.relay.sendto(data, (self.server, 67))
            try:
                return await asyncio.wait_for(fut, timeout + random.random() * 0.5)
            except TimeoutError:
                self.relay.waiting.pop(xid, None)
                if attempt < len(timeouts) - 1:
                    self.stats.retries[stage] += 1
        raise StageError(f"no answer after {len(timeouts)} transmissions", stage)

    async def dora(self, node: dict[str, Any], kind: str) -> None:
        stage = f"dhcp-{kind}"
        xid = (node["index"] << 2 | (1 if kind == "ipxe" else 0)) ^ self.plan["xid_salt"]
        start = time.perf_counter()
        for restart in range(NAK_RESTARTS + 1):
            discover = self._packet(node, xid, kind, MessageType.DISCOVER, None)
            offer = await self._exchange(discover, xid, stage, OFFER)
            if offer.yiaddr != node["ip"]:
                raise StageError(f"offer of {offer.yiaddr} for {node['ip']}", stage)
            request = self._packet(node, xid, kind, MessageType.REQUEST, offer)
            ack = await self._exchange(request, xid, stage, ACK_OR_NAK)
            if ack.message_type is MessageType.ACK:
                break
            if restart < NAK_RESTARTS:
                self.stats.retries[stage] += 1
                self.stats.naks += 1
        else:
            raise StageError(f"NAK after {NAK_RESTARTS + 1} DORAs for {node['ip']}", stage)
        if ack.yiaddr != node["ip"]:
            raise StageError(f"ack of {ack.yiaddr} for {node['ip']}", stage)
        boot = (ack.get(codec.OPT_BOOTFILE) or ack.file).rstrip(b"\x00")
        if kind == "ipxe" and not boot.startswith(b"http"):
            raise StageError(f"iPXE boot file {boot!r}", stage)
        if kind == "firmware" and not boot.endswith(b".efi"):
            raise StageError(f"firmware boot file {boot!r}", stage)
        self.stats.add(stage, start, time.perf_counter())

    # HTTP ---------------------------------------------------------------------------------------

    async def _http(
        self,
        stage: str,
        conn_box: list[Conn | None],
        source: str | None,
        call: Callable[[Conn], Awaitable[bytes]],
    ) -> bytes:
        """One step on the node's connection (reopened after a failure); retried, timed."""
        why = ""
        for attempt in range(HTTP_ATTEMPTS):
            if attempt:
                self.stats.retries[stage] += 1
                if len(self.stats.retry_samples) < 20:
                    self.stats.retry_samples.append(f"{stage}: {why}")
                await asyncio.sleep(1.0)
            start = time.perf_counter()
            try:
                # asyncio.timeout, not wait_for: wait_for wraps the coroutine in a task of its own, which
                # doubled the load generator's CPU per request (the servers share its two cores).
                async with asyncio.timeout(10):
                    if conn_box[0] is None:
                        conn_box[0] = await Conn.open(self.server, self.port, source)
                    body = await call(conn_box[0])
            except StageError as exc:
                why = str(exc)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                why = f"{type(exc).__name__}: {exc}"
                if conn_box[0] is not None:
                    conn_box[0].close()
                conn_box[0] = None
            else:
                self.stats.add(stage, start, time.perf_counter())
                return body
        raise StageError(why, stage)

    @staticmethod
    def expect(status: int, want: int, body: bytes, needle: bytes = b"") -> bytes:
        if status != want or needle not in body:
            raise StageError(f"status {status}, body {body[:80]!r}")
        return body

    async def boot_files(self, node: dict[str, Any]) -> None:
        box: list[Conn | None] = [None]
        mac = node["mac"]
        try:

            async def script(c: Conn) -> bytes:
                status, body, _ = await c.request("GET", f"/boot/v1/bootscript?mac={mac}")
                # The node's own script: it boots the configured kernel (not the unknown-node script).
                self.expect(status, 200, body, b"#!ipxe")
                return self.expect(status, 200, body, self.plan["kernel_path"].encode())

            body = await self._http("bootscript", box, node["ip"], script)
            if self.save:
                self.bodies["bootscript"][mac] = body
            for name, path in (("kernel", self.plan["kernel_path"]), ("initrd", self.plan["initrd_path"])):

                async def head(c: Conn, path: str = path) -> bytes:
                    status, _, headers = await c.request("HEAD", path)
                    if status != 200 or int(headers.get(b"content-length", b"0")) < self.range_bytes:
                        raise StageError(f"HEAD status {status} {headers.get(b'content-length')!r}")
                    return b""

                async def ranged(c: Conn, path: str = path) -> bytes:
                    extra = f"Range: bytes=0-{self.range_bytes - 1}\r\n"
                    status, body, _ = await c.request("GET", path, extra)
                    if status != 206 or len(body) != self.range_bytes:
                        raise StageError(f"Range status {status}, {len(body)} bytes")
                    return b""

                await self._http(f"{name}-head", box, node["ip"], head)
                await self._http(f"{name}-range", box, node["ip"], ranged)
        finally:
            if box[0] is not None:
                box[0].close()

    async def cloud_init(self, node: dict[str, Any]) -> None:
        ip = node["ip"]
        extra = f"X-Forwarded-For: {ip}\r\n" if self.proxy else ""
        box: list[Conn | None] = [None]
        source: str | None = ip
        if self.proxy:
            box[0] = await self.proxy_pool.get()
            source = self.plan["proxy_source"]
        try:

            async def meta(c: Conn) -> bytes:
                status, body, _ = await c.request("GET", "/cloud-init/meta-data", extra)
                return self.expect(status, 200, body, f"hostname: {node['hostname']}".encode())

            async def vendor(c: Conn) -> bytes:
                status, body, _ = await c.request("GET", "/cloud-init/vendor-data", extra)
                return self.expect(status, 200, body, b"#include")

            async def user(c: Conn) -> bytes:
                status, body, _ = await c.request("GET", "/cloud-init/user-data", extra)
                return self.expect(status, 200, body, b"#cloud-config")

            async def group(c: Conn) -> bytes:
                status, body, _ = await c.request("GET", f"/cloud-init/{self.plan['group']}.yaml", extra)
                return self.expect(status, 200, body, b"#cloud-config")

            meta_body = await self._http("meta-data", box, source, meta)
            vendor_body = await self._http("vendor-data", box, source, vendor)
            user_body = await self._http("user-data", box, source, user)
            group_body = await self._http("group-yaml", box, source, group)
            instance = node["xname"]
            for line in meta_body.decode().splitlines():
                if line.startswith("instance-id:"):
                    instance = line.split(":", 1)[1].strip()
            form = (
                f"pub_key_ed25519=ssh-ed25519+AAAA{node['index']}&instance_id={instance}"
                f"&hostname={node['hostname']}&fqdn={node['hostname']}.cluster"
            ).encode()
            form_head = f"{extra}Content-Type: application/x-www-form-urlencoded\r\n"

            async def phone(c: Conn) -> bytes:
                status, body, _ = await c.request(
                    "POST", f"/cloud-init/phone-home/{instance}", form_head, form
                )
                return self.expect(status, 200, body)

            await self._http("phone-home", box, source, phone)
            if self.save:
                self.bodies["meta-data"][ip] = meta_body
                self.bodies["vendor-data"][ip] = vendor_body
                self.bodies["group-yaml"] = {"": group_body}
                self.bodies["user-data"] = {"": user_body}
        finally:
            if box[0] is not None:
                if self.proxy:
                    self.proxy_pool.put_nowait(box[0])
                else:
                    box[0].close()
            elif self.proxy:
                self.proxy_pool.put_nowait(await Conn.open(self.server, self.port, self.plan["proxy_source"]))

    # one node -----------------------------------------------------------------------------------

    async def node(self, node: dict[str, Any], at: float) -> None:
        delay = self.t0 + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if self.inflight is None:
            await self._node(node)
            return
        async with self.inflight:
            await self._node(node)

    async def _node(self, node: dict[str, Any]) -> None:
        stage = "dhcp-firmware"
        try:
            if not self.http_only:
                await self.dora(node, "firmware")
                stage = "dhcp-ipxe"
                await self.dora(node, "ipxe")
                self.stats.dhcp_done.append(time.perf_counter() - self.t0)
            if not self.dhcp_only:
                stage = "bootscript"
                await self.boot_files(node)
                stage = "meta-data"
                await self.cloud_init(node)
        except StageError as exc:
            self.stats.error(exc.stage or stage, str(exc))
            self.stats.failed_nodes += 1
            return
        self.stats.done.append(time.perf_counter() - self.t0)

    async def run(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, 33, 16 * 1024 * 1024)  # SO_RCVBUFFORCE (root, own namespace)
        sock.bind((self.giaddr, 67))
        sock.setblocking(False)
        self.relay = Relay(sock)
        loop.add_reader(sock.fileno(), self.relay.drain)
        if self.proxy and not self.dhcp_only:
            for _ in range(int(self.plan["proxy_connections"])):
                self.proxy_pool.put_nowait(await Conn.open(self.server, self.port, self.plan["proxy_source"]))
        nodes = self.plan["nodes"]
        count = len(nodes)
        ramp = float(self.plan["ramp_seconds"]) if self.plan["arrival"] == "ramp" else 0.0
        for node in nodes:
            node["mac_bytes"] = bytes.fromhex(node["mac"].replace(":", ""))
            node["uuid"] = node["index"].to_bytes(16, "big")
        self.t0 = time.perf_counter() + 0.2
        tasks = [
            asyncio.create_task(self.node(node, ramp * i / max(1, count))) for i, node in enumerate(nodes)
        ]
        _done, pending = await asyncio.wait(tasks, timeout=float(self.plan["timeout"]))
        for task in pending:
            task.cancel()
        wall = time.perf_counter() - self.t0
        while not self.proxy_pool.empty():
            self.proxy_pool.get_nowait().close()
        return self.result(wall, len(pending))

    def result(self, wall: float, unfinished: int) -> dict[str, Any]:
        s = self.stats
        stages = {}
        for name in STAGES:
            lat = s.latencies[name]
            span = s.last.get(name, 0.0) - s.first.get(name, 0.0)
            stages[name] = {
                "count": len(lat),
                "errors": s.errors[name],
                "retries": s.retries[name],
                "per_s": round(len(lat) / span, 1) if span > 0 else 0.0,
                "p50_ms": round(percentile(lat, 50) * 1000, 2),
                "p99_ms": round(percentile(lat, 99) * 1000, 2),
                "span_s": round(span, 2),
            }

        def aggregate(names: tuple[str, ...], per: int) -> float:
            counts = sum(len(s.latencies[n]) for n in names)
            firsts = [s.first[n] for n in names if n in s.first]
            lasts = [s.last[n] for n in names if n in s.last]
            span = max(lasts) - min(firsts) if firsts else 0.0
            return round(counts / per / span, 1) if span > 0 else 0.0

        return {
            "dora_per_s": aggregate(DHCP_STAGES, 1),
            "http_req_per_s": aggregate(HTTP_STAGES, 1),
            "nodes": len(self.plan["nodes"]),
            "completed": len(s.done),
            "failed": s.failed_nodes,
            "unfinished": unfinished,
            "wall_s": round(max(s.done) if s.done else wall, 3),
            "dhcp_wall_s": round(max(s.dhcp_done), 3) if s.dhcp_done else 0.0,
            "stages": stages,
            "done_times": [round(t, 3) for t in sorted(s.done)],
            "dhcp_done_times": [round(t, 3) for t in sorted(s.dhcp_done)],
            "error_samples": s.error_samples,
            "retry_samples": s.retry_samples,
            "stray_dhcp_replies": self.relay.stray if self.relay else 0,
            "dhcp_naks": s.naks,
            "max_inflight": self.plan.get("max_inflight", 0),
        }

    def write_tree(self, root: Path) -> None:
        """The documents as served, laid out for nginx (``try_files`` by MAC and by address)."""
        for kind, items in self.bodies.items():
            folder = root / kind
            folder.mkdir(parents=True, exist_ok=True)
            for key, body in items.items():
                (folder / (key or "all")).write_bytes(body)


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    storm = Storm(plan)
    result = asyncio.run(storm.run())
    if plan.get("save_dir"):
        storm.write_tree(Path(plan["save_dir"]))
    Path(sys.argv[2]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
