"""Client-side Jinja rendering of group cloud-configs (cloud-init's rules, sandboxed)."""

from __future__ import annotations

import pytest

from pychami.cli.ochami.render import render, with_underscore_aliases
from pychami.core.errors import BadRequest

T = "## template: jinja\n#cloud-config\n"


def test_non_template_is_unchanged() -> None:
    """Without the template header the text is returned as it is."""
    assert render("#cloud-config\nx: {{ y }}\n", {}) == "#cloud-config\nx: {{ y }}\n"


def test_header_dropped_and_variables_rendered() -> None:
    """The header line goes; ds.meta_data variables are filled in; the trailing newline stays."""
    assert (
        render(T + "h: {{ ds.meta_data.hostname }}\n", {"hostname": "nid001"}) == "#cloud-config\nh: nid001\n"
    )


def test_dash_keys_reachable_with_underscore() -> None:
    """A meta-data key with '-' is also reachable with '_' (as cloud-init's instance data)."""
    assert render(T + "{{ ds.meta_data.local_hostname }}", {"local-hostname": "c1"}) == "#cloud-config\nc1"
    assert with_underscore_aliases({"a-b": [{"c-d": 1}]}) == {
        "a-b": [{"c-d": 1, "c_d": 1}],
        "a_b": [{"c-d": 1, "c_d": 1}],
    }


def test_missing_variable_placeholder() -> None:
    """Undefined variables print cloud-init's placeholder."""
    assert render(T + "{{ ds.meta_data.nope }}", {}) == "#cloud-config\nCI_MISSING_JINJA_VAR/nope"


def test_trim_blocks_and_do() -> None:
    """Block tags eat their newline (trim_blocks) and the do extension is available."""
    out = render(
        T + "{% for k in ds.meta_data.names %}\n- {{ k }}\n{% endfor %}\n{% do ds.meta_data.names|length %}",
        {"names": ["a", "b"]},
    )
    assert out == "#cloud-config\n- a\n- b\n"


def test_sandbox_hides_internals() -> None:
    """Python internals are out of reach: unsafe attributes of the context print the placeholder."""
    assert render(T + "{{ ds.meta_data.__class__ }}", {}) == "#cloud-config\nCI_MISSING_JINJA_VAR/__class__"


@pytest.mark.parametrize(
    "template",
    ["{{ ''.__class__.__mro__ }}", "{% do ds.meta_data.names.append(1) %}", "{{ x(", "{% for %}"],
)
def test_mutation_and_syntax_errors_fail_cleanly(template: str) -> None:
    """Mutating the context (immutable sandbox) and syntax errors are errors naming the problem."""
    with pytest.raises(BadRequest, match=r"^cannot render the template:"):
        render(T + template, {"names": []})
