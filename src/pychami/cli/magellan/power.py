"""``magellan power``: node power through Redfish."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from pychami.cli.common import handle_errors
from pychami.cli.magellan.app import (
    apply_options,
    cred_options,
    credentials_lookup,
    emit,
    error,
    fmt_option,
    main,
    state_of,
    tls_options,
)
from pychami.discovery.power import NodeTarget, power, resolve
from pychami.discovery.redfish import Credentials
from pychami.discovery.send import parse_payloads


@main.command("power")
@click.argument("xnames", nargs=-1, required=True)
@click.option("-r", "--reset-type", help="ComputerSystem.Reset type (On, ForceOff, ForceRestart, ...).")
@click.option("-l", "--list-reset-types", is_flag=True, help="List each node's allowed reset types.")
@click.option(
    "-f",
    "--inventory-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="collect output to find the nodes in (default: the cache).",
)
@apply_options(cred_options)
@apply_options(tls_options)
@fmt_option
@click.pass_context
@handle_errors
def power_cmd(
    ctx: click.Context,
    xnames: tuple[str, ...],
    reset_type: str | None,
    list_reset_types: bool,
    inventory_file: Path | None,
    username: str | None,
    password: str | None,
    secrets_file: Path | None,
    auth: str,
    cacert: str | None,
    insecure: bool,
    fmt: str,
) -> None:
    """Show or change node power through Redfish (ComputerSystem.Reset).

    Nodes are named as SMD names them: <BMC xname>n<i>; a BMC xname selects all its nodes.

    \b
    Examples:
      magellan power x1000c0s0b0n0
      magellan power x1000c0s0b0n0 x1000c0s1b0n0 -r ForceRestart -u root -p secret
      magellan power x1000c0s0b0 -l -f nodes.json
    """
    st = state_of(ctx)
    if inventory_file is not None:
        text = inventory_file.read_text()
        inventory = parse_payloads(text, "yaml" if inventory_file.suffix in (".yaml", ".yml") else "json")
    else:
        inventory = st.cache.inventory()
    nodes = resolve(inventory, xnames)
    if list_reset_types:
        emit([{"xname": n.xname, "actions": list(n.actions)} for n in nodes], fmt)
        return
    lookup = credentials_lookup(username, password, secrets_file)

    def creds(node: NodeTarget) -> Credentials | None:
        found: Credentials | None = lookup(node.bmc_id, node.base_url, node.base_url.split("://", 1)[1])
        return found

    results = asyncio.run(
        power(nodes, reset_type, creds, st.client_options(cacert, insecure, auth), min(st.concurrency, 64))
    )
    for r in results:
        if not r.ok:
            error(f"{r.xname}: {r.error}")
    emit([r.to_dict() for r in results], fmt)
    if any(not r.ok for r in results):
        sys.exit(1)
