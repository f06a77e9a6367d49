"""``ochami discover static``: load a nodes file into SMD (spec §1.9, batched, no extra interface POSTs)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from pychami.cli.ochami import discovery as dsc
from pychami.cli.ochami.client import HTTPFailure, ServiceClient
from pychami.cli.ochami.env import get_env
from pychami.cli.ochami.io import INPUT_FORMATS, parse_payload, read_raw, stdin_is_tty
from pychami.core.errors import PychamiError

_T = TypeVar("_T")
_R = TypeVar("_R")


@click.group()
def discover() -> None:
    """Discover nodes and BMCs and record them in SMD."""


@discover.command("static")
@click.option("--overwrite", is_flag=True, help="Replace what already exists (idempotent).")
@click.option("-d", "--data", "data", metavar="DATA|@FILE|@-", help="Nodes file (default: stdin).")
@click.option(
    "-f", "--format-input", "format_input", type=click.Choice(INPUT_FORMATS), default="json",
    show_default=True, help="Format of the nodes file.",
)  # fmt: skip
@click.option(
    "--discovery-version", type=click.Choice(["1", "2"]), default="2", show_default=True,
    help="2: SMD creates the interfaces from the Redfish endpoints; 1: also POST each interface.",
)  # fmt: skip
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=200, show_default=True,
    help="Redfish endpoints per POST (a batch holding an existing one is resent one by one).",
)  # fmt: skip
@click.option(
    "--concurrency", type=click.IntRange(min=1, max=64), default=4, show_default=True,
    help="Requests in flight at once (errors are still reported in file order).",
)  # fmt: skip
@click.option("--uri", metavar="URI", help="SMD base URI: absolute, or a path under the cluster URI.")
def static(
    overwrite: bool,
    data: str | None,
    format_input: str,
    discovery_version: str,
    batch_size: int,
    concurrency: int,
    uri: str | None,
) -> None:
    """Add the nodes, BMCs, interfaces and groups of a nodes file to SMD.

    The whole file is checked first (duplicate xnames, NIDs, MACs or IPs; invalid MACs, IPs or xnames;
    missing keys) and every problem is reported with its node; nothing is sent then. On success it
    prints nothing. A second run reports what already exists; --overwrite updates it instead.

    The Redfish endpoints are POSTed in batches of --batch-size; a batch holding an endpoint that exists
    is resent one endpoint at a time (PUT with --overwrite). --concurrency requests are in flight at once;
    errors are printed in the order of the file.

    \b
    Examples:
      ochami discover static -f yaml -d @nodes.yaml
      ochami discover static --overwrite -f yaml -d @nodes.yaml
      cat nodes.json | ochami discover static
    \b
    nodes.yaml (the tutorial format; `bmcs:` + `bmc:` and a bare list of nodes also work):
      nodes:
      - name: compute1
        nid: 1
        xname: x1000c0s0b0n0
        bmc_mac: de:ca:fc:0f:fe:e1
        bmc_ip: 172.16.0.101
        group: compute
        interfaces:
        - mac_addr: 52:54:00:be:ef:01
          ip_addrs:
          - name: management
            ip_addr: 172.16.0.1
    """
    env = get_env()
    if uri:
        env.service_uris["smd"] = uri
    if data is None and stdin_is_tty():
        click.echo("reading the nodes file from stdin (end with Ctrl-D; or use -d @FILE)", err=True)
    text = read_raw(data) if data is not None else sys.stdin.read()
    plan = dsc.plan(parse_payload(text, format_input))
    for warning in plan.warnings:
        env.log("warning", warning)
    client = env.client("smd")
    env.access_token()  # a missing or expired token fails here, before anything is sent
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="discover") as pool:
        sender = _Sender(client, pool, overwrite, batch_size)
        failures = sender.send(plan, post_interfaces=discovery_version == "1")
    if failures:
        for line in failures:
            click.echo(f"Error: {line}", err=True)
        raise click.exceptions.Exit(1)


def _detail(exc: HTTPFailure) -> str:
    return f"HTTP {exc.status}: {exc.body.strip()}"


@dataclass
class _Sender:
    """Sends a plan: batched endpoints, bounded concurrency, failures reported in input order."""

    client: ServiceClient
    pool: ThreadPoolExecutor
    overwrite: bool
    batch_size: int

    def map(self, fn: Callable[[_T], _R], items: Sequence[_T]) -> list[_R]:
        """``fn`` over ``items``, at most the pool's width in flight; results in input order."""
        if len(items) <= 1:
            return [fn(item) for item in items]
        return list(self.pool.map(fn, items))

    def send(self, plan: dsc.Plan, post_interfaces: bool) -> list[str]:
        failure = self.components([dsc.component(n) for n in plan.nodes])
        if failure:
            return [failure]
        failures: list[str] = []
        written: list[dsc.BMCSpec] = []
        for bmc, problem in self.endpoints(plan.bmcs):
            if problem:
                failures.append(problem)
            else:
                written.append(bmc)
        ifaces = [
            (node, j, iface)
            for bmc in written
            for node in bmc.nodes
            for j, iface in enumerate(node.interfaces)
            if post_interfaces or dsc.needs_ip_patch(iface)
        ]
        failures.extend(f for f in self.map(self.interface, ifaces) if f)
        failures.extend(self.groups(plan.groups))
        return failures

    # -- 1. components ------------------------------------------------------------------------------
    def components(self, comps: list[dict[str, Any]]) -> str | None:
        """One upsert of every node; with --overwrite forced (state) plus BulkNID (NIDs)."""
        try:
            if self.overwrite:
                self.client.post("/State/Components", {"Components": comps, "Force": True})
                self.client.patch(
                    "/State/Components/BulkNID",
                    {"Components": [{"ID": c["ID"], "Type": "", "NID": c["NID"]} for c in comps]},
                )
            else:
                self.client.post("/State/Components", {"Components": comps})
        except PychamiError as exc:
            return f"adding components failed: {exc.detail}"
        return None

    # -- 2. redfish endpoints -----------------------------------------------------------------------
    def endpoints(self, bmcs: list[dsc.BMCSpec]) -> list[tuple[dsc.BMCSpec, str | None]]:
        """Wrapped batches first; the BMCs of a refused batch one by one (per-BMC reports, PUT on 409)."""
        batches = [bmcs[i : i + self.batch_size] for i in range(0, len(bmcs), self.batch_size)]
        statuses = self.map(self.batch, batches)
        retry: list[tuple[dsc.BMCSpec, bool]] = []
        for batch, status in zip(batches, statuses, strict=True):
            if status is not None:
                # an existing endpoint refused the batch: with --overwrite each is replaced (PUT is
                # an upsert), otherwise each is POSTed alone so every conflict is named
                retry.extend((bmc, self.overwrite and status == 409) for bmc in batch)
        problems = dict(zip((b.xname for b, _ in retry), self.map(self.endpoint, retry), strict=True))
        return [(bmc, problems.get(bmc.xname)) for bmc in bmcs]

    def batch(self, bmcs: list[dsc.BMCSpec]) -> int | None:
        """POST ``{"RedfishEndpoints": [...]}`` (all or nothing); the failure status, or None."""
        bodies = [dsc.redfish_endpoint(b, self.client.base_url) for b in bmcs]
        try:
            self.client.post("/Inventory/RedfishEndpoints", {"RedfishEndpoints": bodies})
        except HTTPFailure as exc:
            return exc.status
        except PychamiError:
            return 0
        return None

    def endpoint(self, item: tuple[dsc.BMCSpec, bool]) -> str | None:
        """One endpoint alone, as upstream sends it: POST, and with --overwrite PUT on 409."""
        bmc, put = item
        body = dsc.redfish_endpoint(bmc, self.client.base_url)
        try:
            if not put:
                try:
                    self.client.post("/Inventory/RedfishEndpoints", body)
                    return None
                except HTTPFailure as exc:
                    if exc.status != 409:
                        return f"redfish endpoint {bmc.xname} ({bmc.name}): {_detail(exc)}"
                    if not self.overwrite:
                        return (
                            f"redfish endpoint {bmc.xname} ({bmc.name}) already exists "
                            f"(use --overwrite to replace it): {_detail(exc)}"
                        )
            try:
                self.client.put(f"/Inventory/RedfishEndpoints/{bmc.xname}", body)
            except HTTPFailure as exc:
                return f"replacing redfish endpoint {bmc.xname}: {_detail(exc)}"
        except PychamiError as exc:
            return f"redfish endpoint {bmc.xname}: {exc.detail}"
        return None

    # -- 3. interfaces ------------------------------------------------------------------------------
    def interface(self, item: tuple[dsc.NodeSpec, int, dsc.Interface]) -> str | None:
        """Give the interface its network names (the RFE parse stores IPs without them), or create it."""
        node, index, iface = item
        ips = dsc.interface_ips(iface)
        try:
            try:
                self.client.patch(f"/Inventory/EthernetInterfaces/{iface.smd_id}", {"IPAddresses": ips})
                return None
            except HTTPFailure as exc:
                if exc.status != 404:
                    return f"interface {iface.mac} of {node.xname}: {_detail(exc)}"
            body = {
                "ComponentID": node.xname,
                "Description": f"Interface {index} for {node.name}",
                "MACAddress": iface.mac,
                "IPAddresses": ips,
            }
            self.client.post("/Inventory/EthernetInterfaces", body)
        except HTTPFailure as exc:
            return f"interface {iface.mac} of {node.xname}: {_detail(exc)}"
        except PychamiError as exc:
            return f"interface {iface.mac} of {node.xname}: {exc.detail}"
        return None

    # -- 4. groups ----------------------------------------------------------------------------------
    def groups(self, groups: dict[str, list[str]]) -> list[str]:
        """POST each group; with --overwrite an existing one is updated and gets its missing members."""
        labels = list(groups)
        created = self.map(lambda label: self.group(label, groups[label]), labels)
        out: dict[str, list[str]] = {label: [] for label in labels}
        update: list[str] = []
        for label, (problem, exists) in zip(labels, created, strict=True):
            if problem:
                out[label].append(problem)
            if exists:
                update.append(label)
        missing: list[tuple[str, str]] = []
        for label, (problems, absent) in zip(
            update, self.map(lambda label: self.update_group(label, groups[label]), update), strict=True
        ):
            out[label].extend(problems)
            missing.extend((label, xname) for xname in absent)
        for (label, _), problem in zip(missing, self.map(self.add_member, missing), strict=True):
            if problem:
                out[label].append(problem)
        return [line for label in labels for line in out[label]]

    def group(self, label: str, members: list[str]) -> tuple[str | None, bool]:
        """(problem, exists-and-to-be-updated)."""
        try:
            self.client.post("/groups", dsc.group_body(label, members))
        except HTTPFailure as exc:
            if exc.status != 409:
                return f"group {label}: {_detail(exc)}", False
            if not self.overwrite:
                return f"group {label} already exists (use --overwrite to update it): {_detail(exc)}", False
            return None, True
        except PychamiError as exc:
            return f"group {label}: {exc.detail}", False
        return None, False

    def update_group(self, label: str, members: list[str]) -> tuple[list[str], list[str]]:
        """PATCH the description; (problems, members of the file the group lacks)."""
        problems: list[str] = []
        try:
            self.client.patch(f"/groups/{label}", {"description": dsc.group_body(label, [])["description"]})
        except HTTPFailure as exc:
            problems.append(f"updating group {label}: {_detail(exc)}")
        except PychamiError as exc:
            problems.append(f"updating group {label}: {exc.detail}")
        try:
            have = set((self.client.get(f"/groups/{label}/members").json() or {}).get("ids") or [])
        except PychamiError:
            have = set()  # unknown: add all, SMD answers 409 for those present
        return problems, [x for x in members if x not in have]

    def add_member(self, item: tuple[str, str]) -> str | None:
        label, xname = item
        try:
            self.client.post(f"/groups/{label}/members", {"id": xname})
        except HTTPFailure as exc:
            if exc.status != 409:
                return f"adding {xname} to group {label}: {_detail(exc)}"
        except PychamiError as exc:
            return f"adding {xname} to group {label}: {exc.detail}"
        return None
