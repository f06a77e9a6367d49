"""Per-invocation state of ochami: global flags, merged config, the chosen cluster, clients, logging."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import httpx

from pychami.cli.ochami import config as cfg
from pychami.cli.ochami.client import ServiceClient, tls_verify
from pychami.cli.ochami.tokens import check, token_from_env
from pychami.core.errors import ConfigError

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
_SHORT = {"debug": "DBG", "info": "INF", "warning": "WRN", "error": "ERR"}
_JSON_LEVEL = {"debug": "debug", "info": "info", "warning": "warn", "error": "error"}  # zerolog's names


@dataclass
class Hooks:
    """What tests inject through ``obj=``: a transport instead of the network, an environment, a clock."""

    transport: httpx.BaseTransport | None = None
    environ: Mapping[str, str] | None = None
    now: datetime | None = None


@dataclass
class Env:
    """Everything a command needs, built once by the root group."""

    config_file: Path | None = None
    cluster_name: str | None = None
    cluster_uri: str | None = None
    cacert: str | None = None
    insecure: bool = False
    token: str | None = None
    no_token: bool = False
    log_level: str = "warning"
    log_format: str = "json"
    ignore_config: bool = False
    hooks: Hooks = field(default_factory=Hooks)
    service_uris: dict[str, str] = field(default_factory=dict)
    _config: dict[str, Any] | None = None
    _token_checked: str | None = None
    _clients: list[ServiceClient] = field(default_factory=list)

    @property
    def environ(self) -> Mapping[str, str]:
        """The process environment, or the injected one."""
        return self.hooks.environ if self.hooks.environ is not None else os.environ

    # -- logging -----------------------------------------------------------------------------------
    def log(self, level: str, message: str) -> None:
        """Write a log line on stderr in the chosen format, if ``level`` is enabled."""
        if _LEVELS[level] < _LEVELS.get(self.log_level, 30):
            return
        now = datetime.now(UTC).astimezone()
        if self.log_format == "json":
            line = json.dumps(
                {"level": _JSON_LEVEL[level], "time": now.isoformat(timespec="seconds"), "message": message},
                separators=(",", ":"),
            )
        elif self.log_format == "rfc3339":
            line = f"{now.isoformat(timespec='seconds')} {_SHORT[level]} {message}"
        else:
            line = f"{_SHORT[level]} {message}"
        click.echo(line, err=True)

    def debug(self, message: str) -> None:
        """Log at debug level."""
        self.log("debug", message)

    # -- config ------------------------------------------------------------------------------------
    @property
    def config(self) -> dict[str, Any]:
        """The effective config: ``-c FILE`` alone, or system merged with user, or nothing."""
        if self._config is None:
            if self.ignore_config:
                self._config = {}
            elif self.config_file is not None:
                if not self.config_file.exists():
                    raise ConfigError(f"config file {self.config_file} does not exist")
                self._config = cfg.read_file(self.config_file)
            else:
                self._config = cfg.merge(
                    cfg.read_file(cfg.system_config_path(self.environ)),
                    cfg.read_file(cfg.user_config_path(self.environ)),
                )
        return self._config

    def apply_log_config(self, level_flag: str | None, format_flag: str | None, verbose: bool) -> None:
        """Flags win over the config's ``log`` section; ``-v`` means debug."""
        log = self.config.get("log") or {}
        self.log_level = "debug" if verbose else (level_flag or str(log.get("level") or "warning"))
        self.log_format = format_flag or str(log.get("format") or "json")
        if self.log_level not in _LEVELS:
            self.log_level = "warning"
        if self.log_format not in cfg.LOG_FORMATS:
            self.log_format = "json"

    @property
    def cluster(self) -> cfg.Cluster | None:
        """The selected cluster: ``-C``, else ``default-cluster``, else the only configured one."""
        name = self.cluster_name or self.config.get("default-cluster")
        if not name:
            clusters = self.config.get("clusters") or []
            if len(clusters) == 1:
                name = clusters[0].get("name")
        if not name:
            return None
        found = cfg.find_cluster(self.config, str(name))
        if found is None:
            if self.cluster_name and self.cluster_uri:
                return cfg.Cluster(name=self.cluster_name, uri=None, services={})
            raise ConfigError(f"cluster {name!r} is not in the configuration")
        return found

    def service_url(self, service: str) -> str:
        """Base URL of ``service``: per-command ``--uri``, the cluster's override, or base + default path."""
        cluster = self.cluster
        override = self.service_uris.get(service) or (cluster.services.get(service) if cluster else None)
        if override and urlsplit(override).scheme:
            return override.rstrip("/")
        base = self.cluster_uri or (cluster.uri if cluster else None)
        if not base:
            raise ConfigError(
                "no cluster URI: pass --cluster-uri, or configure one with "
                "`ochami config cluster set --default NAME cluster.uri URI`"
            )
        path = override or cfg.DEFAULT_BASE_PATHS[service]
        return base.rstrip("/") + "/" + path.strip("/") if path.strip("/") else base.rstrip("/")

    # -- tokens ------------------------------------------------------------------------------------
    def access_token(self) -> str | None:
        """The token to send (checked locally once), or None when auth is off."""
        cluster = self.cluster
        if self.no_token or (cluster is not None and not cluster.enable_auth and not self.token):
            return None
        token = self.token or token_from_env(
            self.cluster_name or (cluster.name if cluster else None), self.environ
        )
        if self._token_checked != token:
            result = check(token, self.hooks.now)
            if result.warning:
                self.log("warning", result.warning)
            self._token_checked = token
        return token

    # -- clients -----------------------------------------------------------------------------------
    def client(self, service: str) -> ServiceClient:
        """A client for ``service``, closed when the command ends."""
        client = ServiceClient(
            self.service_url(service),
            self.access_token,
            verify=tls_verify(self.cacert, self.insecure),
            transport=self.hooks.transport,
            log=self.debug,
        )
        self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every client."""
        for c in self._clients:
            c.close()
        self._clients.clear()


def get_env() -> Env:
    """The Env of the current click invocation."""
    return click.get_current_context().find_object(Env) or _missing()


def _missing() -> Env:
    print("internal error: ochami environment missing", file=sys.stderr)
    raise SystemExit(2)
