"""Benchmark server: the all-in-one app with N nodes, cluster defaults and the compute group loaded.

Node i (1-based) owns 172.16.x.y (its "real" address, shown in meta-data) and the loopback address
given by :func:`node_address`, which the load generator binds to. The inventory comes from a static
source (default) or from SMD tables seeded with SQL (``--inventory smd``, exercising SMD's loader).

    python bench/cloudinit/server.py --nodes 10000 --port 18081 --data-dir /tmp/ci-bench
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import tempfile
from pathlib import Path

from pychami.core.inventory import Interface, InventorySource, IPAddress, Node, static_source
from pychami.core.logs import configure_logging
from pychami.core.settings import load_settings
from pychami.server import create_app, run_http

TRUSTED_PROXY = "127.0.2.1"
CONFIG = Path(__file__).resolve().parents[2] / "tests" / "cloudinit" / "data" / "computes.yaml"


def node_address(i: int) -> str:
    """Loopback address of node ``i`` (1-based): 127.1.0.1, 127.1.0.2, ... 250 per /24."""
    return f"127.1.{(i - 1) // 250}.{(i - 1) % 250 + 1}"


def xname(i: int) -> str:
    return f"x{1000 + (i - 1) // 256}c0s{(i - 1) % 256 // 8}b{(i - 1) % 8}n0"


def nodes(count: int) -> list[Node]:
    return [
        Node(
            xname=xname(i),
            nid=i,
            role="Compute",
            interfaces=(
                Interface(
                    mac=f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}",
                    ips=(
                        IPAddress(f"172.16.{i // 250}.{i % 250 + 1}", "management"),
                        IPAddress(node_address(i)),
                    ),
                ),
            ),
            groups=("compute",),
        )
        for i in range(1, count + 1)
    ]


def seed_smd(db_url: str, items: list[Node]) -> None:
    """Write the nodes into SMD's tables (components, interfaces, addresses, group membership)."""
    import sqlalchemy as sa

    from pychami.core.db import Database
    from pychami.smd import tables as t

    db = Database.from_url(db_url)
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as conn:
        conn.execute(
            t.components.insert(),
            [
                {
                    "id": n.xname,
                    "type": "Node",
                    "state": "Ready",
                    "enabled": True,
                    "role": "Compute",
                    "nid": n.nid,
                }
                for n in items
            ],
        )
        conn.execute(
            t.ethernet_interfaces.insert(),
            [
                {
                    "id": n.macs[0].replace(":", ""),
                    "mac": n.macs[0],
                    "component_id": n.xname,
                    "last_update": now,
                }
                for n in items
            ],
        )
        conn.execute(
            t.interface_ips.insert(),
            [
                {
                    "interface_id": n.macs[0].replace(":", ""),
                    "ip": ip.address,
                    "network": ip.network,
                    "position": pos,
                }
                for n in items
                for pos, ip in enumerate(n.interfaces[0].ips)
            ],
        )
        conn.execute(t.groups.insert().values(label="compute", description="", tags=[], exclusive_group=""))
        conn.execute(t.group_members.insert(), [{"label": "compute", "component_id": n.xname} for n in items])
        assert conn.execute(sa.select(sa.func.count()).select_from(t.components)).scalar() == len(items)
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=18081)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--db", default=None, help="database URL (default SQLite in the data directory)")
    parser.add_argument("--inventory", choices=["static", "smd"], default="static")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="ci-bench-"))
    configure_logging("WARNING", "console")
    settings = load_settings(
        data_dir=data_dir,
        db=args.db,
        listen=f"127.0.0.1:{args.port}",
        advertise_url="http://172.16.0.254:8081",
        cloudinit={"trusted_proxies": [f"{TRUSTED_PROXY}/32"]},
    )
    items = nodes(args.nodes)
    source: InventorySource | None = None
    if args.inventory == "static":
        source = static_source(items, {"compute": tuple(n.xname for n in items)})
    app = create_app(settings, inventory_source=source)
    if args.inventory == "smd":
        seed_smd(settings.database_url, items)
    # Admin setup through the service, as the ochami CLI would through the API.
    from pychami.cloudinit.models import ClusterDefaults, GroupData

    service = app.state.ctx.registry["cloudinit"]
    service.set_defaults(
        ClusterDefaults.model_validate(
            {
                "base-url": "http://172.16.0.254:8081/cloud-init",
                "cluster-name": "demo",
                "nid-length": 5,
                "short-name": "nid",
                "public-keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests admin@demo"],
            }
        )
    )
    content = base64.b64encode(CONFIG.read_bytes()).decode()
    service.put_group(
        "compute",
        GroupData.model_validate(
            {
                "name": "compute",
                "description": "compute config",
                "file": {"content": content, "encoding": "base64"},
            }
        ),
    )
    run_http(app, settings)  # as `pychami serve` runs it (the node lane included)


if __name__ == "__main__":
    main()
