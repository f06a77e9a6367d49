"""Client-side rendering of a group's Jinja cloud-config for one node, as the node's cloud-init would.

Upstream ochami renders ``group render`` locally (the server never renders templates). cloud-init's rules:
only configs whose first line is ``## template: jinja`` are templates; that line is dropped; the context
is ``{"ds": {"meta_data": <node meta-data>}}`` where keys containing ``-`` are also reachable with ``_``;
an undefined variable renders as ``CI_MISSING_JINJA_VAR/<name>``; ``trim_blocks`` and the ``do``
extension are on. We render in Jinja's immutable sandbox: a config must not reach Python internals.
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pychami.core.errors import BadRequest

TEMPLATE_HEADER = "## template: jinja"


class _Missing(jinja2.Undefined):
    """Undefined values print like cloud-init's placeholder instead of failing or vanishing."""

    def __str__(self) -> str:
        return f"CI_MISSING_JINJA_VAR/{self._undefined_name}"


def with_underscore_aliases(value: Any) -> Any:
    """Copy ``value`` so every mapping key containing ``-`` is also present with ``_`` instead."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            converted = with_underscore_aliases(item)
            out[key] = converted
            if isinstance(key, str) and "-" in key:
                out.setdefault(key.replace("-", "_"), converted)
        return out
    if isinstance(value, list):
        return [with_underscore_aliases(v) for v in value]
    return value


def render(config: str, meta_data: Any) -> str:
    """Render ``config`` for a node whose meta-data is ``meta_data``; non-templates come back unchanged."""
    first, sep, rest = config.partition("\n")
    if first.strip() != TEMPLATE_HEADER:
        return config
    env = ImmutableSandboxedEnvironment(
        undefined=_Missing, trim_blocks=True, keep_trailing_newline=True, extensions=["jinja2.ext.do"]
    )
    try:
        template = env.from_string(rest if sep else "")
        return template.render(ds={"meta_data": with_underscore_aliases(meta_data or {})})
    except jinja2.TemplateError as exc:
        raise BadRequest(f"cannot render the template: {exc}") from exc
