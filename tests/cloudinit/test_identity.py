"""The trusted-proxy rule for X-Forwarded-For."""

from __future__ import annotations

import ipaddress

from pychami.cloudinit.identity import ClientAddressResolver, normalise_ip

NETS = [ipaddress.ip_network("10.0.0.0/30"), ipaddress.ip_network("fd00::/64")]


def test_forwarded_for_ignored_without_trusted_proxies() -> None:
    """With no trusted proxies configured, the TCP peer is the node whatever the header says."""
    r = ClientAddressResolver([])
    assert r.client_ip("172.16.0.9", "172.16.0.1") == "172.16.0.9"


def test_forwarded_for_ignored_from_untrusted_peer() -> None:
    """A peer outside the trusted networks cannot claim another node's address."""
    r = ClientAddressResolver(NETS)
    assert r.client_ip("10.0.0.9", "172.16.0.1") == "10.0.0.9"


def test_forwarded_for_from_trusted_proxy() -> None:
    """From a trusted proxy the rightmost untrusted hop is the node; trusted hops are skipped."""
    r = ClientAddressResolver(NETS)
    assert r.client_ip("10.0.0.1", "172.16.0.1") == "172.16.0.1"
    assert r.client_ip("10.0.0.1", "6.6.6.6, 172.16.0.1, 10.0.0.2") == "172.16.0.1"
    assert r.client_ip("10.0.0.1", "10.0.0.2, 10.0.0.3") == "10.0.0.2"
    assert r.client_ip("fd00::1", " 172.16.0.3 ") == "172.16.0.3"
    assert r.client_ip("10.0.0.1", "") == "10.0.0.1"
    assert r.client_ip("10.0.0.1", " , ") == "10.0.0.1"


def test_malformed_forwarded_for_from_trusted_proxy_identifies_nobody() -> None:
    """Garbage in the header from a trusted proxy gives no address (the request is refused)."""
    r = ClientAddressResolver(NETS)
    assert r.client_ip("10.0.0.1", "not-an-ip") is None
    assert r.client_ip(None, None) is None
    assert r.client_ip("garbage", None) is None


def test_address_normalisation() -> None:
    """IPv4-mapped IPv6 peers are seen as IPv4; brackets are accepted."""
    assert normalise_ip("::ffff:172.16.0.1") == "172.16.0.1"
    assert normalise_ip("[fd00::1]") == "fd00::1"
    assert normalise_ip("x") is None
