"""BSS settings: the ``bss:`` section of the pychami settings, validated when the module is built."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pychami.bss.ipxe import ScriptOptions
from pychami.core.errors import ConfigError


class BSSSettings(BaseModel):
    """Keys of ``Settings.bss`` (env ``PYCHAMI_BSS='{"retry_delay": 10}'`` or the config file)."""

    model_config = ConfigDict(extra="forbid")

    #: Base of the ``chain`` URLs in boot scripts (upstream ``BSS_CHAIN_PROTO://BSS_IPXE_SERVER BSS_GW_URI``).
    #: Default: the server's advertised URL.
    chain_url: str | None = None
    #: ``sleep`` before a known node retries (upstream ``BSS_RETRY_DELAY``).
    retry_delay: int = Field(default=30, ge=0, le=3600)
    #: ``sleep`` before an unknown node asks again (upstream ``BSS_HSM_RETRIEVAL_DELAY``).
    unknown_delay: int = Field(default=10, ge=0, le=3600)
    #: URL of the cloud-init data source put in ``ds=nocloud-net;s=<url>``. Default:
    #: ``<advertised URL>/cloud-init/``.
    cloud_init_url: str | None = None
    #: Seconds the boot-parameter cache is trusted before another process's writes are picked up.
    cache_ttl: float = Field(default=2.0, gt=0, le=300)
    #: Seconds BSS trusts its SMD snapshot before reloading it in the background (SMD writes in this
    #: process and unknown nodes asking to boot trigger a reload sooner).
    inventory_ttl: float = Field(default=30.0, gt=0, le=3600)

    def script_options(self, base_url: str) -> ScriptOptions:
        chain = (self.chain_url or base_url).rstrip("/")
        ds_url = self.cloud_init_url if self.cloud_init_url is not None else f"{base_url}/cloud-init/"
        return ScriptOptions(
            chain_url=chain,
            retry_delay=self.retry_delay,
            unknown_delay=self.unknown_delay,
            datasource=f"nocloud-net;s={ds_url}",
        )


def load_bss_settings(raw: dict[str, Any]) -> BSSSettings:
    """Validate the ``bss`` section; a :class:`ConfigError` names every bad key."""
    try:
        return BSSSettings.model_validate(raw)
    except ValidationError as exc:
        lines = ["invalid bss settings:"]
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"  bss.{loc}: {err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("\n".join(lines)) from exc
