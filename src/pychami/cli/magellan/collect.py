"""``magellan crawl`` and ``magellan collect``: read BMCs into RedfishEndpoint payloads."""

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
    warn,
)
from pychami.core.errors import BadRequest
from pychami.discovery.cache import Asset
from pychami.discovery.collect import CollectOptions, collect, parse_id_map
from pychami.discovery.crawl import CrawlResult, crawl
from pychami.discovery.progress import track
from pychami.discovery.redfish import Credentials, RedfishClient


@main.command("crawl")
@click.argument("uri")
@apply_options(cred_options)
@apply_options(tls_options)
@fmt_option
@click.pass_context
@handle_errors
def crawl_cmd(
    ctx: click.Context,
    uri: str,
    username: str | None,
    password: str | None,
    secrets_file: Path | None,
    auth: str,
    cacert: str | None,
    insecure: bool,
    fmt: str,
) -> None:
    """Walk one BMC's Systems and Managers and print what was found.

    \b
    Examples:
      magellan crawl https://172.16.0.101 -u root -p secret -i
      magellan crawl https://bmc1:8443 --secrets-file secrets.json --cacert ca.pem -F yaml
    """
    st = state_of(ctx)
    base = uri if "://" in uri else f"https://{uri}"
    lookup = credentials_lookup(username, password, secrets_file)
    creds = lookup(base, base.split("://", 1)[1])

    async def run() -> CrawlResult:
        async with RedfishClient(base, creds, st.client_options(cacert, insecure, auth)) as client:
            return await crawl(client)

    result = asyncio.run(run())
    for skip in result.skipped:
        warn(f"{base}: skipped {skip.uri}: {skip.reason}")
    emit(result.to_dict(), fmt)


@main.command("collect")
@apply_options(cred_options)
@click.option("-m", "--bmc-id-map", help='JSON {"<ip>": "<xname>"} or @file (JSON/YAML).')
@click.option(
    "-o", "--output-file", type=click.Path(dir_okay=False, path_type=Path), help="Write all payloads here."
)
@click.option(
    "-O",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one <ID>.json (or .yaml) per BMC here.",
)
@fmt_option
@apply_options(tls_options)
@click.option(
    "--host-timeout",
    type=click.FloatRange(0),
    default=120.0,
    show_default=True,
    help="Give up on a BMC after this many seconds in total (0: no limit).",
)
@click.option(
    "--show-skipped/--hide-skipped",
    default=True,
    show_default=True,
    help="Report every optional item that was left out.",
)
@click.pass_context
@handle_errors
def collect_cmd(
    ctx: click.Context,
    username: str | None,
    password: str | None,
    secrets_file: Path | None,
    auth: str,
    bmc_id_map: str | None,
    output_file: Path | None,
    output_dir: Path | None,
    fmt: str,
    cacert: str | None,
    insecure: bool,
    host_timeout: float,
    show_skipped: bool,
) -> None:
    """Crawl every cached BMC and print RedfishEndpoint payloads for SMD.

    The BMC ID comes from --bmc-id-map or, as upstream, from the BMC's IPv4 address. A failing BMC is
    reported on stderr and the others are still collected (exit status 1 if any failed).

    \b
    Examples:
      magellan collect -u root -p secret -i
      magellan collect --secrets-file secrets.json -m @bmc-map.json -o nodes.json
      magellan collect -u root -p secret --cacert ca.pem -O ./inventory -F yaml
    """
    st = state_of(ctx)
    assets = st.cache.assets()
    if not assets:
        raise BadRequest(f"no assets in the cache {st.cache.path}: run 'magellan scan' first")
    id_map = parse_id_map(bmc_id_map) if bmc_id_map else {}
    lookup = credentials_lookup(username, password, secrets_file)
    opts = CollectOptions(
        concurrency=min(st.concurrency, 64),
        client=st.client_options(cacert, insecure, auth),
        id_map=id_map,
        host_timeout=host_timeout or None,
    )

    def creds(asset: Asset, bmc: str) -> Credentials | None:
        found: Credentials | None = lookup(bmc, asset.base_url, asset.host, asset.address)
        return found

    with track("collecting", len(assets), st.progress) as tracker:

        def done(_a: Asset, ok: bool) -> None:
            tracker.advance(ok)

        report = asyncio.run(collect(assets, creds, opts, done))
    if show_skipped:
        for host, skip in report.skipped:
            warn(f"{host}: skipped {skip.uri}: {skip.reason}")
    for err in sorted(report.errors, key=lambda e: e.host):
        error(f"{err.host}: {err.reason}")
    st.cache.save_inventory(report.payloads)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        for payload in report.payloads:
            emit(payload, fmt, output_dir / f"{payload['ID']}.{fmt}")
    if output_file is not None or output_dir is None:
        emit(report.payloads, fmt, output_file)
    if report.errors:
        sys.exit(1)
