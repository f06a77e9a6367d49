"""``pychami serve --workers N``: real server processes sharing one port and one database."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import MessageType
from tests.live import Server, pychami_server

MAC = "52:54:00:aa:00:01"
XNAME = "x1000c0s0b0n0"
TTL = 0.5


def children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def connection_inodes(port: int) -> set[str]:
    """Inodes of the server ends of established TCP connections to ``port`` on this host."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(fields[9])
    return inodes


def get_once(base: str, path: str) -> httpx.Response:
    """One request on a new connection (so the kernel picks a worker for it)."""
    with httpx.Client(base_url=base, timeout=10) as client:
        return client.get(path)


def add_node(server: Server, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    components = {"Components": [{"ID": XNAME, "Type": "Node", "State": "Ready", "Enabled": True, "NID": 1}]}
    r = httpx.post(f"{server.base}/hsm/v2/State/Components", json=components, headers=auth)
    assert r.status_code < 300, r.text
    iface = {"MACAddress": MAC, "ComponentID": XNAME, "IPAddresses": [{"IPAddress": "127.0.0.1"}]}
    r = httpx.post(f"{server.base}/hsm/v2/Inventory/EthernetInterfaces", json=iface, headers=auth)
    assert r.status_code < 300, r.text


def set_kernel(server: Server, token: str, kernel: str) -> None:
    body = {"macs": [MAC], "kernel": kernel, "initrd": "http://files/initrd", "params": "console=ttyS0"}
    auth = {"Authorization": f"Bearer {token}"}
    r = httpx.put(f"{server.base}/boot/v1/bootparameters", json=body, headers=auth)
    if r.status_code == 404:  # first time: nothing to replace yet
        r = httpx.post(f"{server.base}/boot/v1/bootparameters", json=body, headers=auth)
    assert r.status_code < 300, r.text


def every_worker_answers(server: Server, path: str, needle: str, timeout: float) -> float:
    """Seconds until 24 new connections in a row all see ``needle`` (fails after ``timeout``)."""
    start = time.monotonic()
    streak = 0
    while streak < 24:
        assert time.monotonic() - start < timeout, f"{needle!r} not served by every worker"
        r = get_once(server.base, path)
        streak = streak + 1 if r.status_code == 200 and needle in r.text else 0
        if not streak:
            time.sleep(0.05)
    return time.monotonic() - start


@pytest.fixture
def workers(tmp_path: Path, db_url: str) -> Iterator[Server]:
    config = tmp_path / "pychami.yaml"
    config.write_text(
        f"workers: 2\nbss: {{cache_ttl: {TTL}, inventory_ttl: {TTL}}}\ncloudinit: {{cache_ttl: {TTL}}}\n"
    )
    data = tmp_path / "data"
    with pychami_server(data, db=db_url, extra=["--config", str(config)]) as server:
        yield server


def test_connections_are_spread_over_the_worker_processes(workers: Server) -> None:
    """With workers: 2 the supervisor has two child processes and both accept connections."""
    kids = children(workers.pid)
    assert len(kids) == 2
    port = int(workers.base.rsplit(":", 1)[1])
    conns = []
    try:
        for _ in range(32):
            conn = socket.create_connection(("127.0.0.1", port), timeout=10)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert conn.recv(4096).startswith(b"HTTP/1.1 200")
            conns.append(conn)  # kept open: the accepting worker still holds its end
        established = connection_inodes(port)
        held = {pid: len(socket_inodes(pid) & established) for pid in kids}
    finally:
        for conn in conns:
            conn.close()
    assert sum(held.values()) == 32
    assert all(count > 0 for count in held.values()), held


def test_a_write_reaches_every_worker_within_the_cache_ttl(workers: Server) -> None:
    """A boot-parameter change made through one worker is served by all of them a few TTLs later."""
    token = workers.token()
    add_node(workers, token)
    set_kernel(workers, token, "http://files/kernel-one")
    path = f"/boot/v1/bootscript?mac={MAC}"
    every_worker_answers(workers, path, "kernel-one", timeout=20)
    set_kernel(workers, token, "http://files/kernel-two")
    seconds = every_worker_answers(workers, path, "kernel-two", timeout=20)
    assert seconds < 10 * TTL + 5  # bounded by the TTL, not by a restart
    assert "kernel-one" not in get_once(workers.base, path).text


def test_cloud_init_defaults_reach_every_worker(workers: Server) -> None:
    """A cluster-defaults write through one worker shows in every worker's meta-data."""
    token = workers.token()
    add_node(workers, token)
    auth = {"Authorization": f"Bearer {token}"}
    for name in ("alpha", "beta"):
        r = httpx.post(
            f"{workers.base}/cloud-init/admin/cluster-defaults",
            json={"cluster-name": name, "short-name": "nid", "nid-length": 3},
            headers=auth,
        )
        assert r.status_code < 300, r.text
        every_worker_answers(workers, "/cloud-init/meta-data", f"cluster-name: {name}", timeout=20)


def test_after_idle_every_workers_first_answer_is_current(workers: Server) -> None:
    """A worker that nobody asked for a while does not answer its first request from a cache older than
    two TTLs (stale-while-revalidate would serve it once, e.g. a node booting the previous kernel)."""
    token = workers.token()
    add_node(workers, token)
    auth = {"Authorization": f"Bearer {token}"}
    set_kernel(workers, token, "http://files/kernel-one")
    every_worker_answers(workers, f"/boot/v1/bootscript?mac={MAC}", "kernel-one", timeout=20)
    every_worker_answers(workers, "/cloud-init/meta-data", "cluster-name", timeout=20)
    set_kernel(workers, token, "http://files/kernel-two")  # through one worker: the other is stale
    defaults = {"cluster-name": "after-idle", "short-name": "nid", "nid-length": 3}
    r = httpx.post(f"{workers.base}/cloud-init/admin/cluster-defaults", json=defaults, headers=auth)
    assert r.status_code < 300, r.text
    time.sleep(4 * TTL)  # no request: no background refresh either
    scripts = [get_once(workers.base, f"/boot/v1/bootscript?mac={MAC}").text for _ in range(16)]
    metas = [get_once(workers.base, "/cloud-init/meta-data").text for _ in range(16)]
    assert all("kernel-two" in s for s in scripts), [s for s in scripts if "kernel-two" not in s][:1]
    assert all("cluster-name: after-idle" in m for m in metas)


def count_events(db_url: str, data: Path) -> int:
    if db_url.startswith("sqlite"):
        with sqlite3.connect(db_url.removeprefix("sqlite:///")) as conn:
            return int(conn.execute("SELECT count(*) FROM boot_events WHERE source = 'bss'").fetchone()[0])
    del data
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    query = sa.text("SELECT count(*) FROM boot_events WHERE source = 'bss'")
    try:
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def test_boot_events_of_every_worker_are_stored(tmp_path: Path, db_url: str) -> None:
    """Each worker buffers its own boot events; after SIGTERM every one of them is in the database."""
    data = tmp_path / "data"
    with pychami_server(data, db=db_url, extra=["--workers", "2"]) as server:
        token = server.token()
        add_node(server, token)
        set_kernel(server, token, "http://files/kernel")
        before = count_events(db_url, data)
        for _ in range(60):
            assert get_once(server.base, f"/boot/v1/bootscript?mac={MAC}").status_code == 200
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
    assert count_events(db_url, data) - before == 60


def test_when_a_worker_dies_the_server_stops(tmp_path: Path) -> None:
    """A killed worker takes the whole server down (exit status 1) instead of serving half a port."""
    with pychami_server(tmp_path / "data", extra=["--workers", "2"]) as server:
        first, second = children(server.pid)
        os.kill(first, signal.SIGKILL)
        assert server.proc.wait(timeout=30) == 1
        assert not Path(f"/proc/{second}").exists() or "Z" in Path(f"/proc/{second}/stat").read_text()


def udp_inodes(port: int) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            inodes.add(fields[9])
    return inodes


def listening_inodes(port: int) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(fields[9])
    return inodes


def test_dhcp_runs_in_its_own_process_next_to_the_http_workers(tmp_path: Path) -> None:
    """With workers: 2 and netboot interfaces, a third child answers DHCP and holds no HTTP socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        dhcp_port = probe.getsockname()[1]
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(("127.0.0.1", 0))
    client.settimeout(10)
    config = tmp_path / "pychami.yaml"
    netboot = (
        f"{{interfaces: [lo], server_ip: 127.0.0.1, subnets: [127.0.0.0/8], dhcp_port: {dhcp_port}, "
        f"client_port: {client.getsockname()[1]}, tftp: false}}"
    )
    config.write_text(f"workers: 2\nnetboot: {netboot}\n")
    try:
        with pychami_server(tmp_path / "data", extra=["--config", str(config)]) as server:
            kids = children(server.pid)
            assert len(kids) == 3
            inform = codec.DhcpPacket(
                xid=9,
                ciaddr="127.0.0.1",
                chaddr=bytes.fromhex(MAC.replace(":", "")) + bytes(10),
                options=[(codec.OPT_MESSAGE_TYPE, bytes((MessageType.INFORM,)))],
            )
            deadline = time.monotonic() + 20
            while not udp_inodes(dhcp_port) and time.monotonic() < deadline:
                time.sleep(0.1)
            client.sendto(codec.encode(inform), ("127.0.0.1", dhcp_port))
            ack = codec.decode(client.recv(2048))
            assert ack.message_type is MessageType.ACK
            http_port = int(server.base.rsplit(":", 1)[1])
            dhcp_holders = [pid for pid in kids if socket_inodes(pid) & udp_inodes(dhcp_port)]
            http_holders = [pid for pid in kids if socket_inodes(pid) & listening_inodes(http_port)]
            assert len(dhcp_holders) == 1
            assert len(http_holders) == 2
            assert dhcp_holders[0] not in http_holders
    finally:
        client.close()
