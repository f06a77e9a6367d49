"""Crawl many BMCs at once and turn each into a RedfishEndpoint V2 payload for SMD (spec §1.6, §6).

The BMC ID is taken from a ``--bmc-id-map`` or, as upstream, generated from the BMC's IPv4 address.
One BMC failing (unreachable, slow, wrong credentials) never stops the others: its error is reported in
``CollectReport.errors`` and the rest is collected.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pychami.core.errors import BadRequest
from pychami.discovery.cache import Asset
from pychami.discovery.crawl import CrawlResult, Skipped, crawl
from pychami.discovery.redfish import ClientOptions, Credentials, RedfishClient, RedfishError

CredentialLookup = Callable[[Asset, str], Credentials | None]


def xname_from_ip(address: str) -> str:
    """Upstream magellan's BMC xname for an IPv4 address.

    ``x{(ip>>19)&0x1FFF}c{(ip>>16)&7}s{(ip>>24)&0xFF}b{ip&0xFF}`` with ``ip`` the address as a 32-bit integer.
    """
    try:
        ip = int(ipaddress.IPv4Address(address))
    except ValueError as exc:
        raise BadRequest(
            f"cannot derive an xname from {address!r}: not an IPv4 address (use --bmc-id-map)"
        ) from exc
    return f"x{(ip >> 19) & 0x1FFF}c{(ip >> 16) & 0x7}s{(ip >> 24) & 0xFF}b{ip & 0xFF}"


def parse_id_map(text: str) -> dict[str, str]:
    """A BMC ID map from JSON, or ``@file`` (JSON or YAML): ``{"<ip or host>": "<xname>"}``.

    Upstream's wrapped form ``{"map": {...}}`` is accepted too.
    """
    raw = text
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            raw = path.read_text()
        except OSError as exc:
            raise BadRequest(f"cannot read BMC ID map {path}: {exc.strerror}") from exc
    try:
        data: Any = json.loads(raw)
    except ValueError:
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise BadRequest(f"BMC ID map is neither JSON nor YAML: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("map"), dict):
        data = data["map"]
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise BadRequest('BMC ID map must be an object {"<ip or host>": "<xname>"}')
    return {str(k): str(v) for k, v in data.items()}


def bmc_id(asset: Asset, id_map: Mapping[str, str]) -> str:
    """The BMC's ID: from the map (by address, scheme://address or base URL), else from its IP."""
    for key in (asset.address, asset.host, asset.base_url, f"{asset.address}:{asset.port}"):
        if key in id_map:
            return id_map[key]
    return xname_from_ip(asset.address)


def build_payload(bmc: str, asset: Asset, creds: Credentials | None, result: CrawlResult) -> dict[str, Any]:
    """The RedfishEndpoint V2 body SMD takes (upstream ``collect`` output)."""
    bmc_mac = ""
    for manager in result.managers:
        for nic in manager.ethernet_interfaces:
            if nic.mac:
                bmc_mac = nic.mac
                break
        if bmc_mac:
            break
    payload: dict[str, Any] = {
        "ID": bmc,
        "Type": "",
        "Name": "",
        "FQDN": asset.address,
        "IPAddress": asset.address,
        "User": creds.username if creds else "",
        "MACRequired": True,
        "RediscoverOnUpdate": False,
        "Systems": [s.to_dict() for s in result.systems],
        "Managers": [m.to_dict() for m in result.managers],
        "SchemaVersion": 1,
    }
    # As ochami, the endpoint's UUID is its manager's; the service root UUID is a fallback (emulators and
    # some firmware give every BMC the same root UUID).
    uuid = next((m.uuid for m in result.managers if m.uuid), "") or result.uuid
    if uuid:
        payload["UUID"] = uuid
    if bmc_mac:
        payload["MACAddr"] = bmc_mac
    return payload


@dataclass
class HostError:
    """A BMC that could not be collected."""

    host: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"host": self.host, "error": self.reason}


@dataclass
class CollectReport:
    """The payloads collected, plus what was skipped and which BMCs failed."""

    payloads: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, Skipped]] = field(default_factory=list)
    errors: list[HostError] = field(default_factory=list)


@dataclass(frozen=True)
class CollectOptions:
    """How to collect."""

    concurrency: int = 64
    client: ClientOptions = field(default_factory=ClientOptions)
    id_map: Mapping[str, str] = field(default_factory=dict)
    host_timeout: float | None = None  # whole-BMC deadline; per-request timeouts are in ``client``


async def collect_one(
    asset: Asset, bmc: str, creds: Credentials | None, options: ClientOptions
) -> tuple[dict[str, Any], CrawlResult]:
    """Crawl one BMC and build its payload."""
    async with RedfishClient(asset.base_url, creds, options) as client:
        result = await crawl(client)
    return build_payload(bmc, asset, creds, result), result


async def collect(
    assets: Sequence[Asset],
    credentials: CredentialLookup,
    options: CollectOptions,
    on_done: Callable[[Asset, bool], None] | None = None,
) -> CollectReport:
    """Collect every asset, at most ``options.concurrency`` BMCs at a time; payloads keep input order."""
    report = CollectReport()
    sem = asyncio.Semaphore(max(1, options.concurrency))
    results: list[dict[str, Any] | None] = [None] * len(assets)

    async def one(index: int, asset: Asset) -> None:
        ok = False
        async with sem:
            try:
                bmc = bmc_id(asset, options.id_map)
                work = collect_one(asset, bmc, credentials(asset, bmc), options.client)
                payload, result = await asyncio.wait_for(work, options.host_timeout)
            except TimeoutError:
                report.errors.append(HostError(asset.base_url, f"gave up after {options.host_timeout:g} s"))
            except RedfishError as exc:
                report.errors.append(HostError(asset.base_url, exc.reason))
            except BadRequest as exc:
                report.errors.append(HostError(asset.base_url, exc.detail))
            else:
                results[index] = payload
                report.skipped.extend((asset.base_url, skip) for skip in result.skipped)
                ok = True
        if on_done is not None:
            on_done(asset, ok)

    await asyncio.gather(*(one(i, a) for i, a in enumerate(assets)))
    report.payloads = [p for p in results if p is not None]
    return report
