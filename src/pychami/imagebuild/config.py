"""The image-builder config file: upstream's format (spec §7.1) plus pychami's apt extension.

Upstream keys are accepted with upstream's defaults. pychami adds ``pkg_manager: apt`` (repos then carry
``url`` / ``suite`` / ``components``) and two SquashFS knobs. Unknown keys, wrong types and impossible
combinations are errors that name the key. ``${...}`` placeholders are not expanded (pychami is not a
template engine): one left in an option or a repo is an error naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pychami.core.errors import ConfigError

PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
SQUASHFS_COMPRESSORS = ("gzip", "lzo", "lz4", "xz", "zstd", "lzma")
#: Options where a CLI flag does NOT override the config file (upstream: the config wins).
CONFIG_WINS = ("publish_s3", "publish_registry")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


def _str_or_list(value: Any) -> Any:
    if isinstance(value, str):
        return [value]
    return value


class Options(_Strict):
    """The ``options:`` mapping."""

    layer_type: Literal["base", "ansible"]
    name: str = "base"
    parent: str = "scratch"
    publish_tags: list[str] = Field(default_factory=lambda: ["latest"])
    pkg_manager: Literal["dnf", "zypper", "apt"] | None = None
    gpgcheck: bool = True
    publish_local: bool = False
    publish_registry: str | None = None
    registry_opts_push: list[str] = Field(default_factory=list)
    registry_opts_pull: list[str] = Field(default_factory=list)
    publish_s3: str | None = None
    s3_prefix: str = ""
    s3_bucket: str = "boot-images"
    proxy: str | None = None
    log_level: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    scap_benchmark: bool = False
    oval_eval: bool = False
    install_scap: bool = False
    # ansible layer
    groups: list[str] = Field(default_factory=list)
    playbooks: list[str] = Field(default_factory=list)
    inventory: str | None = None
    vars: dict[str, Any] = Field(default_factory=dict)
    ansible_verbosity: int = Field(default=0, ge=0, le=4)
    # pychami extensions
    squashfs_compression: str = "zstd"
    squashfs_compression_level: int | None = Field(default=3, ge=1, le=22)

    @field_validator("publish_tags", "groups", "playbooks", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _str_or_list(value)

    @field_validator("publish_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("needs at least one tag")
        for tag in value:
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
                raise ValueError(f"{tag!r} is not a valid OCI tag")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9]+(?:[._-][a-z0-9]+)*", value):
            raise ValueError(f"{value!r} is not a valid image name (lower-case letters, digits, . _ -)")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in ("DEBUG", "INFO", "WARN", "WARNING", "ERROR"):
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR")
        return value.upper() if value else value

    @field_validator("squashfs_compression")
    @classmethod
    def _comp(cls, value: str) -> str:
        if value not in SQUASHFS_COMPRESSORS:
            raise ValueError(f"{value!r} is not one of {', '.join(SQUASHFS_COMPRESSORS)}")
        return value

    @field_validator("publish_s3")
    @classmethod
    def _s3(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


class Repo(_Strict):
    """One package repository (upstream: alias/url/gpg/priority; apt extension: suite/components)."""

    alias: str
    url: str
    gpg: str | None = None
    priority: int | None = None
    suite: str | None = None
    components: list[str] | None = None

    @field_validator("components", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return _str_or_list(value)


class CopyFile(_Strict):
    """``buildah copy [opts] <c> src dest``."""

    src: str
    dest: str
    opts: list[str] = Field(default_factory=list)

    @field_validator("opts")
    @classmethod
    def _opts(cls, value: list[str]) -> list[str]:
        for opt in value:
            if not re.fullmatch(r"--(chown|chmod)=\S+", opt):
                raise ValueError(f"{opt!r} is not supported (only --chown=... and --chmod=...)")
        return value


class Cmd(_Strict):
    """A shell command run inside the image root."""

    cmd: str
    loglevel: Literal["DEBUG", "INFO", "WARN", "WARNING", "ERROR"] = "ERROR"
    buildah_extra_args: list[str] = Field(default_factory=list)


class ImageConfig(_Strict):
    """A whole config file."""

    options: Options
    repos: list[Repo] = Field(default_factory=list)
    modules: dict[str, list[str]] = Field(default_factory=dict)
    package_groups: list[str] = Field(default_factory=list)
    packages: list[str] = Field(default_factory=list)
    remove_packages: list[str] = Field(default_factory=list)
    copyfiles: list[CopyFile] = Field(default_factory=list)
    cmds: list[Cmd] = Field(default_factory=list)
    openscap: list[Any] = Field(default_factory=list)

    @field_validator("modules")
    @classmethod
    def _modules(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for verb in value:
            if verb not in ("enable", "disable", "install", "remove", "reset"):
                raise ValueError(
                    f"{verb!r} is not a dnf module command (enable, disable, install, remove, reset)"
                )
        return value

    @model_validator(mode="after")
    def _combinations(self) -> ImageConfig:
        o = self.options
        pm = o.pkg_manager
        content = ("repos", "modules", "package_groups", "packages", "remove_packages")
        if o.layer_type == "base":
            if pm is None:
                raise ValueError("options.pkg_manager: required for layer_type 'base'")
            if o.playbooks or o.groups or o.inventory:
                raise ValueError("options.playbooks: only valid with layer_type 'ansible'")
        else:
            if not o.playbooks:
                raise ValueError("options.playbooks: required for layer_type 'ansible'")
            if o.parent == "scratch":
                raise ValueError("options.parent: an ansible layer needs a parent image, not 'scratch'")
            for key in content:
                if getattr(self, key):
                    raise ValueError(f"{key}: not valid with layer_type 'ansible' (use a playbook)")
        if pm == "apt":
            for key in ("modules", "package_groups"):
                if getattr(self, key):
                    raise ValueError(f"{key}: not supported with pkg_manager 'apt'")
            for i, repo in enumerate(self.repos):
                if not repo.suite:
                    raise ValueError(f"repos.{i}.suite: required with pkg_manager 'apt'")
            if o.parent == "scratch" and not self.repos:
                raise ValueError("repos: a scratch apt base needs a repo (mirror url + suite) to bootstrap")
        else:
            for i, repo in enumerate(self.repos):
                if repo.suite or repo.components:
                    raise ValueError(f"repos.{i}.suite: only valid with pkg_manager 'apt'")
        if pm == "zypper" and self.modules:
            raise ValueError("modules: dnf module commands need pkg_manager 'dnf'")
        if o.registry_opts_push and not o.publish_registry:
            raise ValueError("options.registry_opts_push: set without options.publish_registry")
        level_set = "squashfs_compression_level" in o.model_fields_set
        if o.squashfs_compression not in ("zstd", "gzip"):
            if level_set and o.squashfs_compression_level is not None:
                raise ValueError(
                    f"options.squashfs_compression_level: {o.squashfs_compression} takes no level (set null)"
                )
            o.squashfs_compression_level = None
        elif o.squashfs_compression == "gzip":
            if not level_set:
                o.squashfs_compression_level = 1
            elif (o.squashfs_compression_level or 1) > 9:
                raise ValueError("options.squashfs_compression_level: gzip levels are 1..9")
        return self

    @property
    def publishes(self) -> bool:
        """Whether the build stores its result anywhere."""
        o = self.options
        return bool(o.publish_local or o.publish_registry or o.publish_s3)


def _check_placeholders(raw: dict[str, Any]) -> None:
    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            match = PLACEHOLDER.search(value)
            if match:
                raise ConfigError(f"{path}: placeholder {match.group(0)} is not expanded (fill it in first)")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}.{i}")

    for key in ("options", "repos", "copyfiles"):
        if key in raw:
            walk(raw[key], key)


def _format_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        if msg.startswith(tuple(f"{k}" for k in ("options.", "repos", "modules", "package_groups"))):
            parts.append(msg)
        else:
            parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def parse_config(raw: Any, overrides: dict[str, Any] | None = None) -> ImageConfig:
    """Validate a loaded YAML document, applying CLI ``overrides`` (upstream precedence rules)."""
    if not isinstance(raw, dict):
        raise ConfigError("config: the file must be a YAML mapping with an 'options' key")
    raw = dict(raw)
    opts = raw.get("options")
    if opts is None:
        opts = {}
    if not isinstance(opts, dict):
        raise ConfigError("options: must be a mapping")
    opts = dict(opts)
    for key, value in (overrides or {}).items():
        if value is None or value in ((), []):
            continue
        if key in CONFIG_WINS and opts.get(key):
            continue
        opts[key] = list(value) if isinstance(value, tuple) else value
    raw["options"] = opts
    _check_placeholders(raw)
    try:
        return ImageConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc)) from None


def load_config(path: Path, overrides: dict[str, Any] | None = None) -> ImageConfig:
    """Read and validate a config file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"config: cannot read {path}: {exc.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config: {path} is not valid YAML: {exc}") from None
    return parse_config(raw, overrides)
