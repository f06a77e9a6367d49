"""SMD wire schemas: request bodies with upstream's exact field names (PascalCase; groups lower-camel)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _nid(value: Any) -> Any:
    # SMD's NID is a json.Number: accept 5 and "5".
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if value == "":
        return None
    return value


class ComponentIn(_In):
    ID: str = ""
    Type: str | None = None
    State: str | None = None
    Flag: str | None = None
    Enabled: bool | None = None
    SoftwareStatus: str | None = None
    Role: str | None = None
    SubRole: str | None = None
    NID: int | None = None
    Subtype: str | None = None
    NetType: str | None = None
    Arch: str | None = None
    Class: str | None = None
    ReservationDisabled: bool | None = None
    Locked: bool | None = None

    _nid = field_validator("NID", mode="before")(_nid)


class ComponentArrayIn(_In):
    Components: list[ComponentIn] | None = None
    Force: bool = False


class ComponentPutIn(_In):
    Component: ComponentIn
    Force: bool = False


class ComponentOut(BaseModel):
    """A component as SMD writes it; empty values are omitted."""

    ID: str
    Type: str
    State: str | None = None
    Flag: str | None = None
    Enabled: bool | None = None
    SoftwareStatus: str | None = None
    Role: str | None = None
    SubRole: str | None = None
    NID: int | None = None
    Subtype: str | None = None
    NetType: str | None = None
    Arch: str | None = None
    Class: str | None = None
    ReservationDisabled: bool | None = None
    Locked: bool | None = None


class ComponentArrayOut(BaseModel):
    Components: list[ComponentOut]


class IDsIn(_In):
    ComponentIDs: list[str] = Field(default_factory=list)


class StateDataIn(IDsIn):
    State: str = ""
    Flag: str = ""
    Force: bool = False


class FlagOnlyIn(IDsIn):
    Flag: str = ""


class EnabledIn(IDsIn):
    Enabled: bool | None = None


class SoftwareStatusIn(IDsIn):
    SoftwareStatus: str = ""


class RoleIn(IDsIn):
    Role: str = ""
    SubRole: str = ""


class NIDIn(IDsIn):
    NID: int | None = None

    _nid = field_validator("NID", mode="before")(_nid)


class BulkNIDIn(_In):
    Components: list[ComponentIn] = Field(default_factory=list)


class NIDRangesIn(_In):
    NIDRanges: list[str] = Field(default_factory=list)


class IPAddressIn(_In):
    IPAddress: str = ""
    Network: str = ""


class IPAddressOut(BaseModel):
    IPAddress: str
    Network: str | None = None


class EthernetInterfaceIn(_In):
    ID: str = ""
    Description: str = ""
    MACAddress: str = ""
    ComponentID: str = ""
    IPAddresses: list[IPAddressIn] = Field(default_factory=list)


class EthernetInterfacePatchIn(_In):
    Description: str | None = None
    ComponentID: str | None = None
    IPAddresses: list[IPAddressIn] | None = None


class EthernetInterfaceOut(BaseModel):
    ID: str
    Description: str
    MACAddress: str
    LastUpdate: str
    ComponentID: str
    Type: str
    IPAddresses: list[IPAddressOut]


class IPPatchIn(_In):
    Network: str | None = None


class RedfishEndpointIn(_In):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    ID: str = ""
    Type: str | None = None
    Name: str = ""
    Hostname: str = ""
    Domain: str = ""
    FQDN: str = ""
    Enabled: bool | None = None
    UUID: str = ""
    User: str = ""
    Password: str = ""
    UseSSDP: bool = False
    MACRequired: bool = False
    MACAddr: str = ""
    IPAddress: str = ""
    RediscoverOnUpdate: bool = False
    TemplateID: str = ""
    DiscoveryInfo: dict[str, Any] | None = None
    SchemaVersion: int | None = None
    Systems: list[dict[str, Any]] | None = None
    Managers: list[dict[str, Any]] | None = None


class RedfishEndpointArrayIn(_In):
    RedfishEndpoints: list[RedfishEndpointIn]


class MembersIn(_In):
    ids: list[str] = Field(default_factory=list)


class GroupIn(_In):
    label: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    exclusiveGroup: str = ""
    members: MembersIn = Field(default_factory=MembersIn)


class GroupPatchIn(_In):
    description: str | None = None
    tags: list[str] | None = None


class MemberIn(_In):
    id: str = ""


class MembersPutIn(_In):
    group: str = ""
    ids: list[str] = Field(default_factory=list)


class PartitionIn(_In):
    name: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    members: MembersIn = Field(default_factory=MembersIn)


class PartitionPatchIn(_In):
    description: str | None = None
    tags: list[str] | None = None
