"""Query-string helpers shared by the BSS routes (Go's ``r.Form`` semantics)."""

from __future__ import annotations

from urllib.parse import unquote_plus

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


def parse_raw(query_string: bytes) -> dict[str, str]:
    """``key -> values joined with ""`` straight from the raw query string (the boot-script hot path:
    one pass, no multi-dict; percent-decoding only where needed)."""
    out: dict[str, str] = {}
    if not query_string:
        return out
    for pair in query_string.decode("latin-1").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if "%" in pair or "+" in pair:
            key, value = unquote_plus(key), unquote_plus(value)
        out[key] = out.get(key, "") + value
    return out
