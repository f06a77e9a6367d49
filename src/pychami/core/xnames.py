"""HMS xnames: validation, normalisation (lower case, no leading zeros) and component type.

Examples: ``x1000c0s0b0n0`` (Node), ``x1000c0s0b0`` (NodeBMC), ``x1000c0`` (Chassis).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# (type, pattern over the normalised form); order matters only for readability: patterns are anchored.
_TYPES: tuple[tuple[str, str], ...] = (
    ("System", r"s0"),
    ("CDU", r"d\d+"),
    ("CDUMgmtSwitch", r"d\d+w\d+"),
    ("Cabinet", r"x\d+"),
    ("CEC", r"x\d+e\d+"),
    ("CabinetPDUController", r"x\d+m\d+"),
    ("CabinetPDU", r"x\d+m\d+p\d+"),
    ("CabinetPDUOutlet", r"x\d+m\d+p\d+j\d+"),
    ("CabinetPDUPowerConnector", r"x\d+m\d+p\d+v\d+"),
    ("Chassis", r"x\d+c\d+"),
    ("ChassisBMC", r"x\d+c\d+b\d+"),
    ("CMMRectifier", r"x\d+c\d+t\d+"),
    ("CMMFpga", r"x\d+c\d+f\d+"),
    ("ComputeModule", r"x\d+c\d+s\d+"),
    ("NodeBMC", r"x\d+c\d+s\d+b\d+"),
    ("NodeBMCNic", r"x\d+c\d+s\d+b\d+i\d+"),
    ("NodeEnclosure", r"x\d+c\d+s\d+e\d+"),
    ("NodePowerConnector", r"x\d+c\d+s\d+[jv]\d+"),
    ("Node", r"x\d+c\d+s\d+b\d+n\d+"),
    ("Processor", r"x\d+c\d+s\d+b\d+n\d+p\d+"),
    ("NodeNic", r"x\d+c\d+s\d+b\d+n\d+i\d+"),
    ("NodeHsnNic", r"x\d+c\d+s\d+b\d+n\d+h\d+"),
    ("Memory", r"x\d+c\d+s\d+b\d+n\d+d\d+"),
    ("NodeAccel", r"x\d+c\d+s\d+b\d+n\d+a\d+"),
    ("NodeAccelRiser", r"x\d+c\d+s\d+b\d+n\d+r\d+"),
    ("StorageGroup", r"x\d+c\d+s\d+b\d+n\d+g\d+"),
    ("Drive", r"x\d+c\d+s\d+b\d+n\d+g\d+k\d+"),
    ("RouterModule", r"x\d+c\d+r\d+"),
    ("RouterBMC", r"x\d+c\d+r\d+b\d+"),
    ("RouterFpga", r"x\d+c\d+r\d+f\d+"),
    ("RouterTOR", r"x\d+c\d+r\d+t\d+"),
    ("HSNBoard", r"x\d+c\d+r\d+e\d+"),
    ("HSNConnector", r"x\d+c\d+r\d+j\d+"),
    ("HSNConnectorPort", r"x\d+c\d+r\d+j\d+p\d+"),
    ("MgmtSwitch", r"x\d+c\d+w\d+"),
    ("MgmtSwitchConnector", r"x\d+c\d+w\d+j\d+"),
    ("MgmtHLSwitchEnclosure", r"x\d+c\d+h\d+"),
    ("MgmtHLSwitch", r"x\d+c\d+h\d+s\d+"),
)

_COMPILED = tuple((name, re.compile(pattern + r"\Z")) for name, pattern in _TYPES)
_TOKEN = re.compile(r"([a-z])(\d+)")
_SHAPE = re.compile(r"(?:[a-z]\d+)+\Z")

#: Types that own a Redfish endpoint (valid RedfishEndpoint IDs).
CONTROLLER_TYPES = frozenset(
    {
        "NodeBMC",
        "RouterBMC",
        "ChassisBMC",
        "CabinetPDUController",
        "MgmtSwitch",
        "MgmtHLSwitch",
        "CDUMgmtSwitch",
    }
)
NODE_TYPES = frozenset({"Node", "VirtualNode"})


def normalise(xname: str) -> str:
    """Lower-case and strip leading zeros from every number (``X1000C00S0B0N0`` -> ``x1000c0s0b0n0``).

    Returns the input lower-cased when it does not have the shape of an xname.
    """
    text = xname.strip().lower()
    if not _SHAPE.match(text):
        return text
    return "".join(f"{letter}{int(number)}" for letter, number in _TOKEN.findall(text))


def xname_type(xname: str) -> str | None:
    """HMS type of a (normalised) xname, or None when it is not a valid xname."""
    for name, pattern in _COMPILED:
        if pattern.match(xname):
            return name
    return None


def is_valid(xname: str) -> bool:
    return xname_type(normalise(xname)) is not None


@dataclass(frozen=True)
class Parsed:
    xname: str
    type: str


def parse(xname: str) -> Parsed | None:
    """Normalise and type an xname; None when invalid."""
    norm = normalise(xname)
    kind = xname_type(norm)
    return Parsed(norm, kind) if kind else None


def parent_bmc(node_xname: str) -> str | None:
    """``x1000c0s0b0n0`` -> ``x1000c0s0b0``."""
    norm = normalise(node_xname)
    if xname_type(norm) != "Node":
        return None
    return norm[: norm.rindex("n")]


def bogus_nid(node_xname: str) -> int | None:
    """SMD's default NID for a node without one: ``(cab+1)*16384 + chassis*2048 + slot*32 + bmc*4 + node``."""
    norm = normalise(node_xname)
    if xname_type(norm) != "Node":
        return None
    nums = [int(n) for _, n in _TOKEN.findall(norm)]
    cab, chassis, slot, bmc, node = nums
    return (cab + 1) * 16384 + chassis * 2048 + slot * 32 + bmc * 4 + node
