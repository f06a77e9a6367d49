"""SMD enumerations and their case-insensitive normalisation."""

from __future__ import annotations

from pychami.core.xnames import _TYPES

STATES = ("Unknown", "Empty", "Populated", "Off", "On", "Standby", "Halt", "Ready")
FLAGS = ("OK", "Warning", "Alert", "Locked", "Unknown")
ROLES = ("Compute", "Service", "System", "Application", "Storage", "Management")
SUBROLES = ("Master", "Worker", "Storage")
ARCHES = ("X86", "ARM", "Other", "UNKNOWN")
CLASSES = ("River", "Mountain", "Hill")
NET_TYPES = ("Sling", "Infiniband", "Ethernet", "OEM", "None")
TYPES = tuple(sorted({name for name, _ in _TYPES} | {"VirtualNode", "Partition", "HMSTypeAll"}))

VALUES: dict[str, tuple[str, ...]] = {
    "Arch": ARCHES,
    "Class": CLASSES,
    "Flag": FLAGS,
    "NetType": NET_TYPES,
    "Role": ROLES,
    "SubRole": SUBROLES,
    "State": STATES,
    "Type": TYPES,
}

_LOOKUP = {field: {v.lower(): v for v in values} for field, values in VALUES.items()}


def normalise(field: str, value: str) -> str | None:
    """Canonical spelling of ``value`` for ``field`` (``compute`` -> ``Compute``), None when invalid."""
    return _LOOKUP[field].get(value.strip().lower())
