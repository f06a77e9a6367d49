"""Per-packet cost of pychami's DHCP server against the number of known nodes (no sockets: the real
decode, policy, encode and boot-event path of ``DhcpServer.process``, one DORA per node).

    .venv/bin/python -m bench.bootstorm.dhcp_scaling [--sizes 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import gc
import socket
import time

from bench.netboot.serve_static import NullEvents, nodes_for
from pychami.core.inventory import InventorySnapshot
from pychami.core.logs import configure_logging
from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import DhcpPacket, MessageType
from pychami.netboot.dhcp.policy import Policy
from pychami.netboot.dhcp.server import DhcpServer
from pychami.netboot.settings import NetbootSettings

SUBNET = "198.19.0.0/16"
GIADDR = "198.19.0.1"


def packet(mac: bytes, xid: int, mtype: MessageType, offer: DhcpPacket | None) -> bytes:
    opts = [(codec.OPT_MESSAGE_TYPE, bytes((mtype,)))]
    if offer is not None:
        opts.append((codec.OPT_REQUESTED_IP, socket.inet_aton(offer.yiaddr)))
        opts.append((codec.OPT_SERVER_ID, socket.inet_aton("198.18.0.1")))
    opts += [
        (codec.OPT_VENDOR_CLASS, b"PXEClient:Arch:00007:UNDI:003016"),
        (codec.OPT_CLIENT_ARCH, b"\x00\x07"),
    ]
    return codec.encode(DhcpPacket(xid=xid, hops=1, giaddr=GIADDR, chaddr=mac + bytes(10), options=opts))


def measure(count: int, sample: int) -> float:
    """Microseconds of ``process`` per DHCP message, over ``sample`` DORAs spread over ``count`` nodes."""
    macs = [f"52:54:30:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}" for i in range(count)]
    snapshot = InventorySnapshot(nodes=tuple(nodes_for(macs, SUBNET)))
    cfg = NetbootSettings(
        interfaces=["x"], server_ip="198.18.0.1", subnets=["198.18.0.0/16", SUBNET], router=GIADDR, tftp=False
    )
    server = DhcpServer(
        Policy(cfg, boot_url="http://198.18.0.1:8081"), lambda: snapshot, NullEvents(), interfaces=["x"]
    )
    server.process(
        packet(bytes.fromhex(macs[0].replace(":", "")), 1, MessageType.DISCOVER, None)
    )  # index build
    step = max(1, count // sample)
    chosen = [bytes.fromhex(macs[i].replace(":", "")) for i in range(0, count, step)][:sample]
    discovers = [packet(mac, 10 + n, MessageType.DISCOVER, None) for n, mac in enumerate(chosen)]
    # Building the snapshot made tens of thousands of objects: collect now, or the full collection
    # they trigger lands in the timed loop (it made the 10,000-node row read 49-67 µs instead of 36).
    gc.collect()
    start = time.perf_counter()
    offers = [server.process(d) for d in discovers]
    decoded = [codec.decode(o.data) for o in offers if o is not None]
    mid = time.perf_counter()
    requests = [
        packet(mac, 10 + n, MessageType.REQUEST, o)
        for n, (mac, o) in enumerate(zip(chosen, decoded, strict=True))
    ]
    resumed = time.perf_counter()
    acks = [server.process(r) for r in requests]
    end = time.perf_counter()
    assert all(a is not None for a in acks)
    assert len(decoded) == len(chosen)
    return ((mid - start) + (end - resumed)) / (2 * len(chosen)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="at most 65,000 (one /16)")
    parser.add_argument("--sample", type=int, default=1000, help="DORAs timed per size")
    args = parser.parse_args()
    configure_logging("WARNING", "console")  # as the storm's server runs
    print("| known nodes | µs per DHCP message (decode, policy, encode, 2 events to a counting sink) |")
    print("|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        best = min(measure(size, args.sample) for _ in range(3))
        print(f"| {size:,} | {best:.1f} |", flush=True)


if __name__ == "__main__":
    main()
