"""Node power through Redfish: read ``PowerState`` or POST ``#ComputerSystem.Reset``.

Nodes are named as SMD names them after the V2 parse: ``<BMC ID>n<i>``, the i-th system of the BMC's
payload counted by unique UUID. The payloads come from ``collect`` (its cache or an inventory file).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pychami.core.errors import BadRequest, NotFound
from pychami.discovery.redfish import ClientOptions, Credentials, RedfishClient, RedfishError


@dataclass(frozen=True)
class NodeTarget:
    """Where a node's ComputerSystem lives."""

    xname: str
    bmc_id: str
    base_url: str
    system_path: str
    reset_target: str
    actions: tuple[str, ...] = field(default=())


def node_targets(inventory: Iterable[dict[str, Any]]) -> dict[str, NodeTarget]:
    """Every node of the collected payloads, by xname (numbered as SMD numbers them)."""
    nodes: dict[str, NodeTarget] = {}
    for rfe in inventory:
        bmc = str(rfe.get("ID", ""))
        seen: set[str] = set()
        index = 0
        for system in rfe.get("Systems") or []:
            uuid = str(system.get("uuid", ""))
            if uuid and uuid in seen:
                continue
            seen.add(uuid)
            parts = urlsplit(str(system.get("uri", "")))
            xname = f"{bmc}n{index}"
            index += 1
            path = parts.path or ""
            nodes[xname] = NodeTarget(
                xname=xname,
                bmc_id=bmc,
                base_url=f"{parts.scheme}://{parts.netloc}",
                system_path=path,
                reset_target=str(system.get("reset_target") or f"{path}/Actions/ComputerSystem.Reset"),
                actions=tuple(str(a) for a in system.get("actions") or []),
            )
    return nodes


def resolve(inventory: Iterable[dict[str, Any]], xnames: Sequence[str]) -> list[NodeTarget]:
    """The targets of ``xnames``; a BMC ID selects all its nodes. Unknown names are an error."""
    nodes = node_targets(inventory)
    out: list[NodeTarget] = []
    for name in xnames:
        if name in nodes:
            out.append(nodes[name])
            continue
        of_bmc = [n for n in nodes.values() if n.bmc_id == name]
        if not of_bmc:
            raise NotFound(f"unknown node {name!r}: not in the collected inventory (run 'magellan collect')")
        out.extend(of_bmc)
    return out


@dataclass
class PowerResult:
    """Outcome for one node."""

    xname: str
    ok: bool
    power_state: str = ""
    reset_type: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {"xname": self.xname, "ok": self.ok}
        if self.power_state:
            out["power_state"] = self.power_state
        if self.reset_type:
            out["reset_type"] = self.reset_type
        if self.error:
            out["error"] = self.error
        return out


async def _one(
    node: NodeTarget, reset_type: str | None, creds: Credentials | None, options: ClientOptions
) -> PowerResult:
    if reset_type and node.actions and reset_type not in node.actions:
        allowed = ", ".join(node.actions)
        return PowerResult(
            node.xname, False, reset_type=reset_type, error=f"{reset_type!r} not allowed ({allowed})"
        )
    try:
        async with RedfishClient(node.base_url, creds, options) as client:
            if reset_type:
                await client.post(node.reset_target, {"ResetType": reset_type})
                return PowerResult(node.xname, True, reset_type=reset_type)
            body = await client.get(node.system_path)
            return PowerResult(node.xname, True, power_state=str(body.get("PowerState") or "Unknown"))
    except RedfishError as exc:
        return PowerResult(node.xname, False, reset_type=reset_type or "", error=exc.detail)


async def power(
    nodes: Sequence[NodeTarget],
    reset_type: str | None,
    credentials: Callable[[NodeTarget], Credentials | None],
    options: ClientOptions,
    concurrency: int = 64,
) -> list[PowerResult]:
    """Reset (or read the state of) every node; one failing node never stops the others."""
    if reset_type is not None and not reset_type:
        raise BadRequest("reset type must not be empty")
    sem = asyncio.Semaphore(max(1, concurrency))

    async def guarded(node: NodeTarget) -> PowerResult:
        async with sem:
            return await _one(node, reset_type, credentials(node), options)

    return list(await asyncio.gather(*(guarded(n) for n in nodes)))
