"""``magellan send``: post collected payloads to SMD."""

from __future__ import annotations

import sys
from typing import Any

import click

from pychami.cli.common import fail, handle_errors
from pychami.cli.magellan.app import (
    error,
    log,
    main,
    state_of,
)
from pychami.discovery.send import parse_payloads, read_data, send


@main.command("send")
@click.argument("smd_url")
@click.option(
    "-d", "--data", "data", multiple=True, help="Payload(s): JSON/YAML text or @file. Default stdin."
)
@click.option(
    "-f",
    "--format",
    "in_fmt",
    type=click.Choice(["json", "yaml"]),
    default="json",
    show_default=True,
    help="Format of the input data.",
)
@click.option(
    "--force-update", is_flag=True, help="PUT an endpoint that already exists (409) instead of failing."
)
@click.option("--cacert", type=click.Path(exists=True, dir_okay=False), help="CA bundle to verify SMD.")
@click.option("-i", "--insecure", is_flag=True, help="Do not verify SMD's TLS certificate.")
@click.pass_context
@handle_errors
def send_cmd(
    ctx: click.Context,
    smd_url: str,
    data: tuple[str, ...],
    in_fmt: str,
    force_update: bool,
    cacert: str | None,
    insecure: bool,
) -> None:
    """POST RedfishEndpoint payloads to <SMD_URL>/hsm/v2/Inventory/RedfishEndpoints.

    \b
    Examples:
      magellan collect -u root -p secret | magellan send https://smd.example:8443
      magellan send http://127.0.0.1:8081 -d @nodes.json --force-update --access-token "$TOKEN"
      magellan send http://127.0.0.1:8081 -f yaml -d @nodes.yaml
    """
    st = state_of(ctx)
    payloads: list[dict[str, Any]] = []
    for arg in data:
        payloads.extend(read_data(arg, in_fmt))
    if not data:
        payloads = parse_payloads(sys.stdin.read(), in_fmt)
    results = send(
        smd_url,
        payloads,
        token=st.access_token,
        force_update=force_update,
        cacert=cacert,
        insecure=insecure,
        timeout=max(st.timeout, 10.0),
    )
    failed = [r for r in results if not r.ok]
    for r in results:
        if r.ok:
            log.info("%s %s: HTTP %d", r.method, r.id, r.status)
        else:
            error(f"{r.method} {r.id}: HTTP {r.status} {r.detail}".rstrip())
    if failed:
        fail(f"{len(failed)} of {len(results)} endpoint(s) not sent")
