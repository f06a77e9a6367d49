"""Hostlist expressions: ``x1000c0s0b[0-4]n0``, ``nid[001-004,006]``, ``a[1-2]b[0-1],c``.

Pure functions, no I/O. A bracket holds a comma-separated list of numbers or ``lo-hi`` ranges; the width
of the lower bound sets the zero padding (``[001-010]`` gives ``001`` ... ``010``). Several brackets in one
name expand as a cartesian product, left to right. Top-level commas (outside brackets) separate names.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable

MAX_NAMES = 1_000_000
"""Refuse expressions that would expand to more names than this (a typo like ``[0-99999999]``)."""

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class HostlistError(ValueError):
    """The expression is malformed; the message says where."""


def split_top_level(expr: str) -> list[str]:
    """Split ``expr`` on commas that are not inside brackets."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in expr:
        if ch == "[":
            if depth:
                raise HostlistError(f"nested '[' in {expr!r}")
            depth = 1
        elif ch == "]":
            if not depth:
                raise HostlistError(f"unbalanced ']' in {expr!r}")
            depth = 0
        elif ch == "," and not depth:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if depth:
        raise HostlistError(f"unbalanced '[' in {expr!r}")
    parts.append("".join(current))
    return parts


def _expand_bracket(body: str, expr: str) -> list[str]:
    values: list[str] = []
    if not body.strip():
        raise HostlistError(f"empty brackets in {expr!r}")
    for item in body.split(","):
        m = _RANGE.match(item.strip())
        if not m:
            raise HostlistError(f"bad range {item!r} in {expr!r}: expected N or N-M")
        lo_s, hi_s = m.group(1), m.group(2)
        width = len(lo_s) if lo_s.startswith("0") and len(lo_s) > 1 else 0
        lo = int(lo_s)
        hi = int(hi_s) if hi_s is not None else lo
        if hi < lo:
            raise HostlistError(f"range {item!r} in {expr!r} goes backwards")
        if hi - lo + 1 > MAX_NAMES:
            raise HostlistError(f"range {item!r} in {expr!r} is too large")
        values.extend(str(n).zfill(width) for n in range(lo, hi + 1))
    return values


def expand_one(name: str) -> list[str]:
    """Expand one name (no top-level commas) with zero or more bracket groups."""
    pieces: list[list[str]] = []
    pos = 0
    for m in re.finditer(r"\[([^\[\]]*)\]", name):
        pieces.append([name[pos : m.start()]])
        pieces.append(_expand_bracket(m.group(1), name))
        pos = m.end()
    pieces.append([name[pos:]])
    total = 1
    for p in pieces:
        total *= len(p)
    if total > MAX_NAMES:
        raise HostlistError(f"{name!r} expands to more than {MAX_NAMES} names")
    return ["".join(combo) for combo in itertools.product(*pieces)]


def expand(expr: str) -> list[str]:
    """Expand a hostlist expression into names, in order, without duplicates.

    >>> expand("nid[001-003,006]")
    ['nid001', 'nid002', 'nid003', 'nid006']
    """
    out: list[str] = []
    seen: set[str] = set()
    for raw in split_top_level(expr.strip()):
        part = raw.strip()
        if not part:
            continue
        for name in expand_one(part):
            if name not in seen:
                seen.add(name)
                out.append(name)
    return out


def expand_all(exprs: Iterable[str]) -> list[str]:
    """Expand several expressions (e.g. a repeated CLI flag) into one de-duplicated list."""
    out: list[str] = []
    seen: set[str] = set()
    for expr in exprs:
        for name in expand(expr):
            if name not in seen:
                seen.add(name)
                out.append(name)
    return out
