"""The ``magellan`` command group, its global options and what every subcommand shares."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from pychami.discovery.cache import Cache, default_cache_path
from pychami.discovery.redfish import ClientOptions, Credentials
from pychami.discovery.secrets import SecretStore, parse_master_key

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


def state_of(ctx: click.Context) -> State:
    """The global options of the running command."""
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


def apply_options(options: Sequence[Callable[[Any], Any]]) -> Callable[[F], F]:
    """Apply a shared list of click options to a command."""

    def deco(fn: F) -> F:
        for opt in reversed(options):
            fn = opt(fn)
        return fn

    return deco


def store_for(secrets_file: Path | None) -> SecretStore | None:
    """The secrets file to read credentials from: the given one, else ./secrets.json if it exists."""
    path = secrets_file or Path(DEFAULT_SECRETS_FILE)
    if secrets_file is None and not path.exists():
        return None
    return SecretStore(path, parse_master_key(os.environ.get("MASTER_KEY")))


def credentials_lookup(username: str | None, password: str | None, secrets_file: Path | None) -> Any:
    """A lookup ``(*ids) -> Credentials | None``: the -u/-p pair, else the secrets file by ID then default."""
    if username is not None:
        fixed = Credentials(username, password or "")
        return lambda *_ids: fixed
    store = store_for(secrets_file)
    if store is None:
        return lambda *_ids: None
    return store.lookup
