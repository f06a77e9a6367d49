"""Wire format of ``/boot/v1``: the upstream ``BootParams`` JSON, exactly, plus our ``groups`` field.

Upstream field names and omit-empty rules: ``hosts``, ``macs``, ``nids``, ``params``, ``kernel``,
``initrd`` are left out when empty; ``cloud-init`` is always present (a non-pointer struct in Go).
Parsing is strict about types (a NID must be an integer) and lenient about unknown keys, like Go's
``encoding/json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from pychami.bss import identifiers as ident
from pychami.bss.ipxe import BootConfig
from pychami.core.errors import BadRequest

#: What upstream always writes for ``cloud-init`` (``pub_key_ed25519`` is omitted when empty).
EMPTY_CLOUD_INIT: dict[str, Any] = {
    "meta-data": None,
    "user-data": None,
    "phone-home": {
        "pub_key_dsa": "",
        "pub_key_rsa": "",
        "pub_key_ecdsa": "",
        "instance_id": "",
        "hostname": "",
        "fqdn": "",
    },
}


def empty_cloud_init() -> dict[str, Any]:
    return {**EMPTY_CLOUD_INIT, "phone-home": dict(EMPTY_CLOUD_INIT["phone-home"])}


class BootParamsModel(BaseModel):
    """Request body of ``/boot/v1/bootparameters`` (for validation and the OpenAPI document)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    hosts: list[StrictStr] | None = Field(default=None, description="Node xnames")
    macs: list[StrictStr] | None = Field(default=None, description="MAC addresses (aa:bb:cc:dd:ee:ff)")
    nids: list[StrictInt] | None = Field(default=None, description="Node IDs")
    groups: list[StrictStr] | None = Field(
        default=None, description="SMD group labels (pychami addition: defaults for every member)"
    )
    params: StrictStr | None = None
    kernel: StrictStr | None = None
    initrd: StrictStr | None = None
    cloud_init: dict[str, Any] | None = Field(default=None, alias="cloud-init")


@dataclass
class BootParams:
    """A validated request: normalised identifiers plus the (possibly partial) configuration."""

    hosts: list[str] = field(default_factory=list)
    macs: list[str] = field(default_factory=list)
    nids: list[int] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    params: str = ""
    kernel: str = ""
    initrd: str = ""

    @property
    def has_identifiers(self) -> bool:
        return bool(self.hosts or self.macs or self.nids or self.groups)

    @property
    def has_config(self) -> bool:
        return bool(self.params or self.kernel or self.initrd)

    def identifiers(self) -> list[tuple[str, str]]:
        """``(kind, key)`` pairs in request order, without duplicates."""
        pairs = [("mac", m) for m in self.macs]
        pairs += [("xname", h) for h in self.hosts]
        pairs += [("nid", str(n)) for n in self.nids]
        pairs += [("group", g) for g in self.groups]
        return list(dict.fromkeys(pairs))

    def config(self) -> BootConfig:
        return BootConfig(kernel=self.kernel, initrd=self.initrd, params=self.params)


def _dedupe(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def parse_body(body: bytes, *, allow_empty: bool = False) -> BootParams | None:
    """Decode and validate a request body; :class:`BadRequest` (``Bad Request: ...``) otherwise."""
    if not body.strip():
        if allow_empty:
            return None
        raise BadRequest("Bad Request: EOF")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"Bad Request: {exc}") from exc
    return parse_object(data)


def parse_object(data: Any) -> BootParams:
    if not isinstance(data, dict):
        kind = "array" if isinstance(data, list) else type(data).__name__
        raise BadRequest(
            f"Bad Request: json: cannot unmarshal {kind} into Go value of type bssTypes.BootParams"
        )
    try:
        model = BootParamsModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise BadRequest(f"Bad Request: {loc}: {err['msg']}") from exc
    macs = []
    for mac in model.macs or []:
        if not ident.is_mac(mac):
            raise BadRequest(f"Bad Request: invalid MAC address format: {mac}")
        macs.append(ident.normalise_mac(mac))
    hosts = []
    for host in model.hosts or []:
        if not ident.is_node_xname(host):
            raise BadRequest(f"Bad Request: invalid xname {host!r}: hosts must be Node xnames (x#c#s#b#n#)")
        hosts.append(ident.normalise_xname(host))
    for nid in model.nids or []:
        if not ident.NID_MIN <= nid <= ident.NID_MAX:
            raise BadRequest(f"Bad Request: invalid NID {nid}")
    for label in model.groups or []:
        if not ident.is_group_label(label):
            raise BadRequest(f"Bad Request: invalid group label {label!r}")
    return BootParams(
        hosts=_dedupe(hosts),
        macs=_dedupe(macs),
        nids=_dedupe(list(model.nids or [])),
        groups=_dedupe(list(model.groups or [])),
        params=model.params or "",
        kernel=model.kernel or "",
        initrd=model.initrd or "",
    )


def to_wire(
    config: BootConfig,
    *,
    hosts: Sequence[str] = (),
    macs: Sequence[str] = (),
    nids: Sequence[int] = (),
    groups: Sequence[str] = (),
    source: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """One BootParams object in upstream key order (omit-empty), ``cloud-init`` always present."""
    out: dict[str, Any] = {}
    if hosts:
        out["hosts"] = list(hosts)
    if macs:
        out["macs"] = list(macs)
    if nids:
        out["nids"] = list(nids)
    if groups:
        out["groups"] = list(groups)
    if config.params:
        out["params"] = config.params
    if config.kernel:
        out["kernel"] = config.kernel
    if config.initrd:
        out["initrd"] = config.initrd
    out["cloud-init"] = empty_cloud_init()
    if source is not None:
        out["source"] = {"kind": source[0], "key": source[1]}
    return out
