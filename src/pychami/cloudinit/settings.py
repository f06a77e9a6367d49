"""Settings of the cloud-init service, validated from ``Settings.cloudinit`` at start."""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pychami.core.errors import ConfigError
from pychami.core.settings import Settings, format_validation_error

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class CloudInitSettings(BaseModel):
    """The ``cloudinit`` section of the pychami settings."""

    model_config = ConfigDict(extra="forbid")

    #: Peers (CIDRs) whose ``X-Forwarded-For`` header is believed; nobody else's is.
    trusted_proxies: list[IPNetwork] = Field(default_factory=list)
    #: URL nodes use to reach the cloud-init routes; default ``<base_url>/cloud-init``. Cluster defaults
    #: ``base-url`` and per-node ``cloud-init-base-url`` override it in vendor-data.
    base_url: str | None = None
    #: Largest decoded group cloud-config accepted on upload, in bytes.
    max_config_bytes: int = Field(default=256 * 1024, ge=64)
    #: Largest group or node meta-data accepted on upload (as compact JSON), in bytes.
    max_meta_data_bytes: int = Field(default=64 * 1024, ge=64)
    #: Seconds before the in-process caches re-check the database (other processes' writes).
    cache_ttl: float = Field(default=2.0, gt=0, le=300)
    #: Serve ``/cloud-init/admin/impersonation/...`` (token-protected) as upstream's IMPERSONATION=true.
    impersonation: bool = True

    @field_validator("base_url")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"base_url {value!r} must start with http:// or https://")
        return value.rstrip("/")


def load(settings: Settings) -> tuple[CloudInitSettings, str]:
    """Validate ``settings.cloudinit``; return it with the effective base URL."""
    raw: dict[str, Any] = {k.replace("-", "_"): v for k, v in settings.cloudinit.items()}
    try:
        ci = CloudInitSettings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source="cloudinit settings")) from exc
    base = ci.base_url or f"{settings.base_url}/cloud-init"
    return ci, base
