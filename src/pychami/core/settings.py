"""Typed settings for every pychami process, read once and validated at start.

Sources, highest precedence first: explicit values (CLI flags), ``PYCHAMI_*`` environment variables,
the optional YAML config file (``--config`` / ``PYCHAMI_CONFIG``), then defaults. Nested sections use
``__`` in environment names (``PYCHAMI_AUTH__MODE=external``).
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pychami.core.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:8081"
DEFAULT_DATA_DIR = Path("./pychami-data")


class AuthMode(StrEnum):
    """Where bearer tokens come from."""

    LOCAL = "local"  # pychami's own issuer; keys live in the data directory
    EXTERNAL = "external"  # an external issuer's JWKS (Hydra/OPAAL, TokenSmith, Keycloak ...)
    DISABLED = "disabled"  # no auth at all: only for throwaway demos, refused unless allow_insecure


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthSettings(_Section):
    """Bearer JWT verification."""

    mode: AuthMode = AuthMode.LOCAL
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str = "pychami"
    #: Accept any valid token regardless of its scopes, as upstream services do.
    compat_any_scope: bool = False
    #: Seconds of clock skew tolerated on exp/nbf/iat.
    leeway: int = Field(default=30, ge=0, le=600)
    #: Seconds a fetched external JWKS is reused before it is fetched again.
    jwks_cache_seconds: int = Field(default=300, ge=1)

    @model_validator(mode="after")
    def _external_needs_url(self) -> AuthSettings:
        if self.mode is AuthMode.EXTERNAL and not self.jwks_url:
            raise ValueError("auth.mode 'external' needs auth.jwks_url")
        return self


class Settings(BaseSettings):
    """All settings of a pychami deployment."""

    model_config = SettingsConfigDict(
        env_prefix="PYCHAMI_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = DEFAULT_DATA_DIR
    listen: str = DEFAULT_LISTEN
    #: HTTP worker processes (``pychami serve --workers``): each has its own caches, database pool and
    #: boot-event buffer; the caches' short TTLs bound how long one process serves another's old data.
    workers: int = Field(default=1, ge=1, le=64)
    #: Answer node-facing requests in pychami's HTTP protocol (the node lane); false: uvicorn's own
    #: protocol, every request through the ASGI app (same answers, about twice the CPU per request).
    node_lane: bool = True
    #: SQLAlchemy URL; default is SQLite in the data directory.
    db: str | None = None
    #: URL that nodes and clients use to reach this server (boot scripts, cloud-init ds=, vendor-data).
    advertise_url: str | None = None
    log_level: str = "INFO"
    log_format: str = "console"
    #: Largest request body accepted, in bytes (413 beyond).
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)
    #: Refuse auth.mode=disabled unless this is set.
    allow_insecure: bool = False
    auth: AuthSettings = AuthSettings()
    #: Sections owned by individual services; each service validates its own.
    bss: dict[str, Any] = Field(default_factory=dict)
    cloudinit: dict[str, Any] = Field(default_factory=dict)
    netboot: dict[str, Any] = Field(default_factory=dict)
    storage: dict[str, Any] = Field(default_factory=dict)

    config_file: Path | None = None

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        host, port = split_listen(value)
        del host, port
        return value

    @field_validator("log_level")
    @classmethod
    def _check_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r} (DEBUG, INFO, WARNING, ERROR)")
        return level

    @field_validator("log_format")
    @classmethod
    def _check_format(cls, value: str) -> str:
        if value not in {"console", "json"}:
            raise ValueError(f"unknown log format {value!r} (console or json)")
        return value

    @field_validator("db")
    @classmethod
    def _check_db(cls, value: str | None) -> str | None:
        if value is None:
            return None
        scheme = value.split(":", 1)[0]
        if scheme.startswith("postgres"):
            return normalise_postgres_url(value)
        if scheme.startswith("sqlite"):
            return value
        raise ValueError(
            f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH or postgresql://..."
        )

    @model_validator(mode="after")
    def _refuse_insecure(self) -> Settings:
        if self.auth.mode is AuthMode.DISABLED and not self.allow_insecure:
            raise ValueError(
                "auth.mode 'disabled' turns off all access control; set allow_insecure to confirm"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)

    # derived values -------------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        """The effective SQLAlchemy URL (SQLite in the data directory unless ``db`` is set)."""
        if self.db:
            return self.db
        return f"sqlite:///{(self.data_dir / 'pychami.db').resolve()}"

    @property
    def token_issuer(self) -> str:
        """``iss`` of tokens from pychami's own issuer: fixed, so tokens do not depend on the listen port."""
        return self.auth.issuer or "pychami"

    @property
    def listen_host(self) -> str:
        return split_listen(self.listen)[0]

    @property
    def listen_port(self) -> int:
        return split_listen(self.listen)[1]

    @property
    def base_url(self) -> str:
        """URL clients use to reach the API, without a trailing slash."""
        if self.advertise_url:
            return self.advertise_url.rstrip("/")
        host = self.listen_host
        if host in {"0.0.0.0", "::", ""}:  # noqa: S104 - comparing, not binding
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.listen_port}"


def split_listen(value: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[v6]:PORT`` for IPv6) into its parts, validating both."""
    if value.startswith("["):
        host, sep, port_text = value[1:].partition("]:")
    else:
        host, sep, port_text = value.rpartition(":")
    if not sep or not port_text.isdigit():
        raise ValueError(f"listen address {value!r} must be HOST:PORT")
    port = int(port_text)
    if not 0 < port < 65536:
        raise ValueError(f"listen port {port} is out of range 1-65535")
    if host and host != "localhost":
        try:
            ipaddress.ip_address(host)
        except ValueError as exc:
            raise ValueError(f"listen host {host!r} is not an IP address") from exc
    return host or "0.0.0.0", port  # noqa: S104 - an empty host means all interfaces by convention


def normalise_postgres_url(url: str) -> str:
    """Make ``postgres://`` and ``postgresql://`` URLs use the psycopg 3 driver."""
    scheme, _, rest = url.partition("://")
    if scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    return url


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build and validate settings; raise :class:`ConfigError` with every problem on one line each.

    ``overrides`` are explicit values (from CLI flags); ``None`` values are ignored so an absent flag
    does not mask the environment or the file.
    """
    import os  # noqa: PLC0415 - only the settings loader may look at the environment

    path = config_file or (Path(os.environ["PYCHAMI_CONFIG"]) if os.environ.get("PYCHAMI_CONFIG") else None)
    file_values: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping of settings")
        file_values = {k.replace("-", "_"): v for k, v in loaded.items()}
    explicit = {k: v for k, v in overrides.items() if v is not None}
    env_keys = {
        k[len("PYCHAMI_") :].lower().split("__", 1)[0] for k in os.environ if k.startswith("PYCHAMI_")
    }
    # Precedence: explicit > env > file. Values from the file are passed only where neither of the
    # others sets them, because pydantic-settings gives init kwargs the highest precedence.
    merged = {k: v for k, v in file_values.items() if k not in env_keys and k not in explicit}
    merged.update(explicit)
    if path is not None:
        merged["config_file"] = path
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source=str(path) if path else "settings")) from exc


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Render a pydantic error as one line per problem, naming the setting."""
    lines = [f"invalid {source}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  {loc}: {msg}")
    return "\n".join(lines)
