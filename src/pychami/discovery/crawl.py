"""Walk one BMC's Redfish tree: the service root, its Systems and its Managers.

Optional parts that are missing or broken (no EthernetInterfaces, a Processors collection that answers
501, a NIC without an address) never stop the crawl; each one is recorded in ``CrawlResult.skipped`` with
the URI and the reason, so the caller can report it. Only an unreadable service root or Systems collection
fails the BMC, because then there is nothing to report at all.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pychami.discovery.redfish import RedfishAuthError, RedfishClient, RedfishError
from pychami.discovery.resources import (
    ActionInfo,
    Collection,
    ComputerSystem,
    EthernetInterface,
    Manager,
    Memory,
    Processor,
    Resource,
    ServiceRoot,
)

R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class Skipped:
    """An optional resource that was left out, and why."""

    uri: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON form."""
        return {"uri": self.uri, "reason": self.reason}


@dataclass
class NicInfo:
    """An ethernet interface of a system or a manager (keys as upstream magellan)."""

    uri: str
    mac: str
    ip: str
    name: str
    description: str
    enabled: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON form with upstream's lowercase keys."""
        return {
            "uri": self.uri,
            "mac": self.mac,
            "ip": self.ip,
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
        }


@dataclass
class SystemInfo:
    """What magellan reports about one ComputerSystem (upstream's ``InventoryDetail``)."""

    uri: str
    uuid: str
    name: str
    manufacturer: str = ""
    model: str = ""
    serial: str = ""
    bios_version: str = ""
    system_type: str = ""
    power_state: str = ""
    processor_count: int = 0
    processor_type: str = ""
    memory_total: float = 0.0
    ethernet_interfaces: list[NicInfo] = field(default_factory=list)
    processors: list[dict[str, Any]] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    reset_target: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form with upstream's lowercase keys (what SMD's V2 parser reads)."""
        return {
            "uri": self.uri,
            "uuid": self.uuid,
            "name": self.name,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "serial": self.serial,
            "bios_version": self.bios_version,
            "system_type": self.system_type,
            "power_state": self.power_state,
            "processor_count": self.processor_count,
            "processor_type": self.processor_type,
            "memory_total": self.memory_total,
            "ethernet_interfaces": [nic.to_dict() for nic in self.ethernet_interfaces],
            "processors": self.processors,
            "memory": self.memory,
            "actions": self.actions,
            "reset_target": self.reset_target,
        }


@dataclass
class ManagerInfo:
    """What magellan reports about one Manager (the BMC itself)."""

    uri: str
    uuid: str
    name: str
    type: str
    description: str
    firmware_version: str = ""
    ethernet_interfaces: list[NicInfo] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form with upstream's lowercase keys."""
        return {
            "uri": self.uri,
            "uuid": self.uuid,
            "name": self.name,
            "type": self.type,
            "description": self.description,
            "firmware_version": self.firmware_version,
            "ethernet_interfaces": [nic.to_dict() for nic in self.ethernet_interfaces],
            "actions": self.actions,
        }


@dataclass
class CrawlResult:
    """Everything read from one BMC."""

    base_url: str
    uuid: str = ""
    redfish_version: str = ""
    systems: list[SystemInfo] = field(default_factory=list)
    managers: list[ManagerInfo] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the ``crawl`` command's output)."""
        return {
            "uri": self.base_url,
            "uuid": self.uuid,
            "redfish_version": self.redfish_version,
            "systems": [s.to_dict() for s in self.systems],
            "managers": [m.to_dict() for m in self.managers],
            "skipped": [s.to_dict() for s in self.skipped],
        }


class Crawler:
    """Reads one BMC through a connected ``RedfishClient``."""

    def __init__(self, client: RedfishClient) -> None:
        self.client = client
        self.result = CrawlResult(base_url=client.base_url)

    def _skip(self, uri: str, reason: str) -> None:
        self.result.skipped.append(Skipped(uri, reason))

    async def _fetch(self, model: type[R], uri: str) -> R:
        body = await self.client.get(uri)
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise RedfishError(
                self.client.base_url, f"GET {uri}: unexpected {where}: {first['msg']}"
            ) from exc

    async def _optional(self, model: type[R], uri: str, what: str) -> R | None:
        """Fetch an optional resource; a failure is recorded as skipped, except bad credentials."""
        try:
            return await self._fetch(model, uri)
        except RedfishAuthError:
            raise
        except RedfishError as exc:
            self._skip(uri, f"{what}: {exc.reason}")
            return None

    async def _members(self, model: type[R], uri: str, what: str) -> list[R]:
        """Every member of an optional collection; unreadable members are skipped and reported."""
        links = await self._member_links(uri, f"{what} collection", optional=True)
        found = await asyncio.gather(*(self._optional(model, link, what) for link in links))
        return [item for item in found if item is not None]

    async def _member_links(self, uri: str, what: str, *, optional: bool) -> list[str]:
        """Member URIs of a collection, following ``Members@odata.nextLink`` pages (at most 100)."""
        links: list[str] = []
        next_uri: str | None = uri
        seen: set[str] = set()
        while next_uri and next_uri not in seen and len(seen) < 100:
            seen.add(next_uri)
            if optional:
                page = await self._optional(Collection, next_uri, what)
                if page is None:
                    break
            else:
                page = await self._fetch(Collection, next_uri)
            links.extend(m.odata_id for m in page.Members if m.odata_id)
            next_uri = page.next_link
        return links

    def _url(self, path: str) -> str:
        return self.client.base_url + path

    async def _nics(self, owner: Resource, link_uri: str | None, what: str) -> list[NicInfo]:
        if not link_uri:
            self._skip(owner.odata_id, f"{what} has no EthernetInterfaces")
            return []
        nics: list[NicInfo] = []
        for nic in await self._members(EthernetInterface, link_uri, f"{what} ethernet interface"):
            if not nic.mac:
                self._skip(nic.odata_id, "ethernet interface without a usable MAC address")
                continue
            if not nic.ip:
                self._skip(nic.odata_id, "ethernet interface has no IPv4 address (kept without IP)")
            nics.append(
                NicInfo(
                    uri=self._url(nic.odata_id),
                    mac=nic.mac,
                    ip=nic.ip,
                    name=nic.Name or nic.Id,
                    description=nic.Description or "",
                    enabled=nic.InterfaceEnabled is not False,
                )
            )
        return nics

    async def _system(self, system: ComputerSystem) -> SystemInfo:
        info = SystemInfo(
            uri=self._url(system.odata_id),
            uuid=system.UUID or "",
            name=system.Name or system.Id,
            manufacturer=system.Manufacturer or "",
            model=system.Model or "",
            serial=system.SerialNumber or "",
            bios_version=system.BiosVersion or "",
            system_type=system.SystemType or "",
            power_state=system.PowerState or "",
        )
        if not info.uuid:
            self._skip(system.odata_id, "system has no UUID (SMD deduplicates systems by UUID)")
        link = system.EthernetInterfaces.odata_id if system.EthernetInterfaces else None
        nics, _ = await asyncio.gather(self._nics(system, link, "system"), self._hardware(system, info))
        info.ethernet_interfaces = nics
        reset = system.reset_action()
        if reset is None:
            self._skip(system.odata_id, "system offers no #ComputerSystem.Reset action")
        else:
            info.reset_target = reset.target
            info.actions = list(reset.allowable)
            if not info.actions and reset.action_info:
                action_info = await self._optional(ActionInfo, reset.action_info, "reset ActionInfo")
                if action_info is not None:
                    info.actions = action_info.allowable("ResetType")
        return info

    async def _hardware(self, system: ComputerSystem, info: SystemInfo) -> None:
        await asyncio.gather(self._processors(system, info), self._memory(system, info))

    async def _processors(self, system: ComputerSystem, info: SystemInfo) -> None:
        summary = system.ProcessorSummary
        if system.Processors and system.Processors.odata_id:
            procs = await self._members(Processor, system.Processors.odata_id, "processor")
            info.processors = [
                {
                    "id": p.Id,
                    "model": p.Model or "",
                    "manufacturer": p.Manufacturer or "",
                    "architecture": p.ProcessorArchitecture or "",
                    "cores": p.TotalCores or 0,
                    "threads": p.TotalThreads or 0,
                }
                for p in procs
                if (p.ProcessorType or "CPU") == "CPU"
            ]
        else:
            self._skip(system.odata_id, "system has no Processors collection")
        info.processor_count = (summary.Count if summary and summary.Count else None) or len(info.processors)
        info.processor_type = (summary.Model if summary and summary.Model else "") or next(
            (p["model"] for p in info.processors if p["model"]), ""
        )

    async def _memory(self, system: ComputerSystem, info: SystemInfo) -> None:
        if system.Memory and system.Memory.odata_id:
            dimms = await self._members(Memory, system.Memory.odata_id, "memory")
            info.memory = [
                {"id": d.Id, "capacity_mib": d.CapacityMiB or 0, "type": d.MemoryDeviceType or ""}
                for d in dimms
            ]
        else:
            self._skip(system.odata_id, "system has no Memory collection")
        mem = system.MemorySummary
        if mem and mem.TotalSystemMemoryGiB:
            info.memory_total = float(mem.TotalSystemMemoryGiB)
        else:
            info.memory_total = round(sum(d["capacity_mib"] for d in info.memory) / 1024, 3)

    async def _manager(self, manager: Manager) -> ManagerInfo:
        link = manager.EthernetInterfaces.odata_id if manager.EthernetInterfaces else None
        return ManagerInfo(
            uri=self._url(manager.odata_id),
            uuid=manager.UUID or "",
            name=manager.Name or manager.Id,
            type=manager.ManagerType or "",
            description=manager.Description or "",
            firmware_version=manager.FirmwareVersion or "",
            ethernet_interfaces=await self._nics(manager, link, "manager"),
            actions=manager.reset_types(),
        )

    async def run(self) -> CrawlResult:
        """Crawl the whole BMC. Raises RedfishError if the service root or Systems cannot be read."""
        root = await self._fetch(ServiceRoot, "/redfish/v1/")
        self.result.uuid = root.UUID or ""
        self.result.redfish_version = root.RedfishVersion or ""
        systems_uri = root.Systems.odata_id if root.Systems else "/redfish/v1/Systems"
        await asyncio.gather(self._systems(systems_uri), self._managers(root))
        self.result.skipped.sort(key=lambda s: s.uri)  # resources are read concurrently; report stably
        return self.result

    async def _systems(self, systems_uri: str) -> None:
        links = await self._member_links(systems_uri, "systems collection", optional=False)
        systems = await asyncio.gather(*(self._optional(ComputerSystem, link, "system") for link in links))
        self.result.systems = list(await asyncio.gather(*(self._system(s) for s in systems if s is not None)))

    async def _managers(self, root: ServiceRoot) -> None:
        if root.Managers and root.Managers.odata_id:
            managers = await self._members(Manager, root.Managers.odata_id, "manager")
            self.result.managers = list(await asyncio.gather(*(self._manager(m) for m in managers)))
        else:
            self._skip("/redfish/v1/", "service root has no Managers")


async def crawl(client: RedfishClient) -> CrawlResult:
    """Crawl the BMC behind a connected client."""
    return await Crawler(client).run()
