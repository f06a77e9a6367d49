"""Payloads in (``-d`` string, ``@file``, ``@-``; JSON or YAML) and answers out (``-F``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import yaml

from pychami.core.errors import BadRequest

INPUT_FORMATS = ("json", "json-pretty", "yaml")
OUTPUT_FORMATS = ("json", "json-pretty", "yaml", "table")
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader parses big nodes files about 6x faster than the pure-Python one."""
MAX_CELL = 60
"""Nested values longer than this are cut in tables (use -F json for everything)."""

F = TypeVar("F", bound=Callable[..., Any])


def data_options(fn: F) -> F:
    """``-d/--data`` and ``-f/--format-input`` on a command."""
    fn = click.option(
        "-f",
        "--format-input",
        "format_input",
        type=click.Choice(INPUT_FORMATS),
        default="json",
        show_default=True,
        help="Format of the -d payload.",
    )(fn)
    return click.option(
        "-d",
        "--data",
        "data",
        metavar="DATA|@FILE|@-",
        help="Payload: a JSON/YAML string, @file to read a file, @- to read stdin.",
    )(fn)


def output_option(fn: F) -> F:
    """``-F/--format-output`` on a command."""
    return click.option(
        "-F",
        "--format-output",
        "format_output",
        type=click.Choice(OUTPUT_FORMATS),
        default="json",
        show_default=True,
        help="Output format (table is for humans, the others re-encode the answer with sorted keys).",
    )(fn)


def no_confirm_option(fn: F) -> F:
    """``--no-confirm`` on a destructive command."""
    return click.option("--no-confirm", is_flag=True, help="Do not ask before deleting.")(fn)


def read_raw(data: str) -> str:
    """The text of a ``-d`` value: the string itself, a file (``@path``) or stdin (``@-``)."""
    if data == "@-":
        return sys.stdin.read()
    if data.startswith("@"):
        path = data[1:]
        try:
            with open(path, encoding="utf-8") as fh:
                return fh.read()
        except OSError as exc:
            raise BadRequest(f"unable to read payload file {path}: {exc.strerror}") from exc
    return data


def parse_payload(text: str, fmt: str) -> Any:
    """Decode a payload in ``fmt`` (json and json-pretty are the same on input)."""
    if fmt == "yaml":
        try:
            return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 - a safe loader (libyaml's when present)
        except yaml.YAMLError as exc:
            raise BadRequest(f"unable to unmarshal payload as YAML: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "" if text.lstrip()[:1] in ("{", "[", '"') else " (for YAML input use -f yaml)"
        raise BadRequest(f"unable to unmarshal payload as JSON: {exc}{hint}") from exc


def read_payload(data: str, fmt: str) -> Any:
    """Read and decode a ``-d`` payload."""
    return parse_payload(read_raw(data), fmt)


def _go_json(text: str) -> str:
    # Go's encoding/json escapes these; byte-for-byte output with upstream ochami.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def encode(value: Any, fmt: str) -> str:
    """Re-encode a decoded answer: keys sorted, ``json`` compact, ``json-pretty`` 2-space indent."""
    if fmt == "json":
        return _go_json(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    if fmt == "json-pretty":
        return _go_json(json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False))
    if fmt == "yaml":
        return yaml.safe_dump(value, sort_keys=True, default_flow_style=False, allow_unicode=True).rstrip(
            "\n"
        )
    if fmt == "table":
        return table(value)
    raise BadRequest(f"unknown output format {fmt!r}")


def _rows(value: Any) -> list[Any]:
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, list):
            return inner
    if isinstance(value, list):
        return value
    return [value]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ",".join(str(v) for v in value)
    if isinstance(value, list) and all(isinstance(v, dict) and "IPAddress" in v for v in value):
        return ",".join(
            (f"{v.get('Network')}:" if v.get("Network") else "") + str(v["IPAddress"]) for v in value
        )
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."


def table(value: Any) -> str:
    """A plain-text table: one row per object (unwrapping ``{"Components":[...]}``), sorted columns."""
    rows = _rows(value)
    if not rows:
        return "(none)"
    if not all(isinstance(r, dict) for r in rows):
        return "\n".join(_cell(r) for r in rows)
    columns: list[str] = []
    for r in rows:
        for key in r:
            if key not in columns:
                columns.append(key)
    first = [c for c in ("ID", "id", "label", "name") if c in columns]
    columns = first + sorted(c for c in columns if c not in first)
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(widths[i]) for i, c in enumerate(columns)).rstrip()]
    lines += ["  ".join(row[i].ljust(widths[i]) for i in range(len(columns))).rstrip() for row in cells]
    return "\n".join(lines)


def emit(value: Any, fmt: str) -> None:
    """Print a decoded answer in ``fmt``."""
    click.echo(encode(value, fmt))


def emit_body(body: bytes, fmt: str) -> None:
    """Print a raw answer: JSON is re-encoded in ``fmt``, anything else is printed as it is."""
    try:
        value = json.loads(body) if body.strip() else None
    except ValueError:
        click.echo(body.decode(errors="replace"), nl=not body.endswith(b"\n"))
        return
    emit(value, fmt)


def stdin_is_tty() -> bool:
    """Whether a person can answer a question on stdin."""
    return sys.stdin.isatty()


def confirm(question: str, no_confirm: bool) -> bool:
    """Ask before a destructive action; refuse to prompt without a terminal."""
    if no_confirm:
        return True
    if not stdin_is_tty():
        raise BadRequest(f"{question.rstrip('?')}: refusing to ask without a terminal; pass --no-confirm")
    return click.confirm(question, default=False)
