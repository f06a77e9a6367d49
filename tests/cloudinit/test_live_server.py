"""Node-facing routes over real TCP: a uvicorn server on 127.0.0.1 and clients bound to 127.0.1.N,
each acting as the scenario node with that address."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
import yaml

from pychami.cloudinit import documents
from pychami.core.db import Database
from tests.cloudinit.conftest import (
    TRUSTED_PROXY,
    UNKNOWN_NODE,
    UNTRUSTED_PEER,
    LiveServer,
    compute_group,
    loopback_of,
    make_app,
    scenario_defaults,
    serve,
)

XNAMES = {n: f"x1000c0s0b{n - 1}n0" for n in range(1, 6)}


def test_each_node_gets_its_own_documents(live: LiveServer) -> None:
    """Five clients from five addresses get five different meta-data, each naming its own node."""
    for nid, xname in XNAMES.items():
        with live.node_client(loopback_of(nid)) as node:
            resp = node.get("/meta-data")
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "application/x-yaml"
            md = yaml.safe_load(resp.text)
            assert md["hostname"] == f"nid{nid:03d}"
            assert md["instance-id"] == documents.stable_instance_id(xname)
            assert md["instance_data"]["v1"]["local_ipv4"] == f"172.16.0.{nid}"
            vd = node.get("/vendor-data")
            assert vd.text == "#include\nhttp://172.16.0.254:8081/cloud-init/compute.yaml\n"
            assert vd.headers["content-type"] == "text/plain; charset=utf-8"
            assert node.get("/user-data").text == "#cloud-config"
            group = node.get("/compute.yaml")
            assert group.status_code == 200
            assert group.text.startswith("## template: jinja\n#cloud-config\n")


def test_unknown_address_gets_422(live: LiveServer) -> None:
    """An address no node has gets an empty 422 for meta-data, vendor-data and group configs."""
    with live.node_client(UNKNOWN_NODE) as stranger:
        for path in ("/meta-data", "/vendor-data", "/compute.yaml"):
            resp = stranger.get(path)
            assert resp.status_code == 422
            assert resp.content == b""
        assert stranger.get("/user-data").status_code == 200
        assert stranger.post("/phone-home/i-1", data={"hostname": "x"}).status_code == 422


def test_node_sees_only_groups_it_belongs_to(live: LiveServer) -> None:
    """A node outside a group gets 404 for that group's config even when the group exists."""
    with live.admin() as admin:
        body = {
            "name": "secret",
            "file": {"content": "#cloud-config\nwrite_files: []\n", "encoding": "plain"},
        }
        assert admin.post("/cloud-init/admin/groups", json=body).status_code == 201
    with live.node_client(loopback_of(1)) as node:
        resp = node.get("/secret.yaml")
        assert resp.status_code == 404
        assert resp.json()["detail"] == "Group not found"
        assert node.get("/nonexistent.yaml").status_code == 404


def test_forwarded_for_only_from_trusted_proxy(live: LiveServer) -> None:
    """The trusted proxy may speak for node 2; an untrusted peer claiming node 2 is refused; a node
    sending the header for another node still gets its own data."""
    header = {"X-Forwarded-For": "172.16.0.2"}
    with live.node_client(TRUSTED_PROXY) as proxy:
        md = yaml.safe_load(proxy.get("/meta-data", headers=header).text)
        assert md["hostname"] == "nid002"
        assert proxy.get("/meta-data").status_code == 422
        assert proxy.get("/meta-data", headers={"X-Forwarded-For": "bogus"}).status_code == 422
    with live.node_client(UNTRUSTED_PEER) as liar:
        assert liar.get("/meta-data", headers=header).status_code == 422
    with live.node_client(loopback_of(3)) as node3:
        md = yaml.safe_load(node3.get("/meta-data", headers=header).text)
        assert md["hostname"] == "nid003"


def test_admin_writes_reach_nodes_at_once(live: LiveServer) -> None:
    """A change made through the admin API is served to the node on its next request (cache invalidated)."""
    with live.node_client(loopback_of(4)) as node, live.admin() as admin:
        assert yaml.safe_load(node.get("/meta-data").text)["local-hostname"] == "nid004"
        resp = admin.put("/cloud-init/admin/instance-info/x1000c0s0b3n0", json={"local-hostname": "compute4"})
        assert resp.status_code == 201
        assert yaml.safe_load(node.get("/meta-data").text)["local-hostname"] == "compute4"
        admin.post("/cloud-init/admin/cluster-defaults", json={"base-url": "http://10.1.1.1/ci"})
        assert node.get("/vendor-data").text == "#include\nhttp://10.1.1.1/ci/compute.yaml\n"


def test_phone_home_records_host_keys_and_done_event(live: LiveServer) -> None:
    """phone-home stores the node's host keys (readable by the admin) and a `cloud-init done` event."""
    form = {
        "pub_key_rsa": "ssh-rsa AAAARSA root@nid005",
        "pub_key_ecdsa": "ecdsa-sha2-nistp256 AAAAEC root@nid005",
        "pub_key_ed25519": "ssh-ed25519 AAAAED root@nid005",
        "instance_id": documents.stable_instance_id(XNAMES[5]),
        "hostname": "nid005",
        "fqdn": "nid005.demo.openchami.cluster",
    }
    with live.node_client(loopback_of(5)) as node:
        assert node.get("/meta-data").status_code == 200
        resp = node.post(f"/phone-home/{form['instance_id']}/", data=form)
        assert resp.status_code == 200
    with live.admin("cloud-init:read") as admin:
        keys = admin.get(f"/cloud-init/admin/phone-home/{XNAMES[5]}").json()
    assert keys["pub_key_ed25519"] == form["pub_key_ed25519"]
    assert keys["fqdn"] == form["fqdn"]
    assert keys["ip"] == loopback_of(5)
    timeline = live.app.state.ctx.events.timeline(xname=XNAMES[5])
    stages = [e.stage for e in timeline]
    assert stages == ["cloud-init meta-data", "cloud-init done"]
    done = timeline[-1]
    assert done.mac == "52:54:00:be:ef:05"
    assert done.detail is not None
    assert done.detail["hostname"] == "nid005"
    assert done.detail["host_keys"] == ["rsa", "ecdsa", "ed25519"]


def test_phone_homes_arriving_together_are_all_stored(live: LiveServer) -> None:
    """Phone-homes sent at once (committed together by the group-commit writer) are each answered only
    once stored: every node's keys are readable as soon as its answer has come."""
    answers: dict[int, int] = {}

    def phone(nid: int) -> None:
        form = {"pub_key_ed25519": f"ssh-ed25519 AAAA{nid}", "hostname": f"nid{nid:03d}"}
        with live.node_client(loopback_of(nid)) as node:
            for _ in range(3):  # a node that phones home again: its last keys win
                answers[nid] = node.post(f"/phone-home/i-{nid}", data=form).status_code

    threads = [threading.Thread(target=phone, args=(nid,)) for nid in XNAMES]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert answers == dict.fromkeys(XNAMES, 200)
    with live.admin("cloud-init:read") as admin:
        for nid, xname in XNAMES.items():
            keys = admin.get(f"/cloud-init/admin/phone-home/{xname}").json()
            assert keys["pub_key_ed25519"] == f"ssh-ed25519 AAAA{nid}"
            assert keys["ip"] == loopback_of(nid)
    done = [e for e in live.app.state.ctx.events.timeline() if e.stage == "cloud-init done"]
    assert len(done) == 3 * len(XNAMES)


def test_warm_node_requests_run_no_database_query(tmp_path: Path, db: Database) -> None:
    """Once the caches are warm, node-facing requests are answered from memory: no SELECT at all
    (a long cache TTL here, so that a periodic re-check cannot fall inside the measured window)."""
    with serve(make_app(tmp_path, db, cache_ttl=300)) as live, live.admin() as admin:
        assert admin.post("/cloud-init/admin/cluster-defaults", json=scenario_defaults()).status_code == 201
        assert admin.put("/cloud-init/admin/groups/compute", json=compute_group()).status_code == 201
        _count_selects(live)


def _count_selects(live: LiveServer) -> None:
    engine = live.app.state.ctx.db.engine
    selects: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    with live.node_client(loopback_of(1)) as warmup:
        assert warmup.get("/meta-data").status_code == 200
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for nid in XNAMES:
            with live.node_client(loopback_of(nid)) as node:
                for path in ("/meta-data", "/vendor-data", "/compute.yaml", "/user-data"):
                    assert node.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert selects == []
