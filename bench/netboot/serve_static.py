"""Run the pychami DHCP daemon with N synthetic known nodes (used by ``dhcp_bench.py`` inside a netns).

usage: python serve_static.py MACS_FILE INTERFACE SERVER_IP SUBNET [EVENTS_SQLITE_PATH]
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
from pathlib import Path

from pychami.core.inventory import Interface, IPAddress, Node, static_source
from pychami.core.logs import configure_logging
from pychami.netboot.daemon import NetbootDaemon
from pychami.netboot.events import EventSink, ListEvents
from pychami.netboot.settings import NetbootSettings


def nodes_for(macs: list[str], subnet: str) -> list[Node]:
    first = int(ipaddress.IPv4Network(subnet).network_address) + 256
    return [
        Node(
            f"x1000c0s{i // 4}b0n{i % 4}",
            i + 1,
            interfaces=(Interface(mac, (IPAddress(str(ipaddress.IPv4Address(first + i))),)),),
        )
        for i, mac in enumerate(macs)
    ]


class NullEvents(ListEvents):
    """Counts instead of storing (a long benchmark would otherwise hold millions of dicts)."""

    count = 0

    def record(self, stage: str, source: str, **_: object) -> None:  # type: ignore[override]
        self.count += 1


async def main() -> None:
    macs_file, iface, server_ip, subnet = sys.argv[1:5]
    events_db = sys.argv[5] if len(sys.argv) > 5 else ""
    macs = Path(macs_file).read_text().split()
    configure_logging("WARNING", "console")
    cfg = NetbootSettings(
        interfaces=[iface],
        server_ip=server_ip,
        subnets=[subnet],
        router=server_ip,
        dns=[server_ip],
        domain="cluster",
        tftp=False,
    )
    events: EventSink = NullEvents()
    recorder = None
    if events_db:  # the real recorder, flushing to SQLite, as in production
        from pychami.core.db import Database
        from pychami.core.events import BootEventRecorder
        from pychami.server import upgrade_schema

        db = Database.from_url(f"sqlite:///{events_db}")
        upgrade_schema(db)
        recorder = BootEventRecorder(db)
        recorder.start()
        events = recorder
    daemon = NetbootDaemon(
        cfg,
        boot_url=f"http://{server_ip}:8081",
        inventory=static_source(nodes_for(macs, subnet)).load_inventory,
        events=events,
    )
    await daemon.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    print("stats", daemon.dhcp.stats, flush=True)
    await daemon.stop()
    if recorder is not None:
        recorder.stop()


if __name__ == "__main__":
    asyncio.run(main())
