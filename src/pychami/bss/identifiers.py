"""Validation and normalisation of the node identifiers BSS accepts: MAC addresses, xnames, NIDs.

Pure functions, no I/O. Error texts follow upstream BSS where it has one.
"""

from __future__ import annotations

import re

#: The pattern upstream BSS checks ``macs`` against (``bssTypes.CheckMacs``).
MAC_RE = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9a-fA-F]{2}$")
#: What a boot-script request may carry: iPXE's ``${mac}`` (colons) or ``${mac:hexhyp}`` (hyphens).
REQUEST_MAC_RE = re.compile(r"^[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")
#: An xname of type Node (``x<cabinet>c<chassis>s<slot>b<bmc>n<node>``).
NODE_XNAME_RE = re.compile(r"^x\d{1,4}c[0-7]s\d{1,3}b\d{1,2}n\d{1,2}$")
#: SMD group labels: lower-case letters, digits and ``-_.:``.
GROUP_RE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,254}$")

NID_MIN = 0
NID_MAX = 2**31 - 1


def is_mac(value: str) -> bool:
    return MAC_RE.match(value) is not None


def normalise_mac(value: str) -> str:
    """Lower-case, colon separated."""
    return value.lower().replace("-", ":")


def request_mac(value: str) -> str | None:
    """The normalised MAC of a boot-script request, or None when ``value`` is not a MAC."""
    if REQUEST_MAC_RE.match(value) is None:
        return None
    return normalise_mac(value)


def normalise_xname(value: str) -> str:
    return value.strip().lower()


def is_node_xname(value: str) -> bool:
    return NODE_XNAME_RE.match(normalise_xname(value)) is not None


def is_group_label(value: str) -> bool:
    return GROUP_RE.match(value) is not None


def parse_int(text: str) -> int | None:
    """Parse an integer like Go's ``strconv.ParseInt(s, 0, 0)`` (decimal, ``0x``, ``0o``, ``0b``)."""
    value = text.strip()
    if not value:
        return None
    try:
        return int(value, 0)
    except ValueError:
        try:
            return int(value, 10)  # "010": Go reads octal, Python base 0 refuses; decimal is what people mean
        except ValueError:
            return None


def parse_nid(text: str) -> int | None:
    """A NID from a query string, or None when it is not a valid one."""
    nid = parse_int(text)
    if nid is None or not NID_MIN <= nid <= NID_MAX:
        return None
    return nid
