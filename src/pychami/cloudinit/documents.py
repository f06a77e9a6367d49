"""Pure renderers of the documents a node fetches: meta-data, user-data, vendor-data, group configs.

No I/O here: inputs are the node (from the inventory snapshot) and the stored cloud-init data, output is
the exact text upstream's server would send.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from pychami.cloudinit import yamlout
from pychami.cloudinit.models import ClusterDefaults, GroupData, InstanceInfo
from pychami.core.inventory import Node

#: user-data is always this, without a trailing newline (as upstream).
USER_DATA = "#cloud-config"
#: Served for a group cloud-init knows nothing about (or one without a config).
EMPTY_CONFIG = "#cloud-config"
NO_DESCRIPTION = "No description Found"
DEFAULT_NID_LENGTH = 4


def stable_instance_id(xname: str) -> str:
    """``i-`` + 8 hex digits derived from the node id: the same in every process and after restarts.

    Upstream draws 4 random bytes on first lookup and keeps them; a derived id needs no write on the
    node-facing path. An admin can still set another one with ``PUT /admin/instance-info/{id}``.
    """
    return "i-" + hashlib.sha256(f"pychami-instance:{xname}".encode()).hexdigest()[:8]


def hostname_for(node: Node, defaults: ClusterDefaults) -> str:
    """``<short-name><NID zero-padded to nid-length>``; short-name defaults to the first two characters
    of the cluster name and nid-length to 4. A node without a NID is named by its xname."""
    if node.nid is None:
        return node.xname
    short = defaults.short_name or defaults.cluster_name[:2]
    width = defaults.nid_length or DEFAULT_NID_LENGTH
    return f"{short}{node.nid:0{width}d}"


def boot_ip(node: Node) -> str:
    """The first address of the node's first interface that has one (upstream: first interface)."""
    for iface in node.interfaces:
        if iface.ips:
            return iface.ips[0].address
    return ""


def base_url_for(defaults: ClusterDefaults, info: InstanceInfo | None, fallback: str) -> str:
    """Where the node finds its group configs: node override, else cluster default, else the server's."""
    if info is not None and info.cloud_init_base_url:
        return info.cloud_init_base_url.rstrip("/")
    return (defaults.base_url or fallback).rstrip("/")


def meta_data(
    node: Node,
    defaults: ClusterDefaults,
    groups: Mapping[str, GroupData],
    info: InstanceInfo | None,
    *,
    ip: str | None = None,
) -> dict[str, Any]:
    """The meta-data mapping, keys in upstream's order.

    Merge order: cluster defaults, then the node's SMD groups (their description and meta-data under
    ``vendor_data.groups``), then the node's instance-info, which overrides hostnames, cluster name,
    region, availability zone, cloud provider and base URL, and appends its public keys.
    """
    info = info or InstanceInfo(id=node.xname)
    instance_id = info.instance_id or stable_instance_id(node.xname)
    generated = hostname_for(node, defaults)
    cluster_name = info.cluster_name or defaults.cluster_name

    v1: dict[str, Any] = {}
    az = info.availability_zone or defaults.availability_zone
    if az:
        v1["availability_zone"] = az
    v1["instance_id"] = instance_id
    if info.instance_type:
        v1["instance_type"] = info.instance_type
    region = info.region or defaults.region
    if region:
        v1["region"] = region
    local_ipv4 = ip if ip is not None else boot_ip(node)
    if local_ipv4:
        v1["local_ipv4"] = local_ipv4
    provider = info.cloud_provider or defaults.cloud_provider
    if provider:
        v1["cloud_provider"] = provider
    keys = [*defaults.public_keys, *info.public_keys]
    if keys:
        v1["public_keys"] = keys

    vendor: dict[str, Any] = {"version": "1.0"}
    base = info.cloud_init_base_url or defaults.base_url
    if base:
        vendor["cloud_init_base_url"] = base
    if cluster_name:
        vendor["cluster_name"] = cluster_name
    group_docs: dict[str, Any] = {}
    for label in node.groups:
        group = groups.get(label)
        entry: dict[str, Any] = {"Description": (group.description if group else "") or NO_DESCRIPTION}
        if group is not None:
            entry.update(group.meta_data)
        group_docs[label] = {k: _sorted(entry[k]) for k in sorted(entry)}
    vendor["groups"] = group_docs
    v1["vendor_data"] = vendor

    return {
        "instance-id": instance_id,
        "local-hostname": info.local_hostname or generated,
        "hostname": info.hostname or generated,
        "cluster-name": cluster_name,
        "instance_data": {"v1": v1},
    }


def _sorted(value: Any) -> Any:
    # Go's YAML encoder writes map keys sorted; group meta-data is an arbitrary JSON object.
    if isinstance(value, Mapping):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def render_meta_data(
    node: Node,
    defaults: ClusterDefaults,
    groups: Mapping[str, GroupData],
    info: InstanceInfo | None,
    *,
    ip: str | None = None,
) -> str:
    """The meta-data document as YAML text."""
    return yamlout.dump(meta_data(node, defaults, groups, info, ip=ip))


def render_vendor_data(node: Node, base_url: str) -> str:
    """``#include`` and one ``<base-url>/<group>.yaml`` line per SMD group, in membership order."""
    return "#include\n" + "".join(f"{base_url}/{label}.yaml\n" for label in node.groups)


def decoded_config(group: GroupData) -> str:
    """The group's cloud-config as text (base64 decoded); validated on upload, so it decodes."""
    content = group.file.content
    if not content:
        return EMPTY_CONFIG
    if group.file.encoding == "base64":
        return base64.b64decode(content, validate=True).decode("utf-8")
    return content
