"""``ochami discover static``: load a nodes file into SMD (spec §1.9, without redundant interface POSTs)."""

from __future__ import annotations

import sys

import click

from pychami.cli.ochami import discovery as dsc
from pychami.cli.ochami.client import HTTPFailure, ServiceClient
from pychami.cli.ochami.env import get_env
from pychami.cli.ochami.io import INPUT_FORMATS, parse_payload, read_raw, stdin_is_tty
from pychami.core.errors import PychamiError


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
@click.option("--uri", metavar="URI", help="SMD base URI: absolute, or a path under the cluster URI.")
def static(
    overwrite: bool, data: str | None, format_input: str, discovery_version: str, uri: str | None
) -> None:
    """Add the nodes, BMCs, interfaces and groups of a nodes file to SMD.

    The whole file is checked first (duplicate xnames, NIDs, MACs or IPs; invalid MACs, IPs or xnames;
    missing keys) and every problem is reported with its node; nothing is sent then. On success it
    prints nothing. A second run reports what already exists; --overwrite updates it instead.

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
    failures = _send(client, plan, overwrite, discovery_version == "1")
    if failures:
        for line in failures:
            click.echo(f"Error: {line}", err=True)
        raise click.exceptions.Exit(1)


def _detail(exc: HTTPFailure) -> str:
    return f"HTTP {exc.status}: {exc.body.strip()}"


def _send(client: ServiceClient, plan: dsc.Plan, overwrite: bool, post_interfaces: bool) -> list[str]:
    failures: list[str] = []
    comps = [dsc.component(n) for n in plan.nodes]
    try:
        if overwrite:
            for comp in comps:
                client.put(f"/State/Components/{comp['ID']}", {"Component": comp, "Force": True})
            client.patch(
                "/State/Components/BulkNID",
                {"Components": [{"ID": c["ID"], "Type": "", "NID": c["NID"]} for c in comps]},
            )
        else:
            client.post("/State/Components", {"Components": comps})
    except PychamiError as exc:
        return [f"adding components failed: {exc.detail}"]

    written: list[dsc.BMCSpec] = []
    for bmc in plan.bmcs:
        body = dsc.redfish_endpoint(bmc, client.base_url)
        try:
            client.post("/Inventory/RedfishEndpoints", body)
            written.append(bmc)
        except HTTPFailure as exc:
            if exc.status != 409:
                failures.append(f"redfish endpoint {bmc.xname} ({bmc.name}): {_detail(exc)}")
            elif not overwrite:
                failures.append(
                    f"redfish endpoint {bmc.xname} ({bmc.name}) already exists "
                    f"(use --overwrite to replace it): {_detail(exc)}"
                )
            else:
                try:
                    client.put(f"/Inventory/RedfishEndpoints/{bmc.xname}", body)
                    written.append(bmc)
                except HTTPFailure as exc2:
                    failures.append(f"replacing redfish endpoint {bmc.xname}: {_detail(exc2)}")
        except PychamiError as exc:
            failures.append(f"redfish endpoint {bmc.xname}: {exc.detail}")

    for bmc in written:
        for node in bmc.nodes:
            for j, iface in enumerate(node.interfaces):
                if not post_interfaces and not dsc.needs_ip_patch(iface):
                    continue
                failure = _interface(client, node, j, iface)
                if failure:
                    failures.append(failure)

    for label, members in plan.groups.items():
        body = dsc.group_body(label, members)
        try:
            client.post("/groups", body)
        except HTTPFailure as exc:
            if exc.status != 409:
                failures.append(f"group {label}: {_detail(exc)}")
            elif not overwrite:
                failures.append(
                    f"group {label} already exists (use --overwrite to update it): {_detail(exc)}"
                )
            else:
                failures.extend(_update_group(client, label, body, members))
        except PychamiError as exc:
            failures.append(f"group {label}: {exc.detail}")
    return failures


def _interface(client: ServiceClient, node: dsc.NodeSpec, index: int, iface: dsc.Interface) -> str | None:
    """Give the interface its network names (the RFE parse stores IPs without them), or create it."""
    ips = dsc.interface_ips(iface)
    try:
        client.patch(f"/Inventory/EthernetInterfaces/{iface.smd_id}", {"IPAddresses": ips})
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
    try:
        client.post("/Inventory/EthernetInterfaces", body)
    except HTTPFailure as exc:
        return f"interface {iface.mac} of {node.xname}: {_detail(exc)}"
    return None


def _update_group(
    client: ServiceClient, label: str, body: dict[str, object], members: list[str]
) -> list[str]:
    failures: list[str] = []
    try:
        client.patch(f"/groups/{label}", {"description": body["description"]})
    except HTTPFailure as exc:
        failures.append(f"updating group {label}: {_detail(exc)}")
    for xname in members:
        try:
            client.post(f"/groups/{label}/members", {"id": xname})
        except HTTPFailure as exc:
            if exc.status != 409:
                failures.append(f"adding {xname} to group {label}: {_detail(exc)}")
    return failures
