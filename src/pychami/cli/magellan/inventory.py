"""``magellan scan`` and ``magellan list``: find BMCs and show the cache."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from pychami.cli.common import handle_errors
from pychami.cli.magellan.app import (
    apply_options,
    emit,
    fmt_option,
    log,
    main,
    state_of,
    tls_options,
)
from pychami.core.errors import BadRequest
from pychami.discovery.progress import track
from pychami.discovery.scan import ScanOptions, Target, build_targets, scan


@main.command("scan")
@click.argument("hosts", nargs=-1)
@click.option("--subnet", "subnets", multiple=True, help="CIDR (10.0.0.0/24) or address with --subnet-mask.")
@click.option("--subnet-mask", default=None, help="Mask for --subnet given without prefix (255.255.255.0).")
@click.option(
    "--port",
    "ports",
    type=click.IntRange(1, 65535),
    multiple=True,
    help="Port(s) to scan; replaces the default 443.",
)
@click.option("--scheme", type=click.Choice(["https", "http"]), default="https", show_default=True)
@click.option("--protocol", type=click.Choice(["tcp", "udp"]), default="tcp", show_default=True)
@click.option(
    "--include", default="bmcs", show_default=True, help="Asset kinds to probe (bmcs; pdus unsupported)."
)
@click.option("--disable-probing", is_flag=True, help="Keep every open port, without the /redfish/v1/ probe.")
@click.option("--disable-cache", is_flag=True, help="Do not write the results to the cache.")
@apply_options(tls_options)
@fmt_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write results here.")
@click.pass_context
@handle_errors
def scan_cmd(
    ctx: click.Context,
    hosts: tuple[str, ...],
    subnets: tuple[str, ...],
    subnet_mask: str | None,
    ports: tuple[int, ...],
    scheme: str,
    protocol: str,
    include: str,
    disable_probing: bool,
    disable_cache: bool,
    cacert: str | None,
    insecure: bool,
    fmt: str,
    output: Path | None,
) -> None:
    """Find BMCs: TCP-connect each host:port, then probe /redfish/v1/.

    \b
    Examples:
      magellan scan --subnet 172.16.0.0/24
      magellan scan --subnet 172.16.0.0 --subnet-mask 255.255.255.0 --port 8443 --cacert ca.pem
      magellan scan 10.0.0.5 https://10.0.0.6:8443 --disable-probing -F yaml
    """
    st = state_of(ctx)
    kinds = {k.strip() for k in include.split(",") if k.strip()}
    if kinds - {"bmcs"}:
        raise BadRequest(f"--include {include}: only 'bmcs' is supported (no PDU/JAWS probing)")
    targets = build_targets(hosts, subnets, subnet_mask, ports, scheme)
    if not targets:
        raise BadRequest("nothing to scan: give hosts or --subnet")
    opts = ScanOptions(
        concurrency=st.concurrency,
        timeout=st.timeout,
        probe=not disable_probing,
        protocol=protocol,
        client=st.client_options(cacert, insecure),
    )
    with track("scanning", len(targets), st.progress) as tracker:

        def done(_t: Target, ok: bool) -> None:
            tracker.advance(ok)

        assets = asyncio.run(scan(targets, opts, done))
    if not disable_cache:
        st.cache.save_assets(assets)
    log.info("scanned %d targets, found %d", len(targets), len(assets))
    emit([a.to_dict() for a in assets], fmt, output)


@main.command("list")
@click.option("--cache-info", is_flag=True, help="Show the cache file and its counts instead.")
@click.option(
    "-F", "--format", "fmt", type=click.Choice(["list", "json", "yaml"]), default="list", show_default=True
)
@click.pass_context
@handle_errors
def list_cmd(ctx: click.Context, cache_info: bool, fmt: str) -> None:
    """Show the cached assets.

    \b
    Examples:
      magellan list
      magellan list -F json
      magellan --cache ./assets.db list --cache-info
    """
    st = state_of(ctx)
    assets = st.cache.assets()
    if cache_info:
        info = {"path": str(st.cache.path), "assets": len(assets), "collected": len(st.cache.inventory())}
        if fmt == "list":
            click.echo(f"path={info['path']} assets={info['assets']} collected={info['collected']}")
        else:
            emit(info, fmt)
        return
    if fmt == "list":
        for a in assets:
            click.echo(f"{a.host}:{a.port}:{a.protocol}:{str(a.state).lower()}:{a.timestamp}")
        return
    emit([a.to_dict() for a in assets], fmt)
