"""ochami config files: the system file merged with the user file (user wins), clusters, default cluster.

The file format is upstream's::

    clusters:
      - name: demo
        cluster:
          uri: https://demo.openchami.cluster:8443
          smd: {uri: /hsm/v2}
          enable-auth: true
    default-cluster: demo
    log: {format: rfc3339, level: warning}

Paths: ``/etc/ochami/config.yaml`` (``OCHAMI_SYSTEM_CONFIG`` overrides it, for tests and packagers) and
``$XDG_CONFIG_HOME/ochami/config.yaml`` (default ``~/.config/ochami/config.yaml``).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pychami.core.errors import BadRequest, ConfigError

SERVICES = ("smd", "bss", "cloud-init", "pcs")
DEFAULT_BASE_PATHS = {"smd": "/hsm/v2", "bss": "/boot/v1", "cloud-init": "/cloud-init", "pcs": "/"}
LOG_FORMATS = ("json", "rfc3339", "basic")
LOG_LEVELS = ("info", "warning", "debug")
GLOBAL_KEYS = ("default-cluster", "log.format", "log.level")
CLUSTER_KEYS = (
    "name",
    "cluster.uri",
    "cluster.enable-auth",
    *(f"cluster.{svc}.uri" for svc in SERVICES),
)


def system_config_path(env: Mapping[str, str]) -> Path:
    """Where the system-wide config lives."""
    return Path(env.get("OCHAMI_SYSTEM_CONFIG") or "/etc/ochami/config.yaml")


def user_config_path(env: Mapping[str, str]) -> Path:
    """Where the user's config lives (XDG rules)."""
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "ochami" / "config.yaml"


def read_file(path: Path) -> dict[str, Any]:
    """Load one config file; a missing file is an empty config, a broken one an error naming it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping, not {type(data).__name__}")
    _check_shape(data, path)
    return data


def _check_shape(data: dict[str, Any], path: Path) -> None:
    clusters = data.get("clusters", [])
    if clusters is None:
        return
    if not isinstance(clusters, list):
        raise ConfigError(f"config file {path}: 'clusters' must be a list")
    for i, entry in enumerate(clusters):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"config file {path}: clusters[{i}] needs a 'name'")
        if not isinstance(entry.get("cluster", {}), dict):
            raise ConfigError(f"config file {path}: clusters[{i}].cluster must be a mapping")


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def merge(system: Mapping[str, Any], user: Mapping[str, Any]) -> dict[str, Any]:
    """Merge two configs: user keys win; clusters are merged by name (user settings win per key)."""
    top_s = {k: v for k, v in system.items() if k != "clusters"}
    top_u = {k: v for k, v in user.items() if k != "clusters"}
    merged = _deep_merge(top_s, top_u)
    clusters: list[dict[str, Any]] = [copy.deepcopy(c) for c in system.get("clusters") or []]
    for entry in user.get("clusters") or []:
        for i, existing in enumerate(clusters):
            if existing.get("name") == entry.get("name"):
                clusters[i] = _deep_merge(existing, entry)
                break
        else:
            clusters.append(copy.deepcopy(entry))
    if clusters:
        merged["clusters"] = clusters
    return merged


@dataclass(frozen=True)
class Cluster:
    """One cluster's connection settings."""

    name: str
    uri: str | None
    services: Mapping[str, str]
    enable_auth: bool = True


def find_cluster(config: Mapping[str, Any], name: str) -> Cluster | None:
    """The named cluster of a (merged) config, or None."""
    for entry in config.get("clusters") or []:
        if entry.get("name") == name:
            body = entry.get("cluster") or {}
            services = {
                svc: str(body[svc]["uri"])
                for svc in SERVICES
                if isinstance(body.get(svc), dict) and body[svc].get("uri")
            }
            auth = body.get("enable-auth", True)
            return Cluster(
                name=name,
                uri=str(body["uri"]) if body.get("uri") else None,
                services=services,
                enable_auth=auth if isinstance(auth, bool) else str(auth).lower() != "false",
            )
    return None


def get_key(config: Mapping[str, Any], dotted: str) -> Any:
    """Value at a dotted key (``log.level``, ``clusters``); KeyError naming the key when absent."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(dotted)
        node = node[part]
    return node


def _parse_value(key: str, value: str) -> Any:
    if key.endswith("enable-auth"):
        low = value.lower()
        if low not in ("true", "false"):
            raise BadRequest(f"{key} must be true or false, not {value!r}")
        return low == "true"
    if key == "log.format" and value not in LOG_FORMATS:
        raise BadRequest(f"log.format must be one of {', '.join(LOG_FORMATS)}, not {value!r}")
    if key == "log.level" and value not in LOG_LEVELS:
        raise BadRequest(f"log.level must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return value


def set_key(data: dict[str, Any], dotted: str, value: str) -> None:
    """Set a global key (``default-cluster``, ``log.format``, ``log.level``) in one file's data."""
    if dotted not in GLOBAL_KEYS:
        raise BadRequest(f"unknown config key {dotted!r}: expected one of {', '.join(GLOBAL_KEYS)}")
    _set_path(data, dotted.split("."), _parse_value(dotted, value))


def unset_key(data: dict[str, Any], dotted: str) -> None:
    """Remove a global key from one file's data."""
    if dotted not in GLOBAL_KEYS:
        raise BadRequest(f"unknown config key {dotted!r}: expected one of {', '.join(GLOBAL_KEYS)}")
    if not _unset_path(data, dotted.split(".")):
        raise BadRequest(f"key {dotted!r} is not set")


def _set_path(node: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _unset_path(node: dict[str, Any], parts: list[str]) -> bool:
    if len(parts) == 1:
        return node.pop(parts[0], None) is not None
    child = node.get(parts[0])
    if not isinstance(child, dict):
        return False
    found = _unset_path(child, parts[1:])
    if found and not child:
        del node[parts[0]]
    return found


def _cluster_entry(data: dict[str, Any], name: str, create: bool) -> dict[str, Any] | None:
    clusters = data.get("clusters")
    if not isinstance(clusters, list):
        clusters = []
        if create:
            data["clusters"] = clusters
    for entry in clusters:
        if entry.get("name") == name:
            return entry  # type: ignore[no-any-return]
    if not create:
        return None
    entry = {"name": name, "cluster": {}}
    clusters.append(entry)
    return entry


def _check_cluster_key(key: str) -> None:
    if key not in CLUSTER_KEYS:
        raise BadRequest(f"unknown cluster key {key!r}: expected one of {', '.join(CLUSTER_KEYS)}")


def cluster_set(data: dict[str, Any], name: str, key: str, value: str) -> None:
    """Set a cluster key (creating the cluster); ``name`` renames it."""
    _check_cluster_key(key)
    entry = _cluster_entry(data, name, create=True)
    assert entry is not None
    if key == "name":
        if _cluster_entry(data, value, create=False) is not None and value != name:
            raise BadRequest(f"cluster {value!r} already exists")
        entry["name"] = value
        if data.get("default-cluster") == name:
            data["default-cluster"] = value
        return
    _set_path(entry, key.split("."), _parse_value(key, value))


def cluster_unset(data: dict[str, Any], name: str, key: str) -> None:
    """Remove a key from a cluster."""
    _check_cluster_key(key)
    if key == "name":
        raise BadRequest("a cluster's name cannot be unset (delete the cluster instead)")
    entry = _cluster_entry(data, name, create=False)
    if entry is None:
        raise BadRequest(f"cluster {name!r} not found")
    if not _unset_path(entry, key.split(".")):
        raise BadRequest(f"key {key!r} is not set for cluster {name!r}")


def cluster_delete(data: dict[str, Any], name: str) -> None:
    """Remove a cluster (and the default pointing at it)."""
    clusters = data.get("clusters") or []
    kept = [c for c in clusters if c.get("name") != name]
    if len(kept) == len(clusters):
        raise BadRequest(f"cluster {name!r} not found")
    data["clusters"] = kept
    if not kept:
        del data["clusters"]
    if data.get("default-cluster") == name:
        del data["default-cluster"]


def write_file(path: Path, data: Mapping[str, Any]) -> None:
    """Write one config file atomically, creating its directory."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(yaml.safe_dump(dict(data), sort_keys=False, default_flow_style=False))
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from exc
