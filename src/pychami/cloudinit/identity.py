"""Which address a node-facing request comes from: the peer, or ``X-Forwarded-For`` from a trusted proxy.

Upstream believes the first ``X-Forwarded-For`` entry from anyone, so any host can read any node's
meta-data by sending the header. Here the header counts only when the TCP peer is inside a configured
trusted-proxy network; the entries are then read from the right, skipping trusted proxies, and the first
untrusted one is the client (the leftmost when all are trusted).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from pychami.cloudinit.settings import IPNetwork

_CACHE_LIMIT = 65536


def normalise_ip(text: str) -> str | None:
    """The canonical text of an address (IPv4-mapped IPv6 shown as IPv4); None when it is not one."""
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


class ClientAddressResolver:
    """Applies the trusted-proxy rule; caches per-peer trust decisions (peers are few and repeat)."""

    def __init__(self, trusted_proxies: Sequence[IPNetwork]) -> None:
        self._nets = tuple(trusted_proxies)
        self._trusted: dict[str, bool] = {}
        self._normal: dict[str, str | None] = {}

    def _normalise(self, text: str) -> str | None:
        # Parsing addresses is the costliest step of a cached request; peers repeat, so remember them.
        known = self._normal.get(text, "")
        if known != "":
            return known
        value = normalise_ip(text)
        if len(self._normal) >= _CACHE_LIMIT:
            self._normal.clear()
        self._normal[text] = value
        return value

    def is_trusted(self, ip: str) -> bool:
        known = self._trusted.get(ip)
        if known is not None:
            return known
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            trusted = False
        else:
            trusted = any(addr.version == net.version and addr in net for net in self._nets)
        if len(self._trusted) >= _CACHE_LIMIT:
            self._trusted.clear()
        self._trusted[ip] = trusted
        return trusted

    def client_ip(self, peer: str | None, forwarded_for: str | None) -> str | None:
        """The node's address, or None when it cannot be told (no peer, malformed header)."""
        if peer is None:
            return None
        peer_ip = self._normalise(peer)
        if peer_ip is None:
            return None
        if not forwarded_for or not self._nets or not self.is_trusted(peer_ip):
            return peer_ip
        hops = [h for h in (p.strip() for p in forwarded_for.split(",")) if h]
        if not hops:
            return peer_ip
        chosen: str | None = None
        for hop in reversed(hops):
            ip = self._normalise(hop)
            if ip is None:
                return None
            chosen = ip
            if not self.is_trusted(ip):
                return ip
        return chosen
