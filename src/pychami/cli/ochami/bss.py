"""``ochami bss ...``: boot parameters, boot scripts, hosts, state and status of BSS (spec §2.7)."""

from __future__ import annotations

import re
from typing import Any

import click

from pychami.cli.ochami.client import ServiceClient
from pychami.cli.ochami.common import names, nids
from pychami.cli.ochami.env import get_env
from pychami.cli.ochami.io import (
    confirm,
    data_options,
    emit_body,
    no_confirm_option,
    output_option,
    read_payload,
)
from pychami.core.errors import BadRequest

_MAC = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")


def empty_cloud_init() -> dict[str, Any]:
    """The ``cloud-init`` block BSS always carries (upstream's client sends it too)."""
    return {
        "meta-data": None,
        "user-data": None,
        "phone-home": {
            "pub_key_dsa": "",
            "pub_key_rsa": "",
            "pub_key_ecdsa": "",
            "instance_id": "",
            "hostname": "",
            "fqdn": "",
        },
    }


def _client() -> ServiceClient:
    return get_env().client("bss")


@click.group()
@click.option("--uri", metavar="URI", help="BSS base URI: absolute, or a path under the cluster URI.")
def bss(uri: str | None) -> None:
    """Boot Script Service: kernels, initrds and command lines per node.

    \b
    Examples:
      ochami bss service status
      ochami bss boot params set -f yaml -d @boot-debug.yaml
      ochami bss boot params get -F yaml
      ochami bss boot script get -m 52:54:00:be:ef:01
    """
    if uri:
        get_env().service_uris["bss"] = uri


@bss.group()
def boot() -> None:
    """Boot parameters, images and scripts."""


@boot.group()
def params() -> None:
    """Boot parameters (/bootparameters)."""


def _selector_options(fn: Any) -> Any:
    fn = click.option("-n", "--nid", "nid_values", multiple=True, help="NID(s): 1, 1-4, [1-4,7].")(fn)
    fn = click.option("-m", "--mac", "macs", multiple=True, help="MAC address(es).")(fn)
    return click.option("-x", "--xname", "xnames", multiple=True, help="Xname(s); ranges work.")(fn)


def _selector(
    xnames: tuple[str, ...], macs: tuple[str, ...], nid_values: tuple[str, ...]
) -> dict[str, list[str]]:
    query = {"name": names(xnames), "mac": names(macs), "nid": [str(n) for n in nids(nid_values)]}
    return {k: v for k, v in query.items() if v}


@params.command("get")
@_selector_options
@output_option
def params_get(
    xnames: tuple[str, ...], macs: tuple[str, ...], nid_values: tuple[str, ...], format_output: str
) -> None:
    """Get boot parameters: all, or those of some xnames, MACs or NIDs.

    \b
    Examples:
      ochami bss boot params get -F yaml
      ochami bss boot params get -x 'x1000c0s0b[0-4]n0'
    """
    reply = _client().get("/bootparameters", _selector(xnames, macs, nid_values) or None)
    emit_body(reply.body, format_output)


def build_params(
    data: str | None,
    format_input: str,
    xnames: tuple[str, ...],
    macs: tuple[str, ...],
    nid_values: tuple[str, ...],
    kernel: str | None,
    initrd: str | None,
    cmdline: str | None,
) -> dict[str, Any]:
    """BootParams from a payload, then the flags on top; MACs validated; cloud-init block added."""
    body: dict[str, Any] = {}
    if data is not None:
        value = read_payload(data, format_input)
        if not isinstance(value, dict):
            raise BadRequest("payload must be one BootParams object")
        body = dict(value)
    if xnames:
        body["hosts"] = names(xnames)
    if macs:
        body["macs"] = names(macs)
    if nid_values:
        body["nids"] = nids(nid_values)
    for key, flag in (("kernel", kernel), ("initrd", initrd), ("params", cmdline)):
        if flag is not None:
            body[key] = flag
    for mac in body.get("macs") or []:
        if not isinstance(mac, str) or not _MAC.match(mac):
            raise BadRequest(f"invalid MAC address: {mac!r}")
    body.setdefault("cloud-init", empty_cloud_init())
    return body


def _write_options(fn: Any) -> Any:
    fn = click.option("--params", "cmdline", help="Kernel command line.")(fn)
    fn = click.option("--initrd", help="Initrd URI.")(fn)
    fn = click.option("--kernel", help="Kernel URI.")(fn)
    fn = _selector_options(fn)
    return data_options(fn)


def _write(method: str, ctx: click.Context, **kw: Any) -> dict[str, Any] | None:
    if (
        kw["data"] is None
        and not any(kw[k] for k in ("xnames", "macs", "nid_values"))
        and not any(kw[k] is not None for k in ("kernel", "initrd", "cmdline"))
    ):
        click.echo(ctx.get_help())
        return None
    return build_params(**kw)


@params.command("set")
@_write_options
@click.pass_context
def params_set(ctx: click.Context, /, **kw: Any) -> None:
    """Set boot parameters (PUT: add missing nodes, replace existing ones).

    \b
    Examples:
      ochami bss boot params set -f yaml -d @boot-debug.yaml
      ochami bss boot params set -m 52:54:00:be:ef:01 --kernel http://h/vmlinuz --initrd http://h/initrd
    """
    body = _write("PUT", ctx, **kw)
    if body is not None:
        _client().put("/bootparameters", body)


@params.command("add")
@_write_options
@click.pass_context
def params_add(ctx: click.Context, /, **kw: Any) -> None:
    """Add boot parameters for nodes that have none (POST)."""
    body = _write("POST", ctx, **kw)
    if body is not None:
        _client().post("/bootparameters", body)


@params.command("update")
@_write_options
@click.pass_context
def params_update(ctx: click.Context, /, **kw: Any) -> None:
    """Update boot parameters of nodes that have some (PATCH).

    \b
    Example:
      ochami bss boot params update -x x1000c0s0b0n0 --params 'console=ttyS0 quiet'
    """
    body = _write("PATCH", ctx, **kw)
    if body is not None:
        _client().patch("/bootparameters", body)


@params.command("delete")
@_write_options
@no_confirm_option
@click.pass_context
def params_delete(ctx: click.Context, /, no_confirm: bool, **kw: Any) -> None:
    """Delete boot parameters of the given nodes (or configs matching --kernel/--initrd/--params).

    \b
    Example:
      ochami bss boot params delete --no-confirm -m 52:54:00:be:ef:01
    """
    body = _write("DELETE", ctx, **kw)
    if body is None:
        return
    if confirm("Really delete these boot parameters?", no_confirm):
        _client().delete("/bootparameters", body)


@boot.group()
def image() -> None:
    """The root image in nodes' kernel command lines."""


def set_root(cmdline: str, image_uri: str) -> str:
    """Replace (or add) the ``root=`` argument of a kernel command line."""
    tokens = cmdline.split()
    for i, tok in enumerate(tokens):
        if tok.startswith("root="):
            tokens[i] = f"root={image_uri}"
            return " ".join(tokens)
    return " ".join([*tokens, f"root={image_uri}"])


@image.command("set")
@_selector_options
@click.argument("image_uri", metavar="IMAGE")
def image_set(
    xnames: tuple[str, ...], macs: tuple[str, ...], nid_values: tuple[str, ...], image_uri: str
) -> None:
    """Point the nodes' root= kernel argument at IMAGE.

    \b
    Example:
      ochami bss boot image set -x 'x1000c0s0b[0-4]n0' live:http://172.16.0.254:9000/boot-images/compute/debug/img
    """
    selector = _selector(xnames, macs, nid_values)
    if not selector:
        raise click.UsageError("select nodes with -x, -m or -n")
    client = _client()
    configs = client.get("/bootparameters", selector).json() or []
    for cfg in configs:
        cfg["params"] = set_root(str(cfg.get("params") or ""), image_uri)
        cfg.setdefault("cloud-init", empty_cloud_init())
        client.put("/bootparameters", cfg)


@boot.group()
def script() -> None:
    """Boot scripts (/bootscript)."""


@script.command("get")
@click.option("-x", "--xname", help="Xname.")
@click.option("-m", "--mac", help="MAC address.")
@click.option("-n", "--nid", type=int, help="NID.")
@click.option("--retry", type=int, help="Retry counter.")
@click.option("--arch", help="Architecture (as iPXE's ${buildarch}).")
@click.option("--timestamp", type=int, help="Timestamp (ts=).")
def script_get(
    xname: str | None,
    mac: str | None,
    nid: int | None,
    retry: int | None,
    arch: str | None,
    timestamp: int | None,
) -> None:
    """Print the iPXE boot script of one node (no token needed).

    \b
    Example:
      ochami bss boot script get -m 52:54:00:be:ef:01
    """
    keys = {"name": xname, "mac": mac, "nid": str(nid) if nid is not None else None}
    given = {k: v for k, v in keys.items() if v is not None}
    if len(given) != 1:
        raise click.UsageError("use exactly one of -x, -m, -n")
    query: dict[str, str] = {k: v for k, v in given.items() if v is not None}
    for key, value in (("retry", retry), ("arch", arch), ("ts", timestamp)):
        if value is not None:
            query[key] = str(value)
    reply = _client().get("/bootscript", query, auth=False)
    click.echo(reply.body.decode(), nl=False)


@bss.group()
def hosts() -> None:
    """Nodes as BSS sees them (from SMD)."""


@hosts.command("get")
@_selector_options
@output_option
def hosts_get(
    xnames: tuple[str, ...], macs: tuple[str, ...], nid_values: tuple[str, ...], format_output: str
) -> None:
    """Get the nodes BSS knows, optionally some of them."""
    reply = _client().get("/hosts", _selector(xnames, macs, nid_values) or None, auth=False)
    emit_body(reply.body, format_output)


@bss.command("dumpstate")
@output_option
def dumpstate(format_output: str) -> None:
    """Dump BSS's view: hosts and boot parameters."""
    emit_body(_client().get("/dumpstate", auth=False).body, format_output)


@bss.command("history")
@click.option("--xname", "xnames", multiple=True, help="Xname(s).")
@click.option("--endpoint", type=click.Choice(["bootscript", "user-data"]), help="Endpoint.")
@output_option
def history(xnames: tuple[str, ...], endpoint: str | None, format_output: str) -> None:
    """When nodes last fetched their boot script or user-data."""
    query: dict[str, list[str]] = {"name": names(xnames)}
    if endpoint:
        query["endpoint"] = [endpoint]
    reply = _client().get("/endpoint-history", {k: v for k, v in query.items() if v} or None, auth=False)
    emit_body(reply.body, format_output)


@bss.group()
def service() -> None:
    """BSS service state."""


def _status(all_: bool, storage: bool, smd: bool, format_output: str) -> None:
    if sum((all_, storage, smd)) > 1:
        raise click.UsageError("use at most one of --all, --storage, --smd")
    path = (
        "/service/status/all"
        if all_
        else "/service/storage/status"
        if storage
        else "/service/hsm"
        if smd
        else "/service/status"
    )
    emit_body(_client().get(path, auth=False).body, format_output)


@service.command("status")
@click.option("--all", "all_", is_flag=True, help="Everything: version, storage, SMD.")
@click.option("--storage", is_flag=True, help="Storage backend only.")
@click.option("--smd", is_flag=True, help="SMD connection only.")
@output_option
def service_status(all_: bool, storage: bool, smd: bool, format_output: str) -> None:
    """Is BSS running? Prints {"bss-status":"running"}."""
    _status(all_, storage, smd, format_output)


@service.command("version")
@output_option
def service_version(format_output: str) -> None:
    """BSS version."""
    emit_body(_client().get("/service/version", auth=False).body, format_output)


@bss.command("status", hidden=True)
@click.option("--all", "all_", is_flag=True)
@click.option("--storage", is_flag=True)
@click.option("--smd", is_flag=True)
@output_option
def status_deprecated(all_: bool, storage: bool, smd: bool, format_output: str) -> None:
    """Deprecated: use `ochami bss service status`."""
    get_env().log("warning", "`ochami bss status` is deprecated: use `ochami bss service status`")
    _status(all_, storage, smd, format_output)
