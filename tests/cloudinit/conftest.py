"""cloud-init fixtures: the scenario's five nodes, an app over a static inventory, a real uvicorn server.

Every node has its scenario address (172.16.0.N, first, so meta-data shows it) and a loopback address
127.0.1.N that test clients bind to, so each client acts as that node over real TCP.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from fastapi import FastAPI

from pychami.core.db import Database
from pychami.core.inventory import Interface, IPAddress, Node, static_source
from pychami.core.settings import load_settings
from pychami.server import create_app
from tests.conftest import issue

DATA = Path(__file__).parent / "data"
GOLDEN = Path(__file__).parent / "golden"
ADVERTISE = "http://172.16.0.254:8081"
TRUSTED_PROXY = "127.0.2.1"
UNTRUSTED_PEER = "127.0.3.1"
UNKNOWN_NODE = "127.0.1.99"


def loopback_of(nid: int) -> str:
    return f"127.0.1.{nid}"


def scenario_nodes(extra_ip: Callable[[int], str | None] = loopback_of) -> list[Node]:
    """The scenario's nodes.yaml as inventory nodes, all in group ``compute``."""
    doc = yaml.safe_load((DATA / "nodes.yaml").read_text())
    nodes = []
    for item in doc["nodes"]:
        ips = [IPAddress(a["ip_addr"], a["name"]) for i in item["interfaces"] for a in i["ip_addrs"]]
        extra = extra_ip(item["nid"])
        if extra:
            ips.append(IPAddress(extra, "test-loopback"))
        mac = item["interfaces"][0]["mac_addr"]
        nodes.append(
            Node(
                xname=item["xname"],
                nid=item["nid"],
                role="Compute",
                interfaces=(Interface(mac=mac, ips=tuple(ips)),),
                groups=(item["group"],),
            )
        )
    return nodes


def scenario_defaults() -> dict[str, Any]:
    """defaults.yaml as ochami sends it (YAML converted to JSON client-side)."""
    data: dict[str, Any] = yaml.safe_load((DATA / "defaults.yaml").read_text())
    return data


def compute_group() -> dict[str, Any]:
    """The compute group as `ochami cloud-init group set` sends it (config base64-encoded)."""
    content = base64.b64encode((DATA / "computes.yaml").read_bytes()).decode()
    return {
        "name": "compute",
        "description": "compute config",
        "file": {"content": content, "encoding": "base64"},
    }


def make_app(tmp_path: Path, db: Database, nodes: list[Node] | None = None, **cloudinit: Any) -> FastAPI:
    """An app whose inventory is ``nodes`` (default: the scenario), with cloud-init ``settings``."""
    nodes = scenario_nodes() if nodes is None else nodes
    groups: dict[str, list[str]] = {}
    for node in nodes:
        for label in node.groups:
            groups.setdefault(label, []).append(node.xname)
    settings = load_settings(
        data_dir=tmp_path / "data",
        db=str(db.engine.url.render_as_string(hide_password=False)),
        advertise_url=ADVERTISE,
        cloudinit={"trusted_proxies": [f"{TRUSTED_PROXY}/32"], **cloudinit},
    )
    return create_app(
        settings,
        db=db,
        migrate_schema=False,
        inventory_source=static_source(nodes, {k: tuple(v) for k, v in groups.items()}),
    )


@pytest.fixture
def ci_app(tmp_path: Path, db: Database) -> FastAPI:
    return make_app(tmp_path, db)


@dataclass
class LiveServer:
    """A real uvicorn server on 127.0.0.1 serving an app."""

    app: FastAPI
    url: str

    def admin(self, *scopes: str) -> httpx.Client:
        token = issue(self.app, *(scopes or ("admin",)))
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def node_client(self, source: str) -> httpx.Client:
        """A client whose TCP connections come from ``source`` (a loopback address)."""
        return httpx.Client(
            base_url=self.url + "/cloud-init",
            transport=httpx.HTTPTransport(local_address=source),
            timeout=10,
        )


@contextlib.contextmanager
def serve(app: Any, http: Any = "auto", lifespan: str = "on") -> Iterator[LiveServer]:
    """Run ``app`` under uvicorn in a thread on a free 127.0.0.1 port; stop it afterwards. ``http`` is
    uvicorn's protocol (a name or a class), ``lifespan`` "off" for a second server of the same app."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, access_log=False, proxy_headers=False, lifespan=lifespan, http=http
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield LiveServer(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture
def live(ci_app: FastAPI) -> Iterator[LiveServer]:
    """The scenario app on a real server, with the scenario's defaults and compute group loaded."""
    with serve(ci_app) as server, server.admin() as admin:
        assert admin.post("/cloud-init/admin/cluster-defaults", json=scenario_defaults()).status_code == 201
        assert admin.put("/cloud-init/admin/groups/compute", json=compute_group()).status_code == 201
        yield server
