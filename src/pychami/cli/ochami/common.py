"""Helpers shared by the service command groups: list flags with hostlists, payload shapes, loops."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import click

from pychami.cli.ochami.client import HTTPFailure
from pychami.cli.ochami.env import get_env
from pychami.cli.ochami.io import read_payload
from pychami.core.errors import BadRequest, PychamiError
from pychami.core.hostlist import HostlistError, expand_all


def names(values: Iterable[str]) -> list[str]:
    """Expand repeated/comma-separated flag values with hostlist ranges (``x1000c0s0b[0-4]n0``)."""
    try:
        return expand_all(values)
    except HostlistError as exc:
        raise BadRequest(str(exc)) from exc


def nids(values: Iterable[str]) -> list[int]:
    """NIDs from flag values: ``1``, ``1,2``, ``1-4``, ``[1-4,7]``."""
    out: list[int] = []
    for item in names(values):
        lo, sep, hi = item.partition("-")
        try:
            if sep:
                out.extend(range(int(lo), int(hi) + 1))
            else:
                out.append(int(item))
        except ValueError:
            raise BadRequest(f"invalid NID {item!r}: expected a number or a range N-M") from None
    return out


def payload_items(data: str, fmt: str, wrapper: str | None = None) -> list[dict[str, Any]]:
    """A ``-d`` payload as a list of objects: accepts ``{wrapper: [...]}``, a list, or one object."""
    value = read_payload(data, fmt)
    if wrapper and isinstance(value, dict) and wrapper in value:
        value = value[wrapper]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        want = f"{{{wrapper!r}: [...]}}, " if wrapper else ""
        raise BadRequest(f"payload must be {want}a list of objects or one object")
    return value


def run_each(items: Sequence[Any], action: Callable[[Any], object]) -> None:
    """Run ``action`` for every item; report each failure on stderr and exit 1 if any failed."""
    failed = 0
    for item in items:
        try:
            action(item)
        except PychamiError as exc:
            failed += 1
            click.echo(f"Error: {exc.detail}", err=True)
    if failed:
        get_env().debug(f"{failed} of {len(items)} requests failed")
        raise click.exceptions.Exit(1)


def need_exactly_one(**choices: bool) -> None:
    """Exactly one way of naming the targets must be used."""
    used = [k for k, v in choices.items() if v]
    if len(used) != 1:
        raise click.UsageError("use exactly one of: " + ", ".join(choices))


__all__ = ["HTTPFailure", "names", "need_exactly_one", "nids", "payload_items", "run_each"]
