"""The cloud-init data model, with upstream's exact JSON keys (note the mixed ``-`` and ``_``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

_MODEL = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class _GoModel(BaseModel):
    """JSON ``null`` means the zero value, as when Go unmarshals into a struct."""

    @model_validator(mode="before")
    @classmethod
    def _drop_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v is not None}
        return data


class ClusterDefaults(_GoModel):
    """Cluster-wide meta-data (``/admin/cluster-defaults``)."""

    model_config = _MODEL

    cloud_provider: str = ""
    region: str = ""
    availability_zone: str = Field("", alias="availability-zone")
    cluster_name: str = Field("", alias="cluster-name")
    public_keys: tuple[str, ...] = Field((), alias="public-keys")
    base_url: str = Field("", alias="base-url")
    boot_subnet: str = Field("", alias="boot-subnet")
    wg_subnet: str = Field("", alias="wg-subnet")
    short_name: str = Field("", alias="short-name")
    nid_length: int = Field(0, alias="nid-length", ge=0, le=32)

    def merged(self, update: ClusterDefaults) -> ClusterDefaults:
        """Upstream's POST semantics: only non-empty fields of ``update`` overwrite."""
        values = self.model_dump()
        for name, value in update.model_dump().items():
            if value:
                values[name] = value
        values["base_url"] = values["base_url"].rstrip("/")
        return ClusterDefaults(**values)

    def to_wire(self) -> dict[str, Any]:
        """JSON in upstream's field order, empty fields omitted."""
        return {
            field.alias or name: list(value) if isinstance(value, tuple) else value
            for name, field in type(self).model_fields.items()
            if (value := getattr(self, name))
        }


class CloudConfigFile(_GoModel):
    """A group's cloud-config as uploaded: ``content`` is base64 text when ``encoding`` is base64."""

    model_config = _MODEL

    content: str = ""
    filename: str = ""
    encoding: str = ""


class GroupData(_GoModel):
    """Meta-data and cloud-config of one (SMD) group."""

    model_config = _MODEL

    name: str = ""
    description: str = ""
    meta_data: dict[str, Any] = Field(default_factory=dict, alias="meta-data")
    file: CloudConfigFile = CloudConfigFile()

    def to_wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name}
        if self.description:
            body["description"] = self.description
        if self.meta_data:
            body["meta-data"] = self.meta_data
        file: dict[str, Any] = {"content": self.file.content, "filename": self.file.filename}
        if self.file.encoding:
            file["encoding"] = self.file.encoding
        body["file"] = file
        return body


class InstanceInfo(_GoModel):
    """Per-node overrides (``/admin/instance-info/{id}``)."""

    model_config = _MODEL

    id: str = ""
    instance_id: str = Field("", alias="instance-id")
    local_hostname: str = Field("", alias="local-hostname")
    hostname: str = ""
    cluster_name: str = Field("", alias="cluster-name")
    region: str = ""
    availability_zone: str = Field("", alias="availability-zone")
    cloud_provider: str = Field("", alias="cloud-provider")
    instance_type: str = Field("", alias="instance-type")
    cloud_init_base_url: str = Field("", alias="cloud-init-base-url")
    public_keys: tuple[str, ...] = Field((), alias="public-keys")

    def to_wire(self) -> dict[str, Any]:
        """JSON in upstream's order: ``id`` and ``instance-id`` always, the rest when set."""
        body: dict[str, Any] = {"id": self.id, "instance-id": self.instance_id}
        for name, field in type(self).model_fields.items():
            if name in {"id", "instance_id"}:
                continue
            value = getattr(self, name)
            if value:
                body[field.alias or name] = list(value) if isinstance(value, tuple) else value
        return body


class HostKeys(_GoModel):
    """What a node reports on phone-home."""

    model_config = _MODEL

    pub_key_rsa: str = ""
    pub_key_ecdsa: str = ""
    pub_key_ed25519: str = ""
    instance_id: str = ""
    hostname: str = ""
    fqdn: str = ""
