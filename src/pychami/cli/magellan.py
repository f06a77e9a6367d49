"""``magellan``: discover BMCs over Redfish and send them to SMD (upstream magellan's commands and flags)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from pychami.cli.common import fail, handle_errors
from pychami.core.errors import BadRequest, ConfigError
from pychami.discovery.cache import Asset, Cache, default_cache_path
from pychami.discovery.collect import CollectOptions, collect, parse_id_map
from pychami.discovery.crawl import CrawlResult, crawl
from pychami.discovery.power import NodeTarget, power, resolve
from pychami.discovery.progress import track
from pychami.discovery.redfish import ClientOptions, Credentials, RedfishClient
from pychami.discovery.scan import ScanOptions, Target, build_targets, scan
from pychami.discovery.secrets import SecretStore, generate_key, parse_master_key, parse_secret
from pychami.discovery.send import parse_payloads, read_data, send

log = logging.getLogger("magellan")

DEFAULT_SECRETS_FILE = "secrets.json"


class State:
    """Global options shared by every subcommand."""

    def __init__(
        self,
        cache: Path,
        concurrency: int,
        timeout: float,
        access_token: str | None,
        retries: int,
        pacing: float,
        progress: bool | None,
    ) -> None:
        self.cache = Cache(cache)
        self.concurrency = concurrency
        self.timeout = timeout
        self.access_token = access_token
        self.retries = retries
        self.pacing = pacing
        self.progress = progress

    def client_options(self, cacert: str | None, insecure: bool, auth: str = "basic") -> ClientOptions:
        """Redfish client options from the global and command flags."""
        return ClientOptions(
            timeout=self.timeout,
            retries=self.retries,
            pacing=self.pacing,
            cacert=cacert,
            insecure=insecure,
            auth="session" if auth == "session" else "basic",
        )


def emit(data: Any, fmt: str, output: Path | None = None) -> None:
    """Write ``data`` as JSON or YAML to stdout or ``output``."""
    if fmt == "yaml":
        text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    else:
        text = json.dumps(data, indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)


def warn(message: str) -> None:
    """A non-fatal problem, on stderr."""
    click.echo(f"WARN  {message}", err=True)


def error(message: str) -> None:
    """A per-host failure, on stderr (the command goes on with the other hosts)."""
    click.echo(f"ERROR {message}", err=True)


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Read ``-c/--config`` (YAML: option names as keys, per command sections) into click's defaults."""
    path = Path(value) if value else Path.home() / "config" / "magellan.yaml"
    if not path.exists():
        if value:
            raise click.BadParameter(f"{path} does not exist")
        return value
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"{path} is not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must hold a mapping")
    ctx.default_map = {str(k).replace("-", "_"): v for k, v in data.items()}
    return value


def _state(ctx: click.Context) -> State:
    obj = ctx.find_object(State)
    assert obj is not None
    return obj


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "-c",
    "--config",
    callback=_load_config,
    is_eager=True,
    expose_value=False,
    help="YAML file of option defaults (default $HOME/config/magellan.yaml).",
)
@click.option(
    "--cache",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite cache of scanned assets (default /tmp/$USER/magellan/assets.db).",
)
@click.option(
    "-j",
    "--concurrency",
    type=click.IntRange(1, 10000),
    default=1000,
    show_default=True,
    help="Hosts worked on at the same time (collect and power cap it at 64).",
)
@click.option(
    "-t",
    "--timeout",
    type=click.FloatRange(0.05),
    default=5.0,
    show_default=True,
    help="Per-request timeout in seconds.",
)
@click.option(
    "--retries",
    type=click.IntRange(0, 10),
    default=2,
    show_default=True,
    help="Retries per Redfish request on transport errors and HTTP 5xx (backoff doubles).",
)
@click.option(
    "--pacing",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Minimum seconds between two requests to the same BMC.",
)
@click.option("--access-token", envvar="ACCESS_TOKEN", help="Bearer token for SMD (env ACCESS_TOKEN).")
@click.option(
    "-l",
    "--log-level",
    type=click.Choice(["debug", "info", "warn", "error"], case_sensitive=False),
    default="warn",
    show_default=True,
)
@click.option("--log-file", type=click.Path(dir_okay=False), help="Also write logs to this file.")
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal)."
)
@click.pass_context
def main(
    ctx: click.Context,
    cache: Path | None,
    concurrency: int,
    timeout: float,
    retries: int,
    pacing: float,
    access_token: str | None,
    log_level: str,
    log_file: str | None,
    progress: bool | None,
) -> None:
    """magellan: find BMCs with Redfish, collect their inventory and send it to SMD.

    \b
    Typical run:
      magellan scan --subnet 172.16.0.0/24 --port 443 --cacert ca.pem
      magellan list
      magellan collect -u root -p secret --bmc-id-map @bmc-map.json -o nodes.json
      magellan send https://smd.example:8443 -d @nodes.json --force-update
      magellan power x1000c0s0b0n0 -r ForceRestart
    """
    level = "warning" if log_level.lower() == "warn" else log_level.lower()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file))
    logging.basicConfig(
        level=level.upper(), handlers=handlers, format="%(levelname)s %(message)s", force=True
    )
    # httpx logs every request at INFO; that is debug detail for magellan's users.
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)
    ctx.obj = State(
        cache or default_cache_path(), concurrency, timeout, access_token, retries, pacing, progress
    )


fmt_option = click.option(
    "-F", "--format", "fmt", type=click.Choice(["json", "yaml"]), default="json", show_default=True
)
tls_options = [
    click.option(
        "--cacert", type=click.Path(exists=True, dir_okay=False), help="CA bundle to verify BMC TLS."
    ),
    click.option("-i", "--insecure", is_flag=True, help="Do not verify TLS certificates."),
]
cred_options = [
    click.option("-u", "--username", help="BMC user (else the secrets file, then its 'default')."),
    click.option("-p", "--password", help="BMC password."),
    click.option(
        "--secrets-file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Encrypted credentials (needs MASTER_KEY); used when -u is not given.",
    ),
    click.option(
        "--auth",
        type=click.Choice(["basic", "session"]),
        default="basic",
        show_default=True,
        help="Redfish session login (falls back to basic without a SessionService) or basic auth.",
    ),
]


F = TypeVar("F", bound=Callable[..., Any])


def _apply(options: Sequence[Callable[[Any], Any]]) -> Callable[[F], F]:
    """Apply a shared list of click options to a command."""

    def deco(fn: F) -> F:
        for opt in reversed(options):
            fn = opt(fn)
        return fn

    return deco


def _store(secrets_file: Path | None) -> SecretStore | None:
    path = secrets_file or Path(DEFAULT_SECRETS_FILE)
    if secrets_file is None and not path.exists():
        return None
    return SecretStore(path, parse_master_key(os.environ.get("MASTER_KEY")))


def _credentials(username: str | None, password: str | None, secrets_file: Path | None) -> Any:
    """A lookup ``(*ids) -> Credentials | None``: the -u/-p pair, else the secrets file by ID then default."""
    if username is not None:
        fixed = Credentials(username, password or "")
        return lambda *_ids: fixed
    store = _store(secrets_file)
    if store is None:
        return lambda *_ids: None
    return store.lookup


# ----------------------------------------------------------------------------------------------- scan
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
@_apply(tls_options)
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
    st = _state(ctx)
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


# ----------------------------------------------------------------------------------------------- list
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
    st = _state(ctx)
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


# ---------------------------------------------------------------------------------------------- crawl
@main.command("crawl")
@click.argument("uri")
@_apply(cred_options)
@_apply(tls_options)
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
    st = _state(ctx)
    base = uri if "://" in uri else f"https://{uri}"
    lookup = _credentials(username, password, secrets_file)
    creds = lookup(base, base.split("://", 1)[1])

    async def run() -> CrawlResult:
        async with RedfishClient(base, creds, st.client_options(cacert, insecure, auth)) as client:
            return await crawl(client)

    result = asyncio.run(run())
    for skip in result.skipped:
        warn(f"{base}: skipped {skip.uri}: {skip.reason}")
    emit(result.to_dict(), fmt)


# -------------------------------------------------------------------------------------------- collect
@main.command("collect")
@_apply(cred_options)
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
@_apply(tls_options)
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
    st = _state(ctx)
    assets = st.cache.assets()
    if not assets:
        raise BadRequest(f"no assets in the cache {st.cache.path}: run 'magellan scan' first")
    id_map = parse_id_map(bmc_id_map) if bmc_id_map else {}
    lookup = _credentials(username, password, secrets_file)
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


# ----------------------------------------------------------------------------------------------- send
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
    st = _state(ctx)
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


# ---------------------------------------------------------------------------------------------- power
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
@_apply(cred_options)
@_apply(tls_options)
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
    st = _state(ctx)
    if inventory_file is not None:
        text = inventory_file.read_text()
        inventory = parse_payloads(text, "yaml" if inventory_file.suffix in (".yaml", ".yml") else "json")
    else:
        inventory = st.cache.inventory()
    nodes = resolve(inventory, xnames)
    if list_reset_types:
        emit([{"xname": n.xname, "actions": list(n.actions)} for n in nodes], fmt)
        return
    lookup = _credentials(username, password, secrets_file)

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


# -------------------------------------------------------------------------------------------- secrets
@main.group("secrets")
def secrets_group() -> None:
    """Encrypted BMC credentials (AES-GCM, key from MASTER_KEY); the ID 'default' is the fallback.

    \b
    Examples:
      export MASTER_KEY=$(magellan secrets generatekey)
      magellan secrets store default root:secret
      magellan secrets store x1000c0s0b0 '{"username":"admin","password":"pw"}' -F json
      magellan secrets list
    """


secrets_file_option = click.option(
    "-f",
    "--secrets-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DEFAULT_SECRETS_FILE),
    show_default=True,
)


def _open_store(path: Path) -> SecretStore:
    return SecretStore(path, parse_master_key(os.environ.get("MASTER_KEY")))


@secrets_group.command("generatekey")
def secrets_generatekey() -> None:
    """Print a new random master key (hex) for MASTER_KEY."""
    click.echo(generate_key())


@secrets_group.command("store")
@click.argument("secret_id")
@click.argument("value")
@click.option(
    "-F",
    "--format",
    "fmt",
    type=click.Choice(["basic", "json", "base64"]),
    default="basic",
    show_default=True,
    help="basic = user:pass",
)
@secrets_file_option
@handle_errors
def secrets_store(secret_id: str, value: str, fmt: str, secrets_file: Path) -> None:
    """Encrypt and store the credentials of SECRET_ID (a BMC xname, host, or 'default')."""
    _open_store(secrets_file).store(secret_id, parse_secret(value, fmt))


@secrets_group.command("retrieve")
@click.argument("secret_id")
@secrets_file_option
@handle_errors
def secrets_retrieve(secret_id: str, secrets_file: Path) -> None:
    """Decrypt and print the credentials of SECRET_ID as JSON."""
    creds = _open_store(secrets_file).retrieve(secret_id)
    click.echo(json.dumps({"username": creds.username, "password": creds.password}))


@secrets_group.command("list")
@secrets_file_option
@fmt_option
@handle_errors
def secrets_list(secrets_file: Path, fmt: str) -> None:
    """List stored IDs (never the secrets)."""
    if not secrets_file.exists():
        raise ConfigError(f"no secrets file {secrets_file}")
    store = SecretStore(secrets_file, b"\0" * 32)  # listing needs no key
    emit(store.ids(), fmt)


@secrets_group.command("remove")
@click.argument("secret_id")
@secrets_file_option
@handle_errors
def secrets_remove(secret_id: str, secrets_file: Path) -> None:
    """Delete the secret of SECRET_ID."""
    SecretStore(secrets_file, b"\0" * 32).remove(secret_id)
