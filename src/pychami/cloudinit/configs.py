"""Validation of group cloud-configs on upload: nothing invalid is ever stored."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import jinja2
import yaml

from pychami.cloudinit.models import GroupData
from pychami.cloudinit.render import check_template_syntax, render_template, split_template
from pychami.core.errors import BadRequest

ENCODINGS = ("", "plain", "base64")
CLOUD_CONFIG_HEADER = "#cloud-config"


def decode_content(content: str, encoding: str) -> str:
    """The config text; :class:`BadRequest` when base64 or UTF-8 decoding fails."""
    if encoding not in ENCODINGS:
        raise BadRequest(f"unsupported encoding: {encoding} (use plain or base64)")
    if encoding != "base64":
        return content
    try:
        raw = base64.b64decode(content.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadRequest(f"file.content is not valid base64: {exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"file.content does not decode to UTF-8 text: {exc}") from exc


def validate_config(text: str, max_bytes: int) -> None:
    """Check a decoded config: size, ``#cloud-config`` header (after an optional ``## template: jinja``
    line), Jinja syntax, and YAML (a mapping) — for templates, of the output rendered without data."""
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise BadRequest(f"cloud-config is {size} bytes, more than the limit of {max_bytes}")
    is_jinja, body = split_template(text)
    if not body.startswith(CLOUD_CONFIG_HEADER):
        where = "after the '## template: jinja' line" if is_jinja else "as its first line"
        raise BadRequest(f"cloud-config must start with '{CLOUD_CONFIG_HEADER}' {where}")
    yaml_text = body
    if is_jinja:
        try:
            check_template_syntax(body)
        except jinja2.TemplateSyntaxError as exc:
            raise BadRequest(f"jinja template syntax error at line {exc.lineno + 1}: {exc.message}") from exc
        try:
            yaml_text = render_template(body, {}, lenient=True)
        except Exception:  # a runtime error without node data says nothing about the template
            return
    try:
        parsed = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        raise BadRequest(f"cloud-config is not valid YAML: {_one_line(exc)}") from exc
    if parsed is not None and not isinstance(parsed, dict):
        raise BadRequest(f"cloud-config must be a YAML mapping, not {type(parsed).__name__}")


def validate_group(group: GroupData, max_config_bytes: int, max_meta_data_bytes: int) -> GroupData:
    """Validate a group on upload; return it normalised (encoding ``plain`` when unset and content set)."""
    name = group.name
    if not name or any(c not in _NAME_CHARS for c in name):
        raise BadRequest(f"invalid group name {name!r}: use letters, digits and - _ . :")
    meta_size = len(json.dumps(group.meta_data, separators=(",", ":")).encode("utf-8"))
    if meta_size > max_meta_data_bytes:
        raise BadRequest(f"meta-data is {meta_size} bytes, more than the limit of {max_meta_data_bytes}")
    if group.file.content:
        text = decode_content(group.file.content, group.file.encoding)
        validate_config(text, max_config_bytes)
    elif group.file.encoding not in ENCODINGS:
        raise BadRequest(f"unsupported encoding: {group.file.encoding} (use plain or base64)")
    return group


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def _one_line(exc: Any) -> str:
    return " ".join(str(exc).split())
