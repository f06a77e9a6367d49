"""Component filters from query strings or JSON bodies: case-insensitive keys, repeats are OR, ``!`` negates.

Pure: no SQL here; the repository turns a :class:`ComponentFilter` into a WHERE clause.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pychami.core import xnames
from pychami.core.errors import BadRequest
from pychami.smd import enums

#: filter key -> (column, enum field used to normalise values or None)
COLUMN_FILTERS: dict[str, tuple[str, str | None]] = {
    "id": ("id", None),
    "type": ("type", "Type"),
    "state": ("state", "State"),
    "flag": ("flag", "Flag"),
    "softwarestatus": ("software_status", None),
    "role": ("role", "Role"),
    "subrole": ("subrole", "SubRole"),
    "subtype": ("subtype", None),
    "arch": ("arch", "Arch"),
    "class": ("class", "Class"),
    "nettype": ("net_type", "NetType"),
}
BOOL_FILTERS = {"enabled": "enabled", "locked": "locked", "reservation_disabled": "reservation_disabled"}
OUTPUT_ONLY = ("stateonly", "flagonly", "roleonly", "nidonly")
KNOWN = {*COLUMN_FILTERS, *BOOL_FILTERS, "nid", "nid_start", "nid_end", "group", "partition", *OUTPUT_ONLY}


@dataclass
class ValueSet:
    """Values a column must be in (any of ``include``) and must not be (none of ``exclude``)."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)


@dataclass
class ComponentFilter:
    columns: dict[str, ValueSet] = field(default_factory=dict)
    booleans: dict[str, bool] = field(default_factory=dict)
    nids: list[int] = field(default_factory=list)
    nid_ranges: list[tuple[int | None, int | None]] = field(default_factory=list)
    groups: ValueSet = field(default_factory=ValueSet)
    partitions: ValueSet = field(default_factory=ValueSet)
    output: str | None = None

    @property
    def empty(self) -> bool:
        return not (
            self.columns
            or self.booleans
            or self.nids
            or self.nid_ranges
            or self.groups.include
            or self.groups.exclude
            or self.partitions.include
            or self.partitions.exclude
        )


def _bool(key: str, value: str) -> bool:
    low = value.strip().lower()
    if low in {"true", "1", "t", "yes"}:
        return True
    if low in {"false", "0", "f", "no"}:
        return False
    raise BadRequest(f"invalid value '{value}' for {key}: expected true or false")


def _int(key: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise BadRequest(f"invalid value '{value}' for {key}: expected an integer") from None


def _normalise_value(key: str, enum_field: str | None, value: str) -> str:
    if key == "id":
        return xnames.normalise(value)
    if enum_field is None:
        return value
    canonical = enums.normalise(enum_field, value)
    if canonical is None:
        raise BadRequest(f"couldn't validate filter: invalid {key} '{value}'")
    return canonical


def parse_filter(items: Iterable[tuple[str, str]], *, strict: bool = False) -> ComponentFilter:
    """Build a filter from (key, value) pairs; keys are case-insensitive, repeats are OR.

    Unknown keys are ignored like upstream unless ``strict``.
    """
    flt = ComponentFilter()
    for raw_key, raw_value in items:
        key = raw_key.lower()
        value = raw_value
        if value == "":
            continue
        if key in COLUMN_FILTERS:
            column, enum_field = COLUMN_FILTERS[key]
            target = flt.columns.setdefault(column, ValueSet())
            if value.startswith("!"):
                target.exclude.append(_normalise_value(key, enum_field, value[1:]))
            else:
                target.include.append(_normalise_value(key, enum_field, value))
        elif key in BOOL_FILTERS:
            flt.booleans[BOOL_FILTERS[key]] = _bool(key, value)
        elif key == "nid":
            flt.nids.append(_int(key, value))
        elif key == "nid_start":
            flt.nid_ranges.append((_int(key, value), None))
        elif key == "nid_end":
            if flt.nid_ranges and flt.nid_ranges[-1][1] is None:
                start = flt.nid_ranges[-1][0]
                flt.nid_ranges[-1] = (start, _int(key, value))
            else:
                flt.nid_ranges.append((None, _int(key, value)))
        elif key in {"group", "partition"}:
            target = flt.groups if key == "group" else flt.partitions
            if value.startswith("!"):
                target.exclude.append(value[1:].lower())
            else:
                target.include.append(value.lower())
        elif key in OUTPUT_ONLY:
            if _bool(key, value):
                flt.output = key
        elif strict:
            raise BadRequest(f"unknown filter '{raw_key}'")
    return flt


def filter_from_body(body: Mapping[str, object], skip: Sequence[str] = ()) -> ComponentFilter:
    """Filters given as JSON body keys (Query endpoints): scalars or lists."""
    items: list[tuple[str, str]] = []
    skipped = {s.lower() for s in skip}
    for key, value in body.items():
        if key.lower() in skipped:
            continue
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, bool):
                items.append((key, "true" if v else "false"))
            elif isinstance(v, (str, int)):
                items.append((key, str(v)))
    return parse_filter(items)


def parse_nid_ranges(ranges: Sequence[str]) -> list[tuple[int, int]]:
    """``["1-4", "7"]`` -> ``[(1, 4), (7, 7)]``."""
    out: list[tuple[int, int]] = []
    for text in ranges:
        start, sep, end = text.partition("-")
        try:
            lo = int(start)
            hi = int(end) if sep else lo
        except ValueError:
            raise BadRequest(f"invalid NID range '{text}'") from None
        if hi < lo:
            raise BadRequest(f"invalid NID range '{text}': end before start")
        out.append((lo, hi))
    return out
