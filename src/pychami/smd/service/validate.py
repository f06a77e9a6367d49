"""Validation and normalisation of identifiers SMD accepts."""

from __future__ import annotations

import ipaddress
import re

from pychami.core import xnames
from pychami.core.errors import BadRequest

_HEX = re.compile(r"[0-9a-f]{12}\Z")


def normalise_mac(mac: str) -> str | None:
    """``52:54:00:BE:EF:01``, ``52-54-00-be-ef-01``, ``525400beef01`` -> ``52:54:00:be:ef:01``."""
    digits = mac.strip().lower().replace(":", "").replace("-", "").replace(".", "")
    if not _HEX.match(digits):
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def mac_id(mac: str) -> str:
    return mac.replace(":", "")


def require_mac(mac: str, what: str = "MAC address") -> str:
    norm = normalise_mac(mac)
    if norm is None:
        raise BadRequest(f"invalid {what} '{mac}'")
    return norm


def require_ip(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        raise BadRequest(f"invalid IP address '{ip}'") from None


def require_xname(xname: str, context: str = "") -> xnames.Parsed:
    parsed = xnames.parse(xname)
    if parsed is None:
        prefix = f"{context}: " if context else ""
        raise BadRequest(f"{prefix}xname ID '{xname}' is invalid")
    return parsed


_LABEL = re.compile(r"[-a-z0-9:._]+\Z")


def require_label(label: str, what: str = "label") -> str:
    low = label.strip().lower()
    if not _LABEL.match(low):
        raise BadRequest(f"couldn't validate group: invalid {what} '{label}' (allowed: a-z 0-9 - : . _)")
    return low
