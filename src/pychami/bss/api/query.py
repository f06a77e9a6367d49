"""Query-string helpers shared by the BSS routes (Go's ``r.Form`` semantics)."""

from __future__ import annotations

from starlette.datastructures import QueryParams


def values(query: QueryParams, key: str) -> list[str]:
    """Every value of ``key``, whether repeated (``mac=a&mac=b``) or comma-joined (``mac=a,b``)."""
    out: list[str] = []
    for raw in query.getlist(key):
        out.extend(v for v in raw.split(",") if v)
    return out


def joined(query: QueryParams, key: str) -> str:
    """Repeated values concatenated, as upstream's ``strings.Join(r.Form[key], "")``."""
    return "".join(query.getlist(key))
