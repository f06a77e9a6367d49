"""Pure document renderers: meta-data, vendor-data, hostnames, instance-ids, merge precedence."""

from __future__ import annotations

import re
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from pychami.cloudinit import documents, yamlout
from pychami.cloudinit.models import ClusterDefaults, GroupData, InstanceInfo
from pychami.core.inventory import Node
from tests.cloudinit.conftest import GOLDEN, compute_group, scenario_defaults, scenario_nodes

DEFAULTS = ClusterDefaults.model_validate(scenario_defaults())
COMPUTE = GroupData.model_validate(compute_group())


def _node(nid: int | None = 1, groups: tuple[str, ...] = ("compute",)) -> Node:
    return Node(xname="x1000c0s0b0n0", nid=nid, groups=groups)


def test_golden_meta_data_of_every_scenario_node() -> None:
    """Each scenario node's meta-data has the exact golden text: keys, key order, hostname nidNNN."""
    golden = (GOLDEN / "meta-data-x1000c0s0b0n0.yaml").read_text()
    for node in scenario_nodes():
        text = documents.render_meta_data(node, DEFAULTS, {"compute": COMPUTE}, None)
        iid = documents.stable_instance_id(node.xname)
        expected = (
            golden.replace("i-3030023f", iid)
            .replace("nid001", f"nid{node.nid:03d}")
            .replace("172.16.0.1\n", f"172.16.0.{node.nid}\n")
        )
        assert text == expected


def test_golden_vendor_data() -> None:
    """vendor-data is #include plus one <base-url>/<group>.yaml line per group (checkpoint 4)."""
    node = scenario_nodes()[0]
    base = documents.base_url_for(DEFAULTS, None, "http://fallback/cloud-init")
    text = documents.render_vendor_data(node, base)
    assert text == (GOLDEN / "vendor-data-x1000c0s0b0n0.txt").read_text()


def test_vendor_data_lists_groups_in_membership_order_and_no_groups_gives_bare_include() -> None:
    """Groups appear in SMD membership order; a node without groups gets only ``#include``."""
    node = _node(groups=("compute", "a-first", "io"))
    assert documents.render_vendor_data(node, "http://h/ci") == (
        "#include\nhttp://h/ci/compute.yaml\nhttp://h/ci/a-first.yaml\nhttp://h/ci/io.yaml\n"
    )
    assert documents.render_vendor_data(_node(groups=()), "http://h/ci") == "#include\n"


def test_hostname_rule_defaults() -> None:
    """short-name defaults to the first two characters of the cluster name, nid-length to 4."""
    bare = ClusterDefaults.model_validate({"cluster-name": "demo"})
    assert documents.hostname_for(_node(nid=7), bare) == "de0007"
    assert documents.hostname_for(_node(nid=7), DEFAULTS) == "nid007"
    assert documents.hostname_for(_node(nid=12345), DEFAULTS) == "nid12345"
    assert documents.hostname_for(_node(nid=None), DEFAULTS) == "x1000c0s0b0n0"


def test_instance_id_is_stable_and_upstream_shaped() -> None:
    """instance-id is i- plus 8 lower-case hex digits, the same on every call, distinct per node."""
    first = documents.stable_instance_id("x1000c0s0b0n0")
    assert re.fullmatch(r"i-[0-9a-f]{8}", first)
    assert first == documents.stable_instance_id("x1000c0s0b0n0")
    assert first != documents.stable_instance_id("x1000c0s0b1n0")


def test_merge_precedence_defaults_groups_node() -> None:
    """Group meta-data lands under its group; the node's instance-info overrides hostnames, cluster
    name, region, base URL and instance-id, and appends its public keys after the cluster's."""
    defaults = DEFAULTS.merged(ClusterDefaults.model_validate({"region": "east", "cloud_provider": "oc"}))
    group = GroupData.model_validate(
        {"name": "compute", "description": "", "meta-data": {"zeta": 1, "syslog": {"b": 2, "a": "x"}}}
    )
    info = InstanceInfo.model_validate(
        {
            "id": "x1000c0s0b0n0",
            "instance-id": "i-00000001",
            "local-hostname": "compute1",
            "cluster-name": "other",
            "region": "west",
            "cloud-init-base-url": "http://node-specific/ci",
            "public-keys": ["ssh-rsa NODEKEY n@x"],
            "instance-type": "big",
        }
    )
    node = _node(groups=("compute", "unknown"))
    md: dict[str, Any] = yaml.safe_load(documents.render_meta_data(node, defaults, {"compute": group}, info))
    assert md["instance-id"] == "i-00000001"
    assert md["local-hostname"] == "compute1"
    assert md["hostname"] == "nid001"
    assert md["cluster-name"] == "other"
    v1 = md["instance_data"]["v1"]
    assert list(v1) == [
        "instance_id",
        "instance_type",
        "region",
        "cloud_provider",
        "public_keys",
        "vendor_data",
    ]
    assert v1["region"] == "west"
    assert v1["cloud_provider"] == "oc"
    assert v1["public_keys"] == [*DEFAULTS.public_keys, "ssh-rsa NODEKEY n@x"]
    vendor = v1["vendor_data"]
    assert vendor["cloud_init_base_url"] == "http://node-specific/ci"
    assert vendor["cluster_name"] == "other"
    assert vendor["groups"] == {
        "compute": {"Description": "No description Found", "syslog": {"a": "x", "b": 2}, "zeta": 1},
        "unknown": {"Description": "No description Found"},
    }
    assert documents.base_url_for(defaults, info, "http://fallback") == "http://node-specific/ci"


def test_meta_data_without_defaults_or_groups() -> None:
    """With nothing configured, meta-data still has every required key and ``groups: {}``."""
    text = documents.render_meta_data(_node(groups=()), ClusterDefaults(), {}, None)
    md = yaml.safe_load(text)
    assert list(md) == ["instance-id", "local-hostname", "hostname", "cluster-name", "instance_data"]
    assert md["cluster-name"] == ""
    assert md["hostname"] == "0001"
    assert md["instance_data"]["v1"]["vendor_data"] == {"version": "1.0", "groups": {}}
    assert 'cluster-name: ""\n' in text
    assert "groups: {}\n" in text


def test_base_url_fallback_order() -> None:
    """vendor-data base URL: node override, else cluster default, else the server's own."""
    assert (
        documents.base_url_for(ClusterDefaults(), None, "http://srv/cloud-init/") == "http://srv/cloud-init"
    )
    assert documents.base_url_for(DEFAULTS, None, "http://srv") == "http://172.16.0.254:8081/cloud-init"


def test_decoded_config_of_plain_base64_and_empty_groups() -> None:
    """A group's config is served decoded; a group without one serves an empty #cloud-config."""
    assert documents.decoded_config(COMPUTE).startswith("## template: jinja\n#cloud-config\n")
    plain = GroupData.model_validate(
        {"name": "p", "file": {"content": "#cloud-config\n", "encoding": "plain"}}
    )
    assert documents.decoded_config(plain) == "#cloud-config\n"
    assert documents.decoded_config(GroupData(name="e")) == "#cloud-config"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), _json, max_size=6))
def test_yaml_emitter_round_trips(data: dict[str, Any]) -> None:
    """Whatever JSON-like data goes in, PyYAML reads back exactly the same value."""
    assert yaml.safe_load(yamlout.dump(data)) == (data or {})


def test_yaml_emitter_quotes_like_go_yaml_v2() -> None:
    """Strings that would read back as another type are double-quoted; plain ones are not."""
    text = yamlout.dump(
        {"a": "1.0", "b": "yes", "c": "http://h:1/x", "d": "", "e": "key: v", "f": ["x", {"g": None}]}
    )
    assert text == 'a: "1.0"\nb: "yes"\nc: http://h:1/x\nd: ""\ne: "key: v"\nf:\n- x\n- g: null\n'


def test_uptime_is_written_like_go_durations() -> None:
    """/version's uptime uses Go's Duration format (3.5s, 2m0.25s, 1h1m1s)."""
    from pychami.cloudinit.api.node_routes import go_duration

    assert go_duration(3.5) == "3.5s"
    assert go_duration(120.25) == "2m0.25s"
    assert go_duration(3661) == "1h1m1s"
