"""``pychami``: run and administer the pychami server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pychami import __version__
from pychami.cli.common import handle_errors
from pychami.cli.status import status
from pychami.core.auth import LocalIssuer, parse_ttl
from pychami.core.errors import BadRequest, ConfigError
from pychami.core.logs import configure_logging, get_logger
from pychami.core.settings import AuthMode, Settings, load_settings

DEFAULT_SCOPES = ("admin",)


def _settings(config: Path | None, **overrides: object) -> Settings:
    return load_settings(config, **overrides)


config_option = click.option(
    "--config", "config", type=click.Path(dir_okay=False, path_type=Path), help="YAML settings file."
)
data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory (default ./pychami-data).",
)
db_option = click.option("--db", help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DB.")

#: Flags shared by ``serve`` and ``netboot``; each maps to a key of the ``netboot`` settings section.
_NETBOOT_FLAGS = [
    click.option(
        "--interface", "nb_interfaces", multiple=True, help="Serve DHCP on this interface (repeat)."
    ),
    click.option("--server-ip", "nb_server_ip", help="This server's IPv4 address (option 54, next-server)."),
    click.option(
        "--subnet", "nb_subnets", multiple=True, help="Served subnet CIDR (repeat for relayed ones)."
    ),
    click.option("--router", "nb_router", help="Default gateway handed out (option 3)."),
    click.option("--dns", "nb_dns", multiple=True, help="DNS server handed out (option 6, repeat)."),
    click.option("--domain", "nb_domain", help="Domain name handed out (option 15)."),
    click.option(
        "--tftp-root",
        "nb_tftp_root",
        type=click.Path(file_okay=False, path_type=Path),
        help="TFTP directory.",
    ),
    click.option("--boot-url", "nb_boot_url", help="Base URL of BSS for iPXE (default: the server's URL)."),
    click.option(
        "--unknown", "nb_unknown", type=click.Choice(["ignore", "bootloop"]), help="Policy for unknown MACs."
    ),
    click.option("--bootloop-pool", "nb_pool", help="START-END addresses for unknown MACs (bootloop)."),
]


def netboot_options(fn: Any) -> Any:
    for option in reversed(_NETBOOT_FLAGS):
        fn = option(fn)
    return fn


def _with_netboot(settings: Settings, flags: dict[str, Any]) -> Settings:
    """Merge netboot flags over the config file's ``netboot`` section."""
    section = dict(settings.netboot)
    mapping = {
        "nb_interfaces": "interfaces",
        "nb_server_ip": "server_ip",
        "nb_subnets": "subnets",
        "nb_router": "router",
        "nb_dns": "dns",
        "nb_domain": "domain",
        "nb_tftp_root": "tftp_root",
        "nb_boot_url": "boot_url",
        "nb_unknown": "unknown",
    }
    for flag, key in mapping.items():
        value = flags.get(flag)
        if value is None or value == ():
            continue
        section[key] = list(value) if isinstance(value, tuple) else value
    if flags.get("nb_pool"):
        start, sep, end = str(flags["nb_pool"]).partition("-")
        if not sep:
            raise ConfigError("--bootloop-pool must be START-END, e.g. 10.0.0.200-10.0.0.250")
        section["bootloop"] = {**section.get("bootloop", {}), "pool_start": start, "pool_end": end}
    return settings.model_copy(update={"netboot": section})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="pychami")
def main() -> None:
    """pychami: SMD, BSS, cloud-init and netboot for diskless HPC clusters.

    \b
    Quick start:
      pychami serve                      # SQLite + local token issuer on 127.0.0.1:8081
      export DEMO_ACCESS_TOKEN=$(pychami token create --sub admin)
      ochami smd service status
    """


@main.command()
@click.option("--listen", help="HOST:PORT to serve on (default 127.0.0.1:8081).")
@data_dir_option
@db_option
@config_option
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
@click.option("--log-format", type=click.Choice(["console", "json"]), help="Log format.")
@click.option("--workers", type=click.IntRange(1, 64), help="HTTP worker processes (default 1).")
@netboot_options
@handle_errors
def serve(
    listen: str | None,
    data_dir: Path | None,
    db: str | None,
    config: Path | None,
    log_level: str | None,
    log_format: str | None,
    workers: int | None,
    **netboot_flags: Any,
) -> None:
    """Run the all-in-one server (SMD, BSS, cloud-init, boot files).

    \b
    With --interface, the DHCP and TFTP daemons run in the same process:
      pychami serve --listen 0.0.0.0:8081 --interface eth1 --server-ip 172.16.0.254 \\
        --subnet 172.16.0.0/24 --router 172.16.0.254 --dns 172.16.0.254
    """
    from pychami.server import serve as run_server  # noqa: PLC0415 - keep other commands fast

    settings = _settings(
        config,
        listen=listen,
        data_dir=data_dir,
        db=db,
        log_level=log_level,
        log_format=log_format,
        workers=workers,
    )
    settings = _with_netboot(settings, netboot_flags)
    configure_logging(settings.log_level, settings.log_format)
    log = get_logger("pychami.serve")
    log.info(
        "pychami starting",
        version=__version__,
        listen=settings.listen,
        database=settings.database_url.split("@")[-1],
        auth=settings.auth.mode.value,
        workers=settings.workers,
    )
    if settings.auth.mode is AuthMode.LOCAL:
        # The absolute data directory: the token must be signed with this server's key, from any cwd.
        click.echo(
            "pychami: get an admin token with:\n"
            f"  export DEMO_ACCESS_TOKEN=$(pychami token create --data-dir {settings.data_dir.resolve()}"
            " --sub admin --scope admin --ttl 8h)"
            f"\npychami: API at {settings.base_url}",
            err=True,
        )
    run_server(settings)


@main.command()
@data_dir_option
@db_option
@config_option
@click.option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")
@netboot_options
@handle_errors
def netboot(
    data_dir: Path | None, db: str | None, config: Path | None, log_level: str | None, **netboot_flags: Any
) -> None:
    """Run only the DHCP and TFTP daemons (nodes and addresses come from SMD's database).

    \b
    Example:
      pychami netboot --data-dir /var/lib/pychami --interface eth1 --server-ip 172.16.0.254 \\
        --subnet 172.16.0.0/24 --router 172.16.0.254 --dns 172.16.0.254 \\
        --boot-url http://172.16.0.254:8081 --tftp-root /usr/lib/ipxe
    """
    from pychami.server import run_netboot  # noqa: PLC0415

    settings = _with_netboot(_settings(config, data_dir=data_dir, db=db, log_level=log_level), netboot_flags)
    configure_logging(settings.log_level, settings.log_format)
    run_netboot(settings, migrate_schema=True)


@main.group()
def token() -> None:
    """Tokens from pychami's own issuer."""


@token.command("create")
@data_dir_option
@config_option
@click.option("--sub", default="admin", show_default=True, help="Subject (who the token is for).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Scope to grant (repeat, or space-separated): smd:read smd:write bss:read bss:write "
    "cloud-init:read cloud-init:write admin. Default: admin.",
)
@click.option("--ttl", default="1h", show_default=True, help="Lifetime: 30m, 1h, 7d ...")
@handle_errors
def token_create(
    data_dir: Path | None, config: Path | None, sub: str, scopes: tuple[str, ...], ttl: str
) -> None:
    """Print a signed access token (export it as <CLUSTER>_ACCESS_TOKEN for ochami).

    \b
    Example:
      export DEMO_ACCESS_TOKEN=$(pychami token create --sub admin --scope admin --ttl 8h)
    """
    settings = _settings(config, data_dir=data_dir)
    if settings.auth.mode is not AuthMode.LOCAL:
        raise ConfigError(f"auth.mode is '{settings.auth.mode.value}': tokens come from the external issuer")
    try:
        seconds = parse_ttl(ttl)
    except ValueError as exc:
        raise BadRequest(f"--ttl: {exc}") from exc
    granted = [s for item in scopes for s in item.replace(",", " ").split()] or list(DEFAULT_SCOPES)
    issuer = LocalIssuer.load_or_create(settings.data_dir, settings.token_issuer, settings.auth.audience)
    click.echo(issuer.issue(sub, granted, seconds))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@data_dir_option
@db_option
@config_option
@handle_errors
def db_upgrade(data_dir: Path | None, db: str | None, config: Path | None) -> None:
    """Apply every pending migration (serve does this by itself)."""
    from pychami.core import migrate  # noqa: PLC0415
    from pychami.server import migration_dirs, open_database, upgrade_schema  # noqa: PLC0415

    settings = _settings(config, data_dir=data_dir, db=db)
    database = open_database(settings)
    upgrade_schema(database)
    click.echo("schema at: " + " ".join(sorted(migrate.current(database, migration_dirs()))))
    database.dispose()


main.add_command(status)


if __name__ == "__main__":  # pragma: no cover
    main()
