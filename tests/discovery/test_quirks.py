"""Crawling recorded vendor Redfish trees (Dell iDRAC-, HPE iLO-like) and misbehaving hosts over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import httpx

from pychami.discovery.cache import Asset
from pychami.discovery.collect import CollectOptions, collect
from pychami.discovery.crawl import CrawlResult, crawl
from pychami.discovery.power import NodeTarget, power
from pychami.discovery.redfish import ClientOptions, Credentials, RedfishClient
from pychami.discovery.scan import ScanOptions, Target, scan
from tests.discovery.emulators import free_port
from tests.discovery.fakebmc import FakeBMC, load_tree, serving

CREDS = Credentials("admin", "pw")
FAST = ClientOptions(timeout=2.0, retries=1, backoff=0.01)


def crawl_bmc(bmc: FakeBMC, options: ClientOptions = FAST) -> CrawlResult:
    """Crawl a served fake BMC."""

    async def go() -> CrawlResult:
        async with RedfishClient(bmc.base_url, CREDS, options) as client:
            return await crawl(client)

    return asyncio.run(go())


def skipped(result: CrawlResult) -> list[tuple[str, str]]:
    """Skipped items as (uri, reason) pairs."""
    return [(s.uri, s.reason) for s in result.skipped]


def test_dell_idrac_tree_is_parsed_with_its_quirks() -> None:
    """Upper-case/dashed MACs are normalised, 0.0.0.0 means no IP, a MAC-less NIC and the GPU are left out."""
    with serving(FakeBMC("127.0.0.121", load_tree("dell_idrac"), auth=("admin", "pw"))) as bmc:
        result = crawl_bmc(bmc)
    (system,) = result.systems
    assert system.uuid == "4c4c4544-004d-3510-8058-b4c04f4a4d33"
    assert (system.manufacturer, system.model, system.power_state) == ("Dell Inc.", "PowerEdge R650", "On")
    assert [(n.mac, n.ip, n.enabled) for n in system.ethernet_interfaces] == [
        ("b0:7b:25:de:ad:01", "", True),
        ("b0:7b:25:de:ad:02", "", False),
    ]
    assert system.processor_count == 2
    assert [p["id"] for p in system.processors] == ["CPU.Socket.1", "CPU.Socket.2"]
    assert system.memory_total == 256.0
    assert sum(d["capacity_mib"] for d in system.memory) == 262144
    assert system.actions[:3] == ["On", "ForceOff", "ForceRestart"]
    assert system.reset_target == "/redfish/v1/Systems/System.Embedded.1/Actions/ComputerSystem.Reset"
    (manager,) = result.managers
    assert [(n.mac, n.ip) for n in manager.ethernet_interfaces] == [("b0:7b:25:aa:00:01", "172.16.0.101")]
    assert manager.actions == ["GracefulRestart"]
    nics = "/redfish/v1/Systems/System.Embedded.1/EthernetInterfaces"
    assert skipped(result) == [
        (f"{nics}/NIC.Integrated.1-1-1", "ethernet interface has no IPv4 address (kept without IP)"),
        (f"{nics}/NIC.Integrated.1-2-1", "ethernet interface has no IPv4 address (kept without IP)"),
        (f"{nics}/NIC.Slot.3-1-1", "ethernet interface without a usable MAC address"),
    ]


def test_hpe_ilo_tree_without_system_nics_and_with_action_info() -> None:
    """No system EthernetInterfaces, reset values only in @Redfish.ActionInfo, a DIMM answering 500."""
    tree = load_tree("hpe_ilo")
    with serving(FakeBMC("127.0.0.122", tree, auth=("admin", "pw"))) as bmc:
        result = crawl_bmc(bmc)
        dimm_requests = [r for r in bmc.requests if r[1] == "/redfish/v1/Systems/1/Memory/proc1dimm2/"]
    (system,) = result.systems
    assert system.ethernet_interfaces == []
    assert system.actions == ["On", "ForceOff", "GracefulShutdown", "ForceRestart", "Nmi", "PushPowerButton"]
    assert system.processors[0]["cores"] == 10  # sent as the string "10"
    assert system.memory_total == 64.0
    assert [d["id"] for d in system.memory] == ["proc1dimm1"]
    assert len(dimm_requests) == 2  # one retry of the 500
    (manager,) = result.managers
    assert [(n.mac, n.ip) for n in manager.ethernet_interfaces] == [("94:40:c9:ab:cd:ef", "172.16.0.102")]
    reasons = dict(skipped(result))
    assert reasons["/redfish/v1/Systems/1/"] == "system has no EthernetInterfaces"
    assert reasons["/redfish/v1/Systems/1/Memory/proc1dimm2/"].startswith("memory: GET")
    assert "HTTP 500" in reasons["/redfish/v1/Systems/1/Memory/proc1dimm2/"]
    no_mac = "ethernet interface without a usable MAC address"
    assert reasons["/redfish/v1/Managers/1/EthernetInterfaces/2/"] == no_mac


def test_session_login_is_used_when_the_bmc_offers_it() -> None:
    """With auth=session the client logs in, sends X-Auth-Token instead of basic auth, and logs out."""
    with serving(FakeBMC("127.0.0.123", load_tree("dell_idrac"), auth=("admin", "pw"), sessions=True)) as bmc:
        result = crawl_bmc(bmc, ClientOptions(timeout=2.0, retries=0, auth="session"))
        requests = list(bmc.requests)
        open_tokens = set(bmc.tokens)
    assert len(result.systems) == 1
    assert requests[:2] == [("GET", "/redfish/v1/"), ("POST", "/redfish/v1/SessionService/Sessions")]
    assert requests[-1] == ("DELETE", "/redfish/v1/SessionService/Sessions/tok0")
    assert open_tokens == set()


def test_session_mode_falls_back_to_basic_without_session_service() -> None:
    """A BMC without SessionService (like sushy) is read with basic auth in session mode."""
    tree = load_tree("dell_idrac")
    del tree["/redfish/v1/"]["SessionService"]
    with serving(FakeBMC("127.0.0.124", tree, auth=("admin", "pw"))) as bmc:
        result = crawl_bmc(bmc, ClientOptions(timeout=2.0, retries=0, auth="session"))
    assert result.systems[0].model == "PowerEdge R650"


class TimingTransport(httpx.AsyncBaseTransport):
    """Records when the client hands each request to the network."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.starts: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.starts.append(time.monotonic())
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_busy_bmc_is_retried_with_backoff_and_paced() -> None:
    """Two 503 answers are retried; with pacing, request starts to one BMC are at least the interval apart."""
    tree = load_tree("dell_idrac")
    bmc = FakeBMC("127.0.0.125", tree, auth=("admin", "pw"), fail_first={"/redfish/v1/Systems": 2})
    transport = TimingTransport()
    options = ClientOptions(timeout=2.0, retries=2, backoff=0.01, pacing=0.02)

    async def go() -> CrawlResult:
        async with RedfishClient(bmc.base_url, CREDS, options, transport=transport) as client:
            return await crawl(client)

    with serving(bmc):
        result = asyncio.run(go())
    assert len(result.systems) == 1
    assert [r for r in bmc.requests if r[1] == "/redfish/v1/Systems"] == [("GET", "/redfish/v1/Systems")] * 3
    gaps = [b - a for a, b in itertools.pairwise(transport.starts)]
    assert len(gaps) > 10
    assert min(gaps) >= 0.01  # unpaced requests follow each other within ~1 ms


def test_unreachable_slow_and_good_hosts_in_one_collection() -> None:
    """A refused port and a host that never answers fail with their own reason; the good BMC is collected."""
    dead_port = free_port(["127.0.0.126"])
    with (
        serving(FakeBMC("127.0.0.127", load_tree("dell_idrac"), auth=("admin", "pw"))) as good,
        serving(FakeBMC("127.0.0.128", load_tree("dell_idrac"), delay=3.0)) as slow,
    ):
        assets = [
            Asset("http://127.0.0.127", good.port),
            Asset("http://127.0.0.126", dead_port),
            Asset("http://127.0.0.128", slow.port),
        ]
        seen: list[tuple[str, bool]] = []
        report = asyncio.run(
            collect(
                assets,
                lambda _a, _b: CREDS,
                CollectOptions(client=ClientOptions(timeout=0.3, retries=0)),
                lambda a, ok: seen.append((a.address, ok)),
            )
        )
    assert [p["ID"] for p in report.payloads] == ["x4064c0s127b127"]
    assert report.payloads[0]["MACAddr"] == "b0:7b:25:aa:00:01"
    errors = {e.host: e.reason for e in report.errors}
    assert "cannot connect" in errors[f"http://127.0.0.126:{dead_port}"]
    assert "timed out" in errors[f"http://127.0.0.128:{slow.port}"]
    assert sorted(seen) == [("127.0.0.126", False), ("127.0.0.127", True), ("127.0.0.128", False)]


def test_scan_probe_rejects_a_host_that_accepts_tcp_but_never_answers() -> None:
    """TCP-open but silent hosts are dropped by the /redfish/v1/ probe's timeout; real Redfish is kept."""
    tree: dict[str, Any] = load_tree("hpe_ilo")
    with serving(FakeBMC("127.0.0.129", tree)) as good:
        port = good.port
        with serving(FakeBMC("127.0.0.130", tree, delay=3.0, port=port)):
            targets = [Target("http", "127.0.0.129", port), Target("http", "127.0.0.130", port)]
            probed = asyncio.run(scan(targets, ScanOptions(timeout=0.3)))
            unprobed = asyncio.run(scan(targets, ScanOptions(timeout=0.3, probe=False)))
    assert [a.host for a in probed] == ["http://127.0.0.129"]
    assert [a.host for a in unprobed] == ["http://127.0.0.129", "http://127.0.0.130"]


def test_paged_collections_are_followed() -> None:
    """Members@odata.nextLink pages are read; all NICs of a split collection are found."""
    tree = load_tree("dell_idrac")
    nics = "/redfish/v1/Systems/System.Embedded.1/EthernetInterfaces"
    members = tree[nics]["Members"]
    tree[nics] = {"@odata.id": nics, "Members": members[:1], "Members@odata.nextLink": f"{nics}?$skip=1"}
    tree[f"{nics}?$skip=1"] = {"@odata.id": nics, "Members": members[1:]}
    with serving(FakeBMC("127.0.0.133", tree, auth=("admin", "pw"), query_paths=True)) as bmc:
        result = crawl_bmc(bmc)
    assert [n.mac for n in result.systems[0].ethernet_interfaces] == [
        "b0:7b:25:de:ad:01",
        "b0:7b:25:de:ad:02",
    ]


def test_host_deadline_stops_a_bmc_that_is_slow_on_every_request() -> None:
    """Each answer is within the request timeout, but the BMC exceeds --host-timeout: one clear error."""
    with serving(FakeBMC("127.0.0.134", load_tree("dell_idrac"), delay=0.2)) as bmc:
        options = CollectOptions(client=ClientOptions(timeout=2.0, retries=0), host_timeout=0.5)
        report = asyncio.run(
            collect([Asset(f"http://{bmc.address}", bmc.port)], lambda _a, _b: None, options)
        )
    assert report.payloads == []
    assert [(e.host, e.reason) for e in report.errors] == [(bmc.base_url, "gave up after 0.5 s")]


def test_a_reset_that_times_out_is_not_sent_again() -> None:
    """A POST whose answer is late may have been acted on: it is reported, never retried."""
    with serving(FakeBMC("127.0.0.135", load_tree("dell_idrac"), delay=1.0)) as bmc:
        system = "/redfish/v1/Systems/System.Embedded.1"
        node = NodeTarget(
            "x1c0s0b0n0", "x1c0s0b0", bmc.base_url, system, f"{system}/Actions/ComputerSystem.Reset"
        )
        options = ClientOptions(timeout=0.3, retries=2, backoff=0.01)
        (result,) = asyncio.run(power([node], "ForceRestart", lambda _n: None, options))
        posts = [r for r in bmc.requests if r[0] == "POST"]
    assert not result.ok
    assert "timed out" in result.error
    assert len(posts) == 1
