"""``ochami config ...``: show and edit the system, user or a given config file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pychami.cli.ochami import config as cfg
from pychami.cli.ochami.env import Env, get_env
from pychami.cli.ochami.io import encode
from pychami.core.errors import BadRequest

F = TypeVar("F", bound=Callable[..., Any])


def _target_options(fn: F) -> F:
    fn = click.option(
        "--config", "target_file", type=click.Path(dir_okay=False, path_type=Path), help="Edit this file."
    )(fn)
    fn = click.option("--system", is_flag=True, help="Edit the system config (/etc/ochami/config.yaml).")(fn)
    return click.option("--user", is_flag=True, help="Edit the user config (the default).")(fn)


def _target(env: Env, user: bool, system: bool, target_file: Path | None) -> Path:
    if sum((user, system, target_file is not None)) > 1:
        raise BadRequest("--user, --system and --config are mutually exclusive")
    if target_file is not None:
        return target_file
    if system:
        return cfg.system_config_path(env.environ)
    if user:
        return cfg.user_config_path(env.environ)
    return env.config_file or cfg.user_config_path(env.environ)


def _format_option(fn: F) -> F:
    return click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(["yaml", "json", "json-pretty"]),
        default="yaml",
        show_default=True,
        help="Output format.",
    )(fn)


@click.group()
def config() -> None:
    """Show or change ochami's configuration.

    \b
    The system file /etc/ochami/config.yaml is merged with the user file ~/.config/ochami/config.yaml
    (user values win; clusters are merged by name). -c FILE uses that one file only.
    \b
    Examples:
      ochami config cluster set --system --default demo cluster.uri https://demo.openchami.cluster:8443
      ochami config set --user log.level debug
      ochami config show
      ochami config show default-cluster
    """


@config.command("show")
@click.argument("key", required=False)
@_format_option
def show(key: str | None, fmt: str) -> None:
    """Print the effective (merged) configuration, or one KEY of it (e.g. log.format)."""
    env = get_env()
    data: Any = env.config
    if key:
        try:
            data = cfg.get_key(env.config, key)
        except KeyError:
            raise BadRequest(f"key {key!r} is not set") from None
    if isinstance(data, str | int | float | bool) and fmt == "yaml":
        click.echo(str(data).lower() if isinstance(data, bool) else str(data))
        return
    click.echo(encode(data, fmt))


@config.command("set")
@_target_options
@click.argument("key")
@click.argument("value")
def set_(user: bool, system: bool, target_file: Path | None, key: str, value: str) -> None:
    """Set KEY (default-cluster, log.format, log.level) to VALUE in one config file.

    \b
    Example:
      ochami config set --user default-cluster demo
    """
    env = get_env()
    path = _target(env, user, system, target_file)
    data = cfg.read_file(path)
    cfg.set_key(data, key, value)
    cfg.write_file(path, data)


@config.command("unset")
@_target_options
@click.argument("key")
def unset(user: bool, system: bool, target_file: Path | None, key: str) -> None:
    """Remove KEY from one config file."""
    env = get_env()
    path = _target(env, user, system, target_file)
    data = cfg.read_file(path)
    cfg.unset_key(data, key)
    cfg.write_file(path, data)


@config.group("cluster")
def cluster() -> None:
    """Add, change, show or delete clusters.

    \b
    Keys: name, cluster.uri, cluster.enable-auth, cluster.smd.uri, cluster.bss.uri,
    cluster.cloud-init.uri, cluster.pcs.uri. A service URI may be absolute (replaces the cluster URI
    and the default base path) or a path relative to cluster.uri.
    \b
    Examples:
      ochami config cluster set --user --default demo cluster.uri http://127.0.0.1:8081
      ochami config cluster set demo cluster.smd.uri /hsm/v2
      ochami config cluster show demo
      ochami config cluster delete demo
    """


@cluster.command("set")
@_target_options
@click.option("-d", "--default", "make_default", is_flag=True, help="Also make it the default cluster.")
@click.argument("name")
@click.argument("key")
@click.argument("value")
def cluster_set(
    user: bool, system: bool, target_file: Path | None, make_default: bool, name: str, key: str, value: str
) -> None:
    """Set KEY of cluster NAME to VALUE (the cluster is created if new)."""
    env = get_env()
    path = _target(env, user, system, target_file)
    data = cfg.read_file(path)
    cfg.cluster_set(data, name, key, value)
    if make_default:
        data["default-cluster"] = value if key == "name" else name
    cfg.write_file(path, data)


@cluster.command("unset")
@_target_options
@click.argument("name")
@click.argument("key")
def cluster_unset(user: bool, system: bool, target_file: Path | None, name: str, key: str) -> None:
    """Remove KEY from cluster NAME."""
    env = get_env()
    path = _target(env, user, system, target_file)
    data = cfg.read_file(path)
    cfg.cluster_unset(data, name, key)
    cfg.write_file(path, data)


@cluster.command("delete")
@_target_options
@click.argument("name")
def cluster_delete(user: bool, system: bool, target_file: Path | None, name: str) -> None:
    """Delete cluster NAME from one config file."""
    env = get_env()
    path = _target(env, user, system, target_file)
    data = cfg.read_file(path)
    cfg.cluster_delete(data, name)
    cfg.write_file(path, data)


@cluster.command("show")
@click.argument("name", required=False)
@click.argument("key", required=False)
@_format_option
def cluster_show(name: str | None, key: str | None, fmt: str) -> None:
    """Show every cluster, cluster NAME, or one KEY of it (merged config)."""
    env = get_env()
    clusters = env.config.get("clusters") or []
    if name is None:
        click.echo(encode(clusters, fmt))
        return
    for entry in clusters:
        if entry.get("name") == name:
            data: Any = entry
            if key:
                try:
                    data = cfg.get_key(entry, key)
                except KeyError:
                    raise BadRequest(f"key {key!r} is not set for cluster {name!r}") from None
            if isinstance(data, str | int | float | bool) and fmt == "yaml":
                click.echo(str(data).lower() if isinstance(data, bool) else str(data))
            else:
                click.echo(encode(data, fmt))
            return
    raise BadRequest(f"cluster {name!r} not found")
