"""Find BMCs: TCP-connect every host:port, then probe ``/redfish/v1/`` on the ones that answered.

Targets come from explicit hosts (``10.0.0.5``, ``10.0.0.5:8443``, ``https://bmc1:443``) and subnets
(``10.0.0.0/24``, or ``10.0.0.0`` with ``--subnet-mask``). Every address of a subnet is scanned, network
and broadcast included, as upstream does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from pychami.core.errors import BadRequest
from pychami.discovery.cache import Asset, now
from pychami.discovery.redfish import ClientOptions

DEFAULT_PORT = 443
MAX_SUBNET_ADDRESSES = 1 << 20


@dataclass(frozen=True)
class Target:
    """One scheme://host:port to try."""

    scheme: str
    host: str
    port: int


def _split_host(raw: str, scheme: str) -> tuple[str, str, int | None]:
    """``[scheme://]host[:port]`` -> (scheme, host, port or None)."""
    text = raw.strip()
    if "://" not in text:
        text = f"{scheme}://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise BadRequest(f"invalid host {raw!r}: {exc}") from exc
    if not parts.hostname:
        raise BadRequest(f"invalid host {raw!r}")
    return parts.scheme, parts.hostname, port


def subnet_addresses(subnet: str, mask: str | None) -> list[str]:
    """All addresses of ``subnet`` (CIDR, or an address plus ``mask`` like ``255.255.255.0``)."""
    text = subnet.strip()
    if "/" not in text:
        text = f"{text}/{mask or '255.255.255.0'}"
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        raise BadRequest(f"invalid subnet {subnet!r}: {exc}") from exc
    if net.num_addresses > MAX_SUBNET_ADDRESSES:
        raise BadRequest(
            f"subnet {subnet} has {net.num_addresses} addresses; split it (limit {MAX_SUBNET_ADDRESSES})"
        )
    return [str(ip) for ip in net]


def build_targets(
    hosts: Sequence[str],
    subnets: Sequence[str],
    subnet_mask: str | None,
    ports: Sequence[int],
    scheme: str,
) -> list[Target]:
    """Every target, deduplicated, in input order. ``ports`` replaces the default 443 when given."""
    default_ports = list(ports) or [DEFAULT_PORT]
    seen: set[Target] = set()
    out: list[Target] = []

    def add(t: Target) -> None:
        if t not in seen:
            seen.add(t)
            out.append(t)

    for raw in hosts:
        sch, host, port = _split_host(raw, scheme)
        for p in [port] if port is not None else default_ports:
            add(Target(sch, host, p))
    for subnet in subnets:
        for addr in subnet_addresses(subnet, subnet_mask):
            for p in default_ports:
                add(Target(scheme, addr, p))
    return out


@dataclass(frozen=True)
class ScanOptions:
    """How to scan."""

    concurrency: int = 1000
    timeout: float = 5.0
    probe: bool = True
    protocol: str = "tcp"
    client: ClientOptions = field(default_factory=ClientOptions)


async def _tcp_open(host: str, port: int, timeout: float) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _probe(http: httpx.AsyncClient, target: Target) -> bool:
    """True when ``/redfish/v1/`` answers with a Redfish service root."""
    url = f"{target.scheme}://{_host_for_url(target.host)}:{target.port}/redfish/v1/"
    try:
        resp = await http.get(url)
    except httpx.HTTPError:
        return False
    if resp.status_code != 200:
        return False
    try:
        body = resp.json()
    except ValueError:
        return False
    return isinstance(body, dict) and ("RedfishVersion" in body or "@odata.id" in body)


def _host_for_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def scan(
    targets: Iterable[Target],
    options: ScanOptions,
    on_done: Callable[[Target, bool], None] | None = None,
) -> list[Asset]:
    """Scan every target with at most ``options.concurrency`` in flight; returns the assets found."""
    sem = asyncio.Semaphore(max(1, options.concurrency))
    found: list[tuple[int, Asset]] = []
    client_opts = options.client
    limits = httpx.Limits(max_connections=max(1, options.concurrency), max_keepalive_connections=0)
    async with httpx.AsyncClient(
        verify=client_opts.verify(), timeout=httpx.Timeout(options.timeout), limits=limits
    ) as http:

        async def one(index: int, target: Target) -> None:
            async with sem:
                # A UDP "connect" always succeeds (as upstream's net.Dial("udp")), so only the probe decides.
                ok = options.protocol == "udp" or await _tcp_open(target.host, target.port, options.timeout)
                if ok and options.probe:
                    ok = await _probe(http, target)
            if ok:
                found.append(
                    (
                        index,
                        Asset(f"{target.scheme}://{target.host}", target.port, options.protocol, True, now()),
                    )
                )
            if on_done is not None:
                on_done(target, ok)

        await asyncio.gather(*(one(i, t) for i, t in enumerate(targets)))
    return [asset for _, asset in sorted(found, key=lambda pair: pair[0])]
