"""``magellan secrets``: the encrypted BMC credential store."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from pychami.cli.common import handle_errors
from pychami.cli.magellan.app import (
    DEFAULT_SECRETS_FILE,
    emit,
    fmt_option,
    main,
)
from pychami.core.errors import ConfigError
from pychami.discovery.secrets import SecretStore, generate_key, parse_master_key, parse_secret


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


def _openstore_for(path: Path) -> SecretStore:
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
def secretsstore_for(secret_id: str, value: str, fmt: str, secrets_file: Path) -> None:
    """Encrypt and store the credentials of SECRET_ID (a BMC xname, host, or 'default')."""
    _openstore_for(secrets_file).store(secret_id, parse_secret(value, fmt))


@secrets_group.command("retrieve")
@click.argument("secret_id")
@secrets_file_option
@handle_errors
def secrets_retrieve(secret_id: str, secrets_file: Path) -> None:
    """Decrypt and print the credentials of SECRET_ID as JSON."""
    creds = _openstore_for(secrets_file).retrieve(secret_id)
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
