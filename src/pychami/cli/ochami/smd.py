"""``ochami smd ...``: components, interfaces, Redfish endpoints, component endpoints, groups, status.

Each command maps to the SMD request of spec §5.4; list flags take hostlist ranges as well.
"""

from __future__ import annotations

from typing import Any

import click

from pychami.cli.ochami.client import ServiceClient
from pychami.cli.ochami.common import names, need_exactly_one, nids, payload_items, run_each
from pychami.cli.ochami.env import get_env
from pychami.cli.ochami.io import confirm, data_options, emit_body, no_confirm_option, output_option
from pychami.core.errors import BadRequest


def _client() -> ServiceClient:
    return get_env().client("smd")


@click.group()
@click.option("--uri", metavar="URI", help="SMD base URI: absolute, or a path under the cluster URI.")
def smd(uri: str | None) -> None:
    """State Management Database (HSM): inventory of components, interfaces, BMCs and groups.

    \b
    Examples:
      ochami smd service status
      ochami smd component get -F table
      ochami smd component get -x 'x1000c0s0b[0-4]n0'
      ochami smd iface get --comp-id x1000c0s0b0n0
      ochami smd group get --name compute
    """
    if uri:
        get_env().service_uris["smd"] = uri


# -- component ---------------------------------------------------------------------------------------
@smd.group()
def component() -> None:
    """Components (/State/Components)."""


@component.command("add")
@click.argument("xname", required=False)
@click.argument("nid", required=False, type=int)
@click.option("--state", default="Ready", show_default=True, help="Component state.")
@click.option(
    "--enabled",
    type=click.BOOL,
    default=True,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Enabled (true/false).",
)
@click.option("--role", default="Compute", show_default=True, help="Role.")
@click.option("--arch", default="X86", show_default=True, help="Architecture.")
@data_options
def component_add(
    xname: str | None,
    nid: int | None,
    state: str,
    enabled: bool,
    role: str,
    arch: str,
    data: str | None,
    format_input: str,
) -> None:
    """Add components: XNAME NID, or a payload ({"Components":[...]}) with -d.

    \b
    Examples:
      ochami smd component add x1000c0s0b0n0 1
      ochami smd component add --state On --role Service x1000c0s0b5n0 6
      ochami smd component add -f yaml -d @components.yaml
    """
    if data is not None:
        comps = payload_items(data, format_input, "Components")
    else:
        if xname is None or nid is None:
            raise click.UsageError("give XNAME and NID, or a payload with -d")
        comps = [{"ID": xname, "NID": nid, "State": state, "Enabled": enabled, "Role": role, "Arch": arch}]
    _client().post("/State/Components", {"Components": comps})


@component.command("get")
@click.option("-x", "--xname", "xnames", multiple=True, help="Xname(s); comma lists and ranges work.")
@click.option("-n", "--nid", "nid_values", multiple=True, help="NID(s): 1, 1-4, [1-4,7].")
@output_option
def component_get(xnames: tuple[str, ...], nid_values: tuple[str, ...], format_output: str) -> None:
    """Get all components, or some by xname or NID.

    \b
    Examples:
      ochami smd component get | jq '.Components[] | select(.Type == "Node")'
      ochami smd component get -x x1000c0s0b0n0
      ochami smd component get -n 1-5 -F table
    """
    client = _client()
    if xnames and nid_values:
        raise click.UsageError("use -x or -n, not both")
    if xnames:
        ids = names(xnames)
        if len(ids) == 1:
            reply = client.get(f"/State/Components/{ids[0]}")
        else:
            reply = client.post("/State/Components/Query", {"ComponentIDs": ids})
    elif nid_values:
        numbers = nids(nid_values)
        if len(numbers) == 1:
            reply = client.get(f"/State/Components/ByNID/{numbers[0]}")
        else:
            reply = client.post("/State/Components/ByNID/Query", {"NIDRanges": [str(n) for n in numbers]})
    else:
        reply = client.get("/State/Components", auth=False)
    emit_body(reply.body, format_output)


def _delete_targets(
    ids: list[str], all_: bool, data: str | None, format_input: str, wrapper: str | None, key: str
) -> list[str] | None:
    need_exactly_one(**{"arguments": bool(ids), "--all": all_, "-d": data is not None})
    if all_:
        return None
    if data is not None:
        items = payload_items(data, format_input, wrapper)
        try:
            return [str(item[key]) for item in items]
        except KeyError:
            raise BadRequest(f"every payload item needs {key!r}") from None
    return ids


def _delete(
    kind: str, collection: str, ids: list[str] | None, no_confirm: bool, path_for: Any = None
) -> None:
    client = _client()
    if ids is None:
        if confirm(f"Really delete ALL {kind.upper()}S?", no_confirm):
            client.delete(collection)
        return
    if not confirm(f"Really delete {kind}s {', '.join(ids)}?", no_confirm):
        return
    run_each(ids, lambda i: client.delete(path_for(i) if path_for else f"{collection}/{i}"))


@component.command("delete")
@click.argument("xnames", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete every component.")
@no_confirm_option
@data_options
def component_delete(
    xnames: tuple[str, ...], all_: bool, no_confirm: bool, data: str | None, format_input: str
) -> None:
    """Delete components by XNAME (ranges work), all of them, or those of a payload.

    \b
    Examples:
      ochami smd component delete x1000c0s0b0n0
      ochami smd component delete --no-confirm 'x1000c0s0b[0-4]n0'
      ochami smd component delete --all --no-confirm
    """
    ids = _delete_targets(names(xnames), all_, data, format_input, "Components", "ID")
    _delete("component", "/State/Components", ids, no_confirm)


# -- iface -------------------------------------------------------------------------------------------
@smd.group()
def iface() -> None:
    """Ethernet interfaces (/Inventory/EthernetInterfaces)."""


@iface.command("add")
@click.argument("comp_id", required=False)
@click.argument("mac", required=False)
@click.argument("net_ips", nargs=-1, metavar="[NET,IP]...")
@click.option(
    "-D",
    "--description",
    default="Undescribed Ethernet Interface",
    show_default=True,
    help="Description.",
)
@data_options
def iface_add(
    comp_id: str | None,
    mac: str | None,
    net_ips: tuple[str, ...],
    description: str,
    data: str | None,
    format_input: str,
) -> None:
    """Add an interface: COMP_ID MAC [NET,IP]..., or a list of interfaces with -d.

    \b
    Examples:
      ochami smd iface add x1000c0s0b0n0 52:54:00:be:ef:01 management,172.16.0.1
      ochami smd iface add -d '[{"ComponentID":"x1000c0s0b0n0","MACAddress":"52:54:00:be:ef:01"}]'
    """
    if data is not None:
        items = payload_items(data, format_input, "EthernetInterfaces")
    else:
        if comp_id is None or mac is None:
            raise click.UsageError("give COMP_ID and MAC (and NET,IP pairs), or a payload with -d")
        ips = []
        for pair in net_ips:
            net, sep, ip = pair.partition(",")
            if not sep or not ip:
                raise click.UsageError(f"{pair!r}: expected NETWORK,IP")
            ips.append({"IPAddress": ip, "Network": net})
        items = [{"ComponentID": comp_id, "MACAddress": mac, "Description": description, "IPAddresses": ips}]
    client = _client()
    run_each(items, lambda item: client.post("/Inventory/EthernetInterfaces", item))


@iface.command("get")
@click.option("-i", "--id", "iface_id", help="Interface ID (MAC without colons).")
@click.option("--by-ip", is_flag=True, help="With -i: only the interface's IP addresses.")
@click.option("-m", "--mac", "macs", multiple=True, help="MAC address(es).")
@click.option("--ip", "ips", multiple=True, help="IP address(es).")
@click.option("--net", "nets", multiple=True, help="Network name(s).")
@click.option("--comp-id", "comp_ids", multiple=True, help="Component xname(s); ranges work.")
@click.option("--type", "types", multiple=True, help="Component type(s), e.g. Node.")
@click.option("--older-than", help="Only interfaces updated before this RFC 3339 time.")
@click.option("--newer-than", help="Only interfaces updated after this RFC 3339 time.")
@output_option
def iface_get(
    iface_id: str | None,
    by_ip: bool,
    macs: tuple[str, ...],
    ips: tuple[str, ...],
    nets: tuple[str, ...],
    comp_ids: tuple[str, ...],
    types: tuple[str, ...],
    older_than: str | None,
    newer_than: str | None,
    format_output: str,
) -> None:
    """Get interfaces: all, filtered, or one by ID.

    \b
    Examples:
      ochami smd iface get -F table
      ochami smd iface get --comp-id 'x1000c0s0b[0-4]n0' --net management
      ochami smd iface get -i 525400beef01 --by-ip
    """
    client = _client()
    if iface_id:
        path = f"/Inventory/EthernetInterfaces/{iface_id}" + ("/IPAddresses" if by_ip else "")
        reply = client.get(path)
    else:
        if by_ip:
            raise click.UsageError("--by-ip needs -i/--id")
        params: dict[str, list[str]] = {
            "MACAddress": names(macs),
            "IPAddress": names(ips),
            "Network": names(nets),
            "ComponentID": names(comp_ids),
            "Type": names(types),
        }
        if older_than:
            params["OlderThan"] = [older_than]
        if newer_than:
            params["NewerThan"] = [newer_than]
        reply = client.get(
            "/Inventory/EthernetInterfaces", {k: v for k, v in params.items() if v}, auth=False
        )
    emit_body(reply.body, format_output)


@iface.command("delete")
@click.argument("ids", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete every interface.")
@no_confirm_option
@data_options
def iface_delete(
    ids: tuple[str, ...], all_: bool, no_confirm: bool, data: str | None, format_input: str
) -> None:
    """Delete interfaces by ID, all of them, or those of a payload.

    \b
    Example:
      ochami smd iface delete --no-confirm 525400beef01
    """
    targets = _delete_targets(list(ids), all_, data, format_input, "EthernetInterfaces", "ID")
    _delete("interface", "/Inventory/EthernetInterfaces", targets, no_confirm)


# -- rfe ---------------------------------------------------------------------------------------------
@smd.group()
def rfe() -> None:
    """Redfish endpoints, i.e. BMCs (/Inventory/RedfishEndpoints)."""


@rfe.command("add")
@click.argument("xname", required=False)
@click.argument("name", required=False)
@click.argument("ip", required=False)
@click.argument("mac", required=False)
@click.option("--domain", default="", help="Domain.")
@click.option("--hostname", default="", help="Hostname (default: the xname).")
@click.option("--username", default="", help="Redfish user name.")
@click.option("--password", default="", help="Redfish password.")
@data_options
def rfe_add(
    xname: str | None,
    name: str | None,
    ip: str | None,
    mac: str | None,
    domain: str,
    hostname: str,
    username: str,
    password: str,
    data: str | None,
    format_input: str,
) -> None:
    """Add a Redfish endpoint: XNAME NAME IP MAC, or {"RedfishEndpoints":[...]} with -d.

    \b
    Example:
      ochami smd rfe add x1000c0s0b0 bmc1 172.16.0.101 de:ca:fc:0f:fe:e1
    """
    if data is not None:
        items = payload_items(data, format_input, "RedfishEndpoints")
    else:
        if not (xname and name and ip and mac):
            raise click.UsageError("give XNAME NAME IP MAC, or a payload with -d")
        item: dict[str, Any] = {"ID": xname, "Name": name, "IPAddress": ip, "MACAddr": mac, "Enabled": True}
        for key, value in (("Domain", domain), ("Hostname", hostname), ("User", username)):
            if value:
                item[key] = value
        if password:
            item["Password"] = password
        items = [item]
    client = _client()
    run_each(items, lambda i: client.post("/Inventory/RedfishEndpoints", i))


@rfe.command("get")
@click.option("-x", "--xname", "xnames", multiple=True, help="BMC xname(s); ranges work.")
@click.option("--fqdn", "fqdns", multiple=True, help="FQDN(s).")
@click.option("--type", "types", multiple=True, help="Type(s), e.g. NodeBMC.")
@click.option("--uuid", "uuids", multiple=True, help="UUID(s).")
@click.option("-m", "--mac", "macs", multiple=True, help="MAC address(es).")
@click.option("-i", "--ip", "ips", multiple=True, help="IP address(es).")
@output_option
def rfe_get(
    xnames: tuple[str, ...],
    fqdns: tuple[str, ...],
    types: tuple[str, ...],
    uuids: tuple[str, ...],
    macs: tuple[str, ...],
    ips: tuple[str, ...],
    format_output: str,
) -> None:
    """Get Redfish endpoints, optionally filtered.

    \b
    Example:
      ochami smd rfe get -x 'x1000c0s0b[0-4]' -F table
    """
    params = {
        "id": names(xnames),
        "fqdn": names(fqdns),
        "type": names(types),
        "uuid": names(uuids),
        "macaddr": names(macs),
        "ipaddress": names(ips),
    }
    reply = _client().get("/Inventory/RedfishEndpoints", {k: v for k, v in params.items() if v})
    emit_body(reply.body, format_output)


@rfe.command("delete")
@click.argument("xnames", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete every Redfish endpoint.")
@no_confirm_option
@data_options
def rfe_delete(
    xnames: tuple[str, ...], all_: bool, no_confirm: bool, data: str | None, format_input: str
) -> None:
    """Delete Redfish endpoints by xname, all of them, or those of a payload."""
    targets = _delete_targets(names(xnames), all_, data, format_input, "RedfishEndpoints", "ID")
    _delete("redfish endpoint", "/Inventory/RedfishEndpoints", targets, no_confirm)


# -- compep ------------------------------------------------------------------------------------------
@smd.group()
def compep() -> None:
    """Component endpoints (/Inventory/ComponentEndpoints), created by Redfish endpoint discovery."""


@compep.command("get")
@click.argument("xnames", nargs=-1)
@output_option
def compep_get(xnames: tuple[str, ...], format_output: str) -> None:
    """Get all component endpoints, one (XNAME), or several (XNAME... or a range).

    \b
    Examples:
      ochami smd compep get
      ochami smd compep get x1000c0s0b0n0
    """
    client = _client()
    ids = names(xnames)
    if not ids:
        reply = client.get("/Inventory/ComponentEndpoints")
    elif len(ids) == 1:
        reply = client.get(f"/Inventory/ComponentEndpoints/{ids[0]}")
    else:
        reply = client.get("/Inventory/ComponentEndpoints", {"id": ids})
    emit_body(reply.body, format_output)


@compep.command("delete")
@click.argument("xnames", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Delete every component endpoint.")
@no_confirm_option
@data_options
def compep_delete(
    xnames: tuple[str, ...], all_: bool, no_confirm: bool, data: str | None, format_input: str
) -> None:
    """Delete component endpoints by xname, all of them, or those of a payload."""
    targets = _delete_targets(names(xnames), all_, data, format_input, "ComponentEndpoints", "ID")
    _delete("component endpoint", "/Inventory/ComponentEndpoints", targets, no_confirm)


# -- group -------------------------------------------------------------------------------------------
@smd.group()
def group() -> None:
    """Groups (/groups) and their members."""


@group.command("add")
@click.argument("label", required=False)
@click.option("-D", "--description", help='Description (default "The LABEL group").')
@click.option("--tag", "tags", multiple=True, help="Tag(s).")
@click.option("-e", "--exclusive-group", help="Exclusive group name.")
@click.option("-m", "--member", "members", multiple=True, help="Member xname(s); ranges work.")
@data_options
def group_add(
    label: str | None,
    description: str | None,
    tags: tuple[str, ...],
    exclusive_group: str | None,
    members: tuple[str, ...],
    data: str | None,
    format_input: str,
) -> None:
    """Add a group: LABEL with flags, or a list of groups with -d.

    \b
    Examples:
      ochami smd group add compute -m 'x1000c0s0b[0-4]n0'
      ochami smd group add -D 'Login nodes' --tag login login -m x1000c0s0b5n0
    """
    if data is not None:
        items = payload_items(data, format_input)
    else:
        if not label:
            raise click.UsageError("give a LABEL, or a payload with -d")
        item: dict[str, Any] = {
            "label": label,
            "description": description if description is not None else f"The {label} group",
            "members": {"ids": names(members)},
        }
        if tags:
            item["tags"] = names(tags)
        if exclusive_group:
            item["exclusiveGroup"] = exclusive_group
        items = [item]
    client = _client()
    run_each(items, lambda i: client.post("/groups", i))


@group.command("get")
@click.option("--name", "labels", multiple=True, help="Group label(s).")
@click.option("--tag", "tags", multiple=True, help="Tag(s).")
@output_option
def group_get(labels: tuple[str, ...], tags: tuple[str, ...], format_output: str) -> None:
    """Get groups, optionally filtered by label or tag.

    \b
    Example:
      ochami smd group get --name compute -F yaml
    """
    params = {"group": names(labels), "tag": names(tags)}
    reply = _client().get("/groups", {k: v for k, v in params.items() if v})
    emit_body(reply.body, format_output)


@group.command("update")
@click.argument("label", required=False)
@click.option("-D", "--description", help="New description.")
@click.option("--tag", "tags", multiple=True, help="New tag list.")
@data_options
def group_update(
    label: str | None, description: str | None, tags: tuple[str, ...], data: str | None, format_input: str
) -> None:
    """Change a group's description or tags (members: see `group member`).

    \b
    Example:
      ochami smd group update compute -D 'All compute nodes' --tag hpc
    """
    if data is not None:
        items = payload_items(data, format_input)
    else:
        if not label:
            raise click.UsageError("give a LABEL, or a payload with -d")
        if description is None and not tags:
            raise click.UsageError("nothing to update: give -D and/or --tag")
        item: dict[str, Any] = {"label": label}
        if description is not None:
            item["description"] = description
        if tags:
            item["tags"] = names(tags)
        items = [item]
    client = _client()

    def update(item: dict[str, Any]) -> None:
        if not item.get("label"):
            raise BadRequest("every payload item needs 'label'")
        body = {k: v for k, v in item.items() if k in ("description", "tags")}
        client.patch(f"/groups/{item['label']}", body)

    run_each(items, update)


@group.command("delete")
@click.argument("labels", nargs=-1)
@no_confirm_option
@data_options
def group_delete(labels: tuple[str, ...], no_confirm: bool, data: str | None, format_input: str) -> None:
    """Delete groups by LABEL or those of a payload.

    \b
    Example:
      ochami smd group delete --no-confirm compute
    """
    targets = _delete_targets(list(labels), False, data, format_input, None, "label")
    _delete("group", "/groups", targets, no_confirm)


@group.group("member")
def member() -> None:
    """Group membership."""


@member.command("add")
@click.argument("label")
@click.argument("xnames", nargs=-1, required=True)
def member_add(label: str, xnames: tuple[str, ...]) -> None:
    """Add XNAME(s) (ranges work) to group LABEL.

    \b
    Example:
      ochami smd group member add compute 'x1000c0s0b[0-4]n0'
    """
    client = _client()
    run_each(names(xnames), lambda x: client.post(f"/groups/{label}/members", {"id": x}))


@member.command("delete")
@click.argument("label")
@click.argument("xnames", nargs=-1, required=True)
def member_delete(label: str, xnames: tuple[str, ...]) -> None:
    """Remove XNAME(s) from group LABEL."""
    client = _client()
    run_each(names(xnames), lambda x: client.delete(f"/groups/{label}/members/{x}"))


@member.command("get")
@click.argument("label")
@output_option
def member_get(label: str, format_output: str) -> None:
    """List the members of group LABEL."""
    emit_body(_client().get(f"/groups/{label}/members").body, format_output)


@member.command("set")
@click.argument("label")
@click.argument("xnames", nargs=-1)
def member_set(label: str, xnames: tuple[str, ...]) -> None:
    """Replace the members of group LABEL with XNAME(s) (none empties it).

    \b
    Example:
      ochami smd group member set compute 'x1000c0s0b[0-3]n0'
    """
    _client().put(f"/groups/{label}/members", {"group": label, "ids": names(xnames)})


# -- service -----------------------------------------------------------------------------------------
@smd.group()
def service() -> None:
    """SMD service state."""


def _status(all_: bool, format_output: str) -> None:
    reply = _client().get("/service/values" if all_ else "/service/ready", auth=False)
    emit_body(reply.body, format_output)


@service.command("status")
@click.option("--all", "all_", is_flag=True, help="Show the accepted enum values (/service/values).")
@output_option
def service_status(all_: bool, format_output: str) -> None:
    """Is SMD healthy? Prints {"code":0,"message":"HSM is healthy"}.

    \b
    Example:
      ochami smd service status
    """
    _status(all_, format_output)


@smd.command("status", hidden=True)
@click.option("--all", "all_", is_flag=True)
@output_option
def status_deprecated(all_: bool, format_output: str) -> None:
    """Deprecated: use `ochami smd service status`."""
    get_env().log("warning", "`ochami smd status` is deprecated: use `ochami smd service status`")
    _status(all_, format_output)
