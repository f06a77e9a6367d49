"""Group config validation on upload and local sandboxed Jinja rendering (for `group render`)."""

from __future__ import annotations

import base64

import jinja2
import pytest
import yaml
from jinja2.sandbox import SecurityError

from pychami.cloudinit.configs import validate_config, validate_group
from pychami.cloudinit.models import GroupData
from pychami.cloudinit.render import render_group_config, split_template
from pychami.core.errors import BadRequest
from tests.cloudinit.conftest import DATA

SCENARIO = (DATA / "computes.yaml").read_text()
META = {
    "instance-id": "i-1",
    "local-hostname": "nid001",
    "instance_data": {"v1": {"public_keys": ["ssh-ed25519 AAAA k@x"], "local_ipv4": "172.16.0.1"}},
}


def _group(content: str, encoding: str = "plain", **extra: object) -> GroupData:
    return GroupData.model_validate(
        {"name": "g", "file": {"content": content, "encoding": encoding}, **extra}
    )


def test_scenario_config_is_accepted_plain_and_base64() -> None:
    """The scenario's compute config passes validation in both encodings."""
    validate_group(_group(SCENARIO), 65536, 65536)
    validate_group(_group(base64.b64encode(SCENARIO.encode()).decode(), "base64"), 65536, 65536)


@pytest.mark.parametrize(
    ("content", "encoding", "reason"),
    [
        ("not base64!!", "base64", "not valid base64"),
        (base64.b64encode(b"\xff\xfe").decode(), "base64", "UTF-8"),
        ("#cloud-config\n", "gzip", "unsupported encoding: gzip"),
        ("users: []\n", "plain", "must start with '#cloud-config' as its first line"),
        ("## template: jinja\nusers: []\n", "plain", "after the '## template: jinja' line"),
        ("## template: jinja\n#cloud-config\na: {{ x \n", "plain", "jinja template syntax error at line 3"),
        ("## template: jinja\n#cloud-config\n{% for %}\n", "plain", "jinja template syntax error"),
        ("#cloud-config\na: [1, 2\n", "plain", "not valid YAML"),
        ("#cloud-config\n- a\n- b\n", "plain", "must be a YAML mapping, not list"),
        ("## template: jinja\n#cloud-config\nk: v\n  bad: {{ y }}\n", "plain", "not valid YAML"),
    ],
)
def test_invalid_configs_are_rejected_with_the_reason(content: str, encoding: str, reason: str) -> None:
    """Each kind of broken config raises BadRequest naming what is wrong."""
    with pytest.raises(BadRequest) as err:
        validate_group(_group(content, encoding), 65536, 65536)
    assert reason in err.value.detail


def test_size_limits() -> None:
    """Configs and meta-data beyond their limits are rejected."""
    with pytest.raises(BadRequest, match="more than the limit of 100"):
        validate_config("#cloud-config\n" + "a: b\n" * 40, 100)
    with pytest.raises(BadRequest, match="meta-data is"):
        validate_group(_group("", **{"meta-data": {"k": "v" * 200}}), 65536, 100)


def test_group_name_is_checked() -> None:
    """Names that cannot be a URL path segment `<name>.yaml` are refused."""
    with pytest.raises(BadRequest, match="invalid group name"):
        validate_group(GroupData(name="a/b"), 100, 100)


def test_render_like_cloud_init() -> None:
    """The header line goes, the body renders with ds.meta_data, `-` keys get `_` aliases."""
    out = render_group_config(SCENARIO, META)
    assert out.startswith("#cloud-config\n")
    parsed = yaml.safe_load(out)
    assert parsed["users"][0]["ssh_authorized_keys"] == ["ssh-ed25519 AAAA k@x"]
    assert render_group_config(
        "## template: jinja\n#cloud-config\nh: {{ ds.meta_data.local_hostname }}\n", META
    ) == ("#cloud-config\nh: nid001\n")


def test_render_marks_missing_variables_and_leaves_plain_configs() -> None:
    """Missing variables render as CI_MISSING_JINJA_VAR/<name>; a non-template is returned as is."""
    out = render_group_config("## template: jinja\n#cloud-config\na: {{ ds.nothing }}\n", META)
    assert out == "#cloud-config\na: CI_MISSING_JINJA_VAR/nothing\n"
    assert render_group_config("#cloud-config\na: {{ x }}\n", META) == "#cloud-config\na: {{ x }}\n"
    assert split_template("## template: jinja\nbody") == (True, "body")


def test_render_is_sandboxed() -> None:
    """Templates cannot reach Python internals or mutate their context."""
    with pytest.raises(SecurityError):
        render_group_config("## template: jinja\n{{ ''.__class__.__mro__[1].__subclasses__() }}", META)
    with pytest.raises(SecurityError):
        render_group_config("## template: jinja\n{% do ds.meta_data.update({'a': 1}) %}", META)
    with pytest.raises(jinja2.TemplateSyntaxError):
        render_group_config("## template: jinja\n{{ a ", META)
