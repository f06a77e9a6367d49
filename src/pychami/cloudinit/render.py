"""Jinja rendering of group cloud-configs, sandboxed, the way a node's cloud-init renders them.

Public API for the ``ochami cloud-init group render <group> <node>`` command, which renders locally:

    from pychami.cloudinit.render import render_group_config
    text = render_group_config(config_text, meta_data)   # meta_data: the node's parsed meta-data YAML

and for upload validation (:func:`check_template_syntax`). Templates run in Jinja's immutable sandbox,
so a config can read its context but never reach Python internals or change anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

#: First line that marks a cloud-init Jinja template.
TEMPLATE_HEADER = re.compile(r"^##\s*template:\s*jinja\s*$", re.IGNORECASE)
#: What cloud-init prints for a variable the template uses but the context lacks.
MISSING_PREFIX = "CI_MISSING_JINJA_VAR/"


class _MissingVariable(jinja2.Undefined):
    """Renders like cloud-init's ``UndefinedJinjaVariable``: ``CI_MISSING_JINJA_VAR/<name>``."""

    def __str__(self) -> str:
        return f"{MISSING_PREFIX}{self._undefined_name}"


def _environment(undefined: type[jinja2.Undefined]) -> ImmutableSandboxedEnvironment:
    # Same options as cloud-init's renderer (trim_blocks, the ``do`` extension).
    return ImmutableSandboxedEnvironment(
        undefined=undefined, trim_blocks=True, extensions=["jinja2.ext.do"], autoescape=False
    )


def split_template(text: str) -> tuple[bool, str]:
    """``(is_jinja, body)``: whether the first line is ``## template: jinja``, and the text after it."""
    first, _, rest = text.partition("\n")
    if TEMPLATE_HEADER.match(first.strip()):
        return True, rest
    return False, text


def with_key_aliases(data: Any) -> Any:
    """A copy where every key containing ``-`` also exists with ``_`` (cloud-init's jinja aliases)."""
    if isinstance(data, Mapping):
        out: dict[str, Any] = {}
        for key, value in data.items():
            converted = with_key_aliases(value)
            out[str(key)] = converted
            alias = str(key).replace("-", "_")
            if alias not in data:
                out[alias] = converted
        return out
    if isinstance(data, list):
        return [with_key_aliases(v) for v in data]
    return data


def check_template_syntax(body: str) -> None:
    """Raise :class:`jinja2.TemplateSyntaxError` when ``body`` does not compile."""
    _environment(jinja2.Undefined).parse(body)


def render_template(body: str, context: Mapping[str, Any], *, lenient: bool = False) -> str:
    """Render a template body (header already removed) in the sandbox.

    ``lenient`` makes every missing variable render empty and chain (used to check that a template's
    output is YAML without knowing the node); otherwise missing variables render as cloud-init does.
    """
    undefined: type[jinja2.Undefined] = jinja2.ChainableUndefined if lenient else _MissingVariable
    # Jinja drops one trailing newline; cloud-init adds it back, so do we.
    tail = "\n" if body.endswith("\n") else ""
    return _environment(undefined).from_string(body).render(**context) + tail


def render_group_config(config: str, meta_data: Mapping[str, Any]) -> str:
    """Render a group's cloud-config for one node, as the node's cloud-init would.

    ``config`` is the decoded group config; when its first line is ``## template: jinja`` that line is
    removed and the rest rendered with ``{"ds": {"meta_data": <meta-data>}}`` (keys with ``-`` also
    reachable with ``_``). A config without the header is returned unchanged. Raises
    :class:`jinja2.TemplateError` (e.g. :class:`jinja2.sandbox.SecurityError`) when rendering fails.
    """
    is_jinja, body = split_template(config)
    if not is_jinja:
        return config
    context = {"ds": {"meta_data": with_key_aliases(dict(meta_data))}}
    return render_template(body, context)
