"""``ochami cloud-init ...``: cluster defaults, groups, per-node data and status (spec §3.8)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import click
import yaml

from pychami.cli.ochami.client import ServiceClient
from pychami.cli.ochami.common import names, payload_items, run_each
from pychami.cli.ochami.env import get_env
from pychami.cli.ochami.io import (
    confirm,
    data_options,
    emit,
    emit_body,
    no_confirm_option,
    output_option,
    read_payload,
)
from pychami.cli.ochami.render import render
from pychami.core.errors import BadRequest


def _client() -> ServiceClient:
    return get_env().client("cloud-init")


@click.group("cloud-init")
@click.option("--uri", metavar="URI", help="cloud-init base URI: absolute, or a path under the cluster URI.")
def cloud_init(uri: str | None) -> None:
    """cloud-init server: cluster defaults, group configs and per-node data.

    \b
    Examples:
      ochami cloud-init defaults set -f yaml -d @defaults.yaml
      ochami cloud-init group set -f yaml -d @compute-group.yaml
      ochami cloud-init node get meta-data x1000c0s0b0n0 -F yaml
      ochami cloud-init node get vendor-data x1000c0s0b0n0
    """
    if uri:
        get_env().service_uris["cloud-init"] = uri


# -- defaults ----------------------------------------------------------------------------------------
@cloud_init.group()
def defaults() -> None:
    """Cluster-wide defaults (/admin/cluster-defaults)."""


@defaults.command("get")
@output_option
def defaults_get(format_output: str) -> None:
    """Show the cluster defaults."""
    emit_body(_client().get("/admin/cluster-defaults").body, format_output)


@defaults.command("set")
@data_options
def defaults_set(data: str | None, format_input: str) -> None:
    """Set cluster defaults (non-empty fields overwrite).

    \b
    Example:
      ochami cloud-init defaults set -f yaml -d @defaults.yaml
    """
    if data is None:
        raise click.UsageError("give the defaults with -d")
    value = read_payload(data, format_input)
    if not isinstance(value, dict):
        raise BadRequest("payload must be one ClusterDefaults object")
    _client().post("/admin/cluster-defaults", value)


# -- group -------------------------------------------------------------------------------------------
@cloud_init.group()
def group() -> None:
    """Group cloud-configs and meta-data (/admin/groups)."""


@group.command("add")
@data_options
def group_add(data: str | None, format_input: str) -> None:
    """Add groups (a list of GroupData); an existing group is an error.

    \b
    Example:
      ochami cloud-init group add -f yaml -d @groups.yaml
    """
    if data is None:
        raise click.UsageError("give the groups with -d")
    client = _client()
    run_each(payload_items(data, format_input), lambda g: client.post("/admin/groups", g))


@group.command("set")
@data_options
def group_set(data: str | None, format_input: str) -> None:
    """Create or replace groups (a list of GroupData).

    \b
    Example:
      ochami cloud-init group set -f yaml -d @groups.yaml
    """
    if data is None:
        raise click.UsageError("give the groups with -d")
    client = _client()

    def put(g: dict[str, Any]) -> None:
        if not g.get("name"):
            raise BadRequest("every group needs a 'name'")
        client.put(f"/admin/groups/{g['name']}", g)

    run_each(payload_items(data, format_input), put)


@group.command("delete")
@click.argument("group_names", nargs=-1, metavar="[NAME]...")
@no_confirm_option
@data_options
def group_delete(group_names: tuple[str, ...], no_confirm: bool, data: str | None, format_input: str) -> None:
    """Delete groups by NAME or those of a payload."""
    targets = list(group_names)
    if data is not None:
        targets += [str(g.get("name")) for g in payload_items(data, format_input)]
    if not targets:
        raise click.UsageError("give group names or a payload with -d")
    if not confirm(f"Really delete groups {', '.join(targets)}?", no_confirm):
        return
    client = _client()
    run_each(targets, lambda n: client.delete(f"/admin/groups/{n}"))


def _groups(client: ServiceClient, wanted: tuple[str, ...]) -> list[dict[str, Any]]:
    if not wanted:
        all_groups = client.get("/admin/groups").json() or {}
        if isinstance(all_groups, dict):
            return [all_groups[k] for k in sorted(all_groups)]
        return list(all_groups)
    return [client.get(f"/admin/groups/{n}").json() for n in wanted]


@group.group("get")
def group_get() -> None:
    """Show groups: raw data, meta-data, or the decoded cloud-config."""


@group_get.command("raw")
@click.argument("group_names", nargs=-1, metavar="[NAME]...")
@output_option
def group_get_raw(group_names: tuple[str, ...], format_output: str) -> None:
    """Show groups as stored (all when no NAME)."""
    emit(_groups(_client(), group_names), format_output)


@group_get.command("meta-data")
@click.argument("group_names", nargs=-1, metavar="[NAME]...")
@output_option
def group_get_meta(group_names: tuple[str, ...], format_output: str) -> None:
    """Show the meta-data of groups (all when no NAME)."""
    emit([g.get("meta-data") for g in _groups(_client(), group_names)], format_output)


def decode_content(group: dict[str, Any]) -> str:
    """A group's cloud-config text, base64-decoded when its encoding says so."""
    file = group.get("file") or {}
    content = str(file.get("content") or "")
    if file.get("encoding") == "base64":
        try:
            return base64.b64decode(content).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest(f"group {group.get('name')!r}: content is not valid base64: {exc}") from exc
    return content


@group_get.command("config")
@click.argument("group_names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--headers", type=click.Choice(["always", "multiple", "never"]), default="multiple", show_default=True,
    help="Print a '# group: NAME' line before each config.",
)  # fmt: skip
def group_get_config(group_names: tuple[str, ...], headers: str) -> None:
    """Print the decoded cloud-config of groups."""
    groups = _groups(_client(), group_names)
    show = headers == "always" or (headers == "multiple" and len(groups) > 1)
    for g in groups:
        if show:
            click.echo(f"# group: {g.get('name')}")
        text = decode_content(g)
        click.echo(text, nl=not text.endswith("\n"))


@group.command("render")
@click.argument("group_name", metavar="GROUP")
@click.argument("node")
def group_render(group_name: str, node: str) -> None:
    """Render GROUP's Jinja cloud-config with NODE's meta-data, as the node's cloud-init would.

    Rendering happens here (the server never renders templates), in Jinja's sandbox.

    \b
    Example:
      ochami cloud-init group render compute x1000c0s0b0n0
    """
    client = _client()
    config = decode_content(client.get(f"/admin/groups/{group_name}").json() or {})
    text = client.get(f"/admin/impersonation/{node}/meta-data").body.decode()
    try:
        meta = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadRequest(f"meta-data of {node} is not YAML: {exc}") from exc
    out = render(config, meta)
    click.echo(out, nl=not out.endswith("\n"))


def _raw(path: str) -> None:
    body = _client().get(path).body.decode(errors="replace")
    click.echo(body, nl=not body.endswith("\n"))


# -- node --------------------------------------------------------------------------------------------
@cloud_init.group()
def node() -> None:
    """Per-node instance data, and what a node would get."""


@node.command("set")
@data_options
def node_set(data: str | None, format_input: str) -> None:
    """Set nodes' instance info (a list of objects with an "id").

    \b
    Example:
      ochami cloud-init node set -d '[{"id":"x1000c0s0b0n0","local-hostname":"compute1"}]'
    """
    if data is None:
        raise click.UsageError("give the instance info with -d")
    client = _client()

    def put(item: dict[str, Any]) -> None:
        if not item.get("id"):
            raise BadRequest("every item needs an 'id'")
        client.put(f"/admin/instance-info/{item['id']}", item)

    run_each(payload_items(data, format_input), put)


@node.group("get")
def node_get() -> None:
    """What nodes get from cloud-init."""


@node_get.command("meta-data")
@click.argument("nodes", nargs=-1, required=True)
@output_option
def node_get_meta(nodes: tuple[str, ...], format_output: str) -> None:
    """Show nodes' meta-data, as a list with one element per node (ranges work)."""
    client = _client()
    out: list[Any] = []
    for n in names(nodes):
        text = client.get(f"/admin/impersonation/{n}/meta-data").body.decode()
        try:
            out.append(yaml.safe_load(text))
        except yaml.YAMLError:
            out.append(json.loads(text))
    emit(out, format_output)


@node_get.command("user-data")
@click.argument("nodes", nargs=-1, required=True)
def node_get_user(nodes: tuple[str, ...]) -> None:
    """Print nodes' user-data."""
    for n in names(nodes):
        _raw(f"/admin/impersonation/{n}/user-data")


@node_get.command("vendor-data")
@click.argument("nodes", nargs=-1, required=True)
def node_get_vendor(nodes: tuple[str, ...]) -> None:
    """Print nodes' vendor-data (the #include list of their groups).

    \b
    Example:
      ochami cloud-init node get vendor-data x1000c0s0b0n0
    """
    for n in names(nodes):
        _raw(f"/admin/impersonation/{n}/vendor-data")


@node_get.command("group")
@click.argument("node_name", metavar="NODE")
@click.argument("groups", nargs=-1, required=True)
def node_get_group(node_name: str, groups: tuple[str, ...]) -> None:
    """Print the cloud-config of GROUPS as NODE gets it."""
    for g in groups:
        _raw(f"/admin/impersonation/{node_name}/{g}.yaml")


# -- service -----------------------------------------------------------------------------------------
@cloud_init.group()
def service() -> None:
    """cloud-init service state."""


@service.command("status")
@click.option("--api", is_flag=True, help="Check the API document (/openapi.json) instead of /version.")
@click.option("-q", "--quiet", is_flag=True, help="No output; only the exit status.")
def service_status(api: bool, quiet: bool) -> None:
    """Is the cloud-init server running? Prints "cloud-init is running"."""
    _client().get("/openapi.json" if api else "/version", auth=False)
    if not quiet:
        click.echo("cloud-init API is reachable" if api else "cloud-init is running")


@service.command("version")
@output_option
def service_version(format_output: str) -> None:
    """The server's version information."""
    emit_body(_client().get("/version", auth=False).body, format_output)
