"""Redfish resources described declaratively, tolerant of what real BMCs leave out or add.

Every field is optional: a missing link, a ``null`` collection or a vendor ``Oem`` block never fails the
parse. Values that vendors spell differently (MACs with dashes or in upper case, ``0.0.0.0`` for "no
address") are normalised here, once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Resource(BaseModel):
    """Base of every Redfish resource: ignores unknown keys (``Oem``, newer schema fields)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    odata_id: str = Field("", alias="@odata.id")
    Id: str = ""
    Name: str = ""
    Description: str | None = None


class Link(BaseModel):
    """A reference to another resource."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    odata_id: str = Field("", alias="@odata.id")


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


def _none_to_dict(value: Any) -> Any:
    return {} if value is None else value


class Collection(Resource):
    """A resource collection; only the member links (and the next page, if any) matter."""

    Members: list[Link] = []
    next_link: str | None = Field(None, alias="Members@odata.nextLink")

    _members = field_validator("Members", mode="before")(_none_to_list)


class ServiceRoot(Resource):
    """``/redfish/v1/``."""

    UUID: str | None = None
    RedfishVersion: str | None = None
    Systems: Link | None = None
    Managers: Link | None = None
    Chassis: Link | None = None
    SessionService: Link | None = None


class ResetAction(BaseModel):
    """A ``#ComputerSystem.Reset`` or ``#Manager.Reset`` action."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    target: str = ""
    allowable: list[str] = Field([], alias="ResetType@Redfish.AllowableValues")
    action_info: str | None = Field(None, alias="@Redfish.ActionInfo")

    _allowable = field_validator("allowable", mode="before")(_none_to_list)


class Summary(BaseModel):
    """``ProcessorSummary`` / ``MemorySummary``: counts a BMC often fills in better than the members."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    Count: int | None = None
    Model: str | None = None
    TotalSystemMemoryGiB: float | None = None


class ComputerSystem(Resource):
    """``/redfish/v1/Systems/<id>``."""

    UUID: str | None = None
    Manufacturer: str | None = None
    Model: str | None = None
    SerialNumber: str | None = None
    BiosVersion: str | None = None
    SystemType: str | None = None
    PowerState: str | None = None
    ProcessorSummary: Summary | None = None
    MemorySummary: Summary | None = None
    EthernetInterfaces: Link | None = None
    Processors: Link | None = None
    Memory: Link | None = None
    Actions: dict[str, Any] = {}

    _actions = field_validator("Actions", mode="before")(_none_to_dict)

    def reset_action(self) -> ResetAction | None:
        """The ``#ComputerSystem.Reset`` action, if the system offers one."""
        raw = self.Actions.get("#ComputerSystem.Reset")
        return ResetAction.model_validate(raw) if isinstance(raw, dict) else None


NO_ADDRESS = ".".join(["0"] * 4)


class IPv4Address(BaseModel):
    """One entry of ``IPv4Addresses``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    Address: str | None = None


def normalize_mac(value: str | None) -> str:
    """``AA-BB-CC-DD-EE-FF`` / ``aabb.ccdd.eeff`` -> ``aa:bb:cc:dd:ee:ff``; empty when absent or malformed."""
    if not value:
        return ""
    hexdigits = "".join(ch for ch in value.lower() if ch in "0123456789abcdef")
    if len(hexdigits) != 12:
        return ""
    return ":".join(hexdigits[i : i + 2] for i in range(0, 12, 2))


class EthernetInterface(Resource):
    """``.../EthernetInterfaces/<id>`` of a system or a manager."""

    MACAddress: str | None = None
    PermanentMACAddress: str | None = None
    InterfaceEnabled: bool | None = None
    IPv4Addresses: list[IPv4Address] = []

    _ips = field_validator("IPv4Addresses", mode="before")(_none_to_list)

    @property
    def mac(self) -> str:
        """The MAC in canonical form, preferring the current over the permanent one."""
        return normalize_mac(self.MACAddress) or normalize_mac(self.PermanentMACAddress)

    @property
    def ip(self) -> str:
        """The first usable IPv4 address, or ``""`` (BMCs report ``0.0.0.0`` for none)."""
        for entry in self.IPv4Addresses:
            if entry.Address and entry.Address != NO_ADDRESS:
                return entry.Address
        return ""


class Processor(Resource):
    """``.../Processors/<id>``."""

    Model: str | None = None
    Manufacturer: str | None = None
    ProcessorType: str | None = None
    ProcessorArchitecture: str | None = None
    TotalCores: int | None = None
    TotalThreads: int | None = None


class Memory(Resource):
    """``.../Memory/<id>``."""

    CapacityMiB: int | None = None
    MemoryDeviceType: str | None = None


class Manager(Resource):
    """``/redfish/v1/Managers/<id>``."""

    UUID: str | None = None
    ManagerType: str | None = None
    FirmwareVersion: str | None = None
    Model: str | None = None
    EthernetInterfaces: Link | None = None
    Actions: dict[str, Any] = {}

    _actions = field_validator("Actions", mode="before")(_none_to_dict)

    def reset_types(self) -> list[str]:
        """Allowable ``#Manager.Reset`` values, when the manager lists them."""
        raw = self.Actions.get("#Manager.Reset")
        return ResetAction.model_validate(raw).allowable if isinstance(raw, dict) else []


class ActionInfo(Resource):
    """``@Redfish.ActionInfo`` target: where some BMCs (HPE iLO, Supermicro) list allowable values."""

    Parameters: list[dict[str, Any]] = []

    _params = field_validator("Parameters", mode="before")(_none_to_list)

    def allowable(self, name: str) -> list[str]:
        """Allowable values of parameter ``name``."""
        for param in self.Parameters:
            if param.get("Name") == name and isinstance(param.get("AllowableValues"), list):
                return [str(v) for v in param["AllowableValues"]]
        return []
