"""magellan's local SQLite cache: the scanned assets (upstream's table) and the last collected inventory.

``magellan_scanned_assets`` has upstream's exact columns so a cache written by either tool reads in the
other. ``magellan_inventory`` is ours: ``collect`` stores each BMC's payload there so ``power`` can find a
node's BMC and system without an inventory file.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS magellan_scanned_assets (
  host TEXT NOT NULL,
  port INTEGER NOT NULL,
  protocol TEXT,
  state INTEGER,
  timestamp TIMESTAMP,
  PRIMARY KEY (host, port)
);
CREATE TABLE IF NOT EXISTS magellan_inventory (
  id TEXT PRIMARY KEY,
  payload TEXT NOT NULL,
  timestamp TIMESTAMP
);
"""


def default_cache_path() -> Path:
    """Upstream's default: ``/tmp/$USER/magellan/assets.db``."""
    user = os.environ.get("USER") or getpass.getuser()
    return Path(tempfile.gettempdir()) / user / "magellan" / "assets.db"


@dataclass(frozen=True)
class Asset:
    """A host:port that answered (a BMC once probing confirmed Redfish)."""

    host: str  # scheme://address, as upstream
    port: int
    protocol: str = "tcp"
    state: bool = True
    timestamp: str = ""

    @property
    def address(self) -> str:
        """The host without its scheme."""
        return self.host.split("://", 1)[-1]

    @property
    def scheme(self) -> str:
        """``https`` unless the host says otherwise."""
        return self.host.split("://", 1)[0] if "://" in self.host else "https"

    @property
    def base_url(self) -> str:
        """``scheme://address:port``."""
        return f"{self.scheme}://{self.address}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (upstream's ``RemoteAsset``)."""
        return {
            "host": self.host,
            "port": self.port,
            "protocol": self.protocol,
            "state": self.state,
            "timestamp": self.timestamp,
        }


def now() -> str:
    """Timestamp in RFC 3339, UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Cache:
    """The cache file at ``path`` (created with its directory on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path)
        try:
            conn.executescript(SCHEMA)
            with conn:
                yield conn
        finally:
            conn.close()

    def save_assets(self, assets: Iterable[Asset]) -> int:
        """Insert or refresh assets; returns how many."""
        rows = [(a.host, a.port, a.protocol, int(a.state), a.timestamp or now()) for a in assets]
        with self._connect() as conn:
            conn.executemany(
                "INSERT INTO magellan_scanned_assets(host, port, protocol, state, timestamp) "
                "VALUES (?,?,?,?,?) "
                "ON CONFLICT(host, port) DO UPDATE SET protocol=excluded.protocol, state=excluded.state, "
                "timestamp=excluded.timestamp",
                rows,
            )
        return len(rows)

    def assets(self) -> list[Asset]:
        """Every cached asset, ordered by address then port."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT host, port, protocol, state, timestamp FROM magellan_scanned_assets"
            ).fetchall()
        assets = [Asset(str(h), int(p), str(pr or "tcp"), bool(s), str(ts or "")) for h, p, pr, s, ts in rows]
        return sorted(assets, key=lambda a: (_sort_key(a.address), a.port))

    def delete_assets(self, hosts: Iterable[str] | None = None) -> int:
        """Delete the given hosts (``scheme://addr`` or bare address), or every asset."""
        with self._connect() as conn:
            if hosts is None:
                return conn.execute("DELETE FROM magellan_scanned_assets").rowcount
            count = 0
            for host in hosts:
                count += conn.execute(
                    "DELETE FROM magellan_scanned_assets WHERE host = ? OR host LIKE ?", (host, f"%://{host}")
                ).rowcount
            return count

    def save_inventory(self, payloads: Iterable[dict[str, Any]]) -> None:
        """Remember collected RedfishEndpoint payloads by BMC ID."""
        stamp = now()
        rows = [(str(p["ID"]), json.dumps(p, sort_keys=True), stamp) for p in payloads]
        with self._connect() as conn:
            conn.executemany(
                "INSERT INTO magellan_inventory(id, payload, timestamp) VALUES (?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET payload=excluded.payload, timestamp=excluded.timestamp",
                rows,
            )

    def inventory(self) -> list[dict[str, Any]]:
        """The collected payloads, by BMC ID."""
        if not self.path.exists():
            return []
        with self._connect() as conn:
            rows = conn.execute("SELECT payload FROM magellan_inventory ORDER BY id").fetchall()
        return [json.loads(r[0]) for r in rows]


def _sort_key(address: str) -> tuple[int, str, tuple[int, ...]]:
    parts = address.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return (0, "", tuple(int(p) for p in parts))
    return (1, address, ())
