"""Fixtures of the netboot tests: a small inventory, settings, and packet builders."""

from __future__ import annotations

from pychami.core.inventory import Interface, InventorySnapshot, IPAddress, Node
from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import DhcpPacket, MessageType
from pychami.netboot.settings import NetbootSettings

SERVER = "198.18.0.1"
BOOT_URL = "http://198.18.0.1:8081"
KNOWN_MAC = "52:54:00:00:00:01"
KNOWN_IP = "198.18.0.11"


def node(nid: int, mac: str, *ips: str, xname: str | None = None) -> Node:
    return Node(
        xname or f"x3000c0s{nid}b0n0",
        nid,
        interfaces=(Interface(mac, tuple(IPAddress(ip) for ip in ips)),),
    )


def snapshot(*nodes: Node) -> InventorySnapshot:
    return InventorySnapshot(nodes=nodes)


def settings(**overrides: object) -> NetbootSettings:
    values: dict[str, object] = {
        "interfaces": ["vsrv"],
        "server_ip": SERVER,
        "subnets": ["198.18.0.0/16", "10.77.0.0/24"],
        "router": SERVER,
        "dns": [SERVER],
        "domain": "cluster",
    }
    values.update(overrides)
    return NetbootSettings.model_validate(values)


def request(
    mtype: MessageType,
    mac: str = KNOWN_MAC,
    *,
    options: list[tuple[int, bytes]] | None = None,
    ciaddr: str = "0.0.0.0",
    giaddr: str = "0.0.0.0",
    flags: int = 0,
) -> DhcpPacket:
    return DhcpPacket(
        xid=0xCAFE,
        flags=flags,
        ciaddr=ciaddr,
        giaddr=giaddr,
        chaddr=bytes.fromhex(mac.replace(":", "")) + bytes(10),
        options=[(codec.OPT_MESSAGE_TYPE, bytes((mtype,))), *(options or [])],
    )


def ip(value: str) -> bytes:
    return codec.ip_value([value])


ARCH_BIOS = (codec.OPT_CLIENT_ARCH, b"\x00\x00")
ARCH_EFI64 = (codec.OPT_CLIENT_ARCH, b"\x00\x07")
ARCH_ARM64 = (codec.OPT_CLIENT_ARCH, b"\x00\x0b")
PXE_VENDOR = (codec.OPT_VENDOR_CLASS, b"PXEClient:Arch:00007:UNDI:003016")
IPXE_USER_CLASS = (codec.OPT_USER_CLASS, b"iPXE")
