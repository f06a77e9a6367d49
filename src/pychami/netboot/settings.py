"""The ``netboot`` settings section (``Settings.netboot``), validated here with clear key names."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pychami.core.errors import ConfigError

DEBIAN_IPXE_DIR = Path("/usr/lib/ipxe")

#: Client architecture types of option 93 (RFC 4578 / IANA) by the names used in the config.
ARCH_NAMES = {"bios": 0, "efi-ia32": 6, "efi-x86_64": 7, "efi-bc": 9, "efi-arm32": 10, "efi-arm64": 11}

#: Files of Debian's ``ipxe`` package (the default TFTP root). arm64 has no Debian x86 package file:
#: sites booting arm64 put upstream's binary there under this name.
DEBIAN_BOOT_FILES = {
    "bios": "undionly.kpxe",
    "efi-ia32": "ipxe-i386.efi",
    "efi-x86_64": "ipxe.efi",
    "efi-bc": "ipxe.efi",
    "efi-arm32": "ipxe-arm32.efi",
    "efi-arm64": "ipxe-arm64.efi",
}
#: Names of OpenCHAMI's ipxe-binaries (what coresmd hands out).
UPSTREAM_BOOT_FILES = {
    "bios": "undionly.kpxe",
    "efi-ia32": "ipxe-i386.efi",
    "efi-x86_64": "ipxe-x86_64.efi",
    "efi-bc": "ipxe-x86_64.efi",
    "efi-arm32": "ipxe-arm32.efi",
    "efi-arm64": "ipxe-arm64.efi",
}


class BootloopSettings(BaseModel):
    """Upstream's ``bootloop`` plugin: short leases for unknown MACs and an iPXE reboot script."""

    model_config = ConfigDict(extra="forbid")

    pool_start: str | None = None
    pool_end: str | None = None
    lease_time: int = Field(default=300, ge=10)
    #: Boot file for iPXE on an unknown MAC; ``default`` is the TFTP-served reboot script.
    script: str = "default"


class NetbootSettings(BaseModel):
    """Everything the DHCP and TFTP daemons need; every key can also come from ``pychami netboot`` flags."""

    model_config = ConfigDict(extra="forbid")

    interfaces: list[str] = Field(default_factory=list)
    server_ip: str | None = None
    #: Served subnets (CIDR). The one holding ``server_ip`` is on-link; others are reached via relays.
    subnets: list[str] = Field(default_factory=list)
    router: str | None = None
    dns: list[str] = Field(default_factory=list)
    domain: str | None = None
    next_server: str | None = None
    lease_time: int = Field(default=3600, ge=60)
    #: ``str.format`` rule with ``nid``, ``xname``, ``index``; default matches the cloud-init hostname.
    hostname: str = "nid{nid:03d}"
    #: Used when the node has no NID.
    hostname_fallback: str = "{xname}"
    boot_files: dict[str, str] = Field(default_factory=lambda: dict(DEBIAN_BOOT_FILES))
    #: ``debian`` (files of Debian's ipxe package) or ``upstream`` (OpenCHAMI's ipxe-x86_64.efi names).
    boot_file_names: Literal["debian", "upstream"] = "debian"
    #: Base URL for iPXE's boot script; default is the server's advertised URL.
    boot_url: str | None = None
    #: ``ignore`` unknown MACs, or upstream's ``bootloop``.
    unknown: Literal["ignore", "bootloop"] = "ignore"
    bootloop: BootloopSettings = BootloopSettings()
    #: Send iPXE option 175.176=1 so it does not wait for a ProxyDHCP offer.
    ipxe_skip_proxydhcp: bool = True
    dhcp_port: int = Field(default=67, ge=1, le=65535)
    #: Port relays listen on (replies to giaddr go there); 67 unless a test relay uses another.
    relay_port: int = Field(default=67, ge=1, le=65535)
    client_port: int = Field(default=68, ge=1, le=65535)
    tftp: bool = True
    tftp_root: Path | None = None
    tftp_listen: str | None = None
    tftp_port: int = Field(default=69, ge=1, le=65535)
    tftp_max_blksize: int = Field(default=65464, ge=512, le=65464)
    tftp_max_windowsize: int = Field(default=64, ge=1, le=65535)
    tftp_timeout: float = Field(default=1.0, gt=0)
    tftp_retries: int = Field(default=5, ge=1)
    #: Follow symlinks inside the TFTP root (Debian's ipxe.efi is one, pointing to /boot).
    tftp_follow_symlinks: bool = True
    #: Seconds between background inventory refreshes (lookups never wait on the database).
    inventory_refresh: float = Field(default=2.0, gt=0)

    @field_validator("server_ip", "router", "next_server")
    @classmethod
    def _ipv4(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.IPv4Address(value)
        return value

    @field_validator("dns")
    @classmethod
    def _ipv4_list(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.IPv4Address(item)
        return value

    @field_validator("subnets")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        return [str(ipaddress.IPv4Network(item, strict=False)) for item in value]

    @field_validator("boot_files")
    @classmethod
    def _arches(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key not in ARCH_NAMES and not key.isdigit():
                raise ValueError(f"unknown architecture {key!r} (one of {', '.join(ARCH_NAMES)} or a number)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> NetbootSettings:
        if self.interfaces and not self.server_ip:
            raise ValueError("server_ip is required when interfaces are set")
        if self.interfaces and not self.subnets:
            raise ValueError("subnets needs at least one CIDR when interfaces are set")
        if self.server_ip and self.subnets:
            ip = ipaddress.IPv4Address(self.server_ip)
            if not any(ip in ipaddress.IPv4Network(s) for s in self.subnets):
                raise ValueError(f"server_ip {self.server_ip} is in none of the subnets")
        if self.unknown == "bootloop":
            b = self.bootloop
            if not b.pool_start or not b.pool_end:
                raise ValueError(
                    "bootloop.pool_start and bootloop.pool_end are required for unknown=bootloop"
                )
            start, end = ipaddress.IPv4Address(b.pool_start), ipaddress.IPv4Address(b.pool_end)
            if start > end:
                raise ValueError("bootloop.pool_start is after bootloop.pool_end")
        return self

    # derived -------------------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return bool(self.interfaces)

    def arch_files(self) -> dict[int, str]:
        """Boot file per option-93 architecture number (preset, then explicit ``boot_files``)."""
        preset = UPSTREAM_BOOT_FILES if self.boot_file_names == "upstream" else DEBIAN_BOOT_FILES
        merged = dict(preset)
        if self.boot_files != DEBIAN_BOOT_FILES:
            merged.update(self.boot_files)
        out: dict[int, str] = {}
        for key, name in merged.items():
            out[ARCH_NAMES[key] if key in ARCH_NAMES else int(key)] = name
        return out

    def effective_tftp_root(self) -> Path | None:
        if self.tftp_root is not None:
            return self.tftp_root
        return DEBIAN_IPXE_DIR if DEBIAN_IPXE_DIR.is_dir() else None


def parse_netboot_settings(raw: dict[str, Any]) -> NetbootSettings:
    """Validate ``Settings.netboot``; a :class:`ConfigError` names each bad key as ``netboot.<key>``."""
    try:
        return NetbootSettings.model_validate(raw)
    except ValidationError as exc:
        lines = ["invalid netboot settings:"]
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(root)"
            lines.append(f"  netboot.{loc}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("\n".join(lines)) from exc
