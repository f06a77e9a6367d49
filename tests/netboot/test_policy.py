"""DHCP policy: addresses from the inventory, PXE/iPXE boot files, request states, unknown MACs, conflicts."""

from __future__ import annotations

import pytest

from pychami.netboot.dhcp import codec
from pychami.netboot.dhcp.codec import MessageType
from pychami.netboot.dhcp.policy import MemoryLeases, Policy
from tests.netboot.conftest import (
    ARCH_ARM64,
    ARCH_BIOS,
    ARCH_EFI64,
    BOOT_URL,
    IPXE_USER_CLASS,
    KNOWN_IP,
    KNOWN_MAC,
    PXE_VENDOR,
    SERVER,
    ip,
    node,
    request,
    settings,
    snapshot,
)

INVENTORY = snapshot(node(1, KNOWN_MAC, KNOWN_IP), node(2, "52:54:00:00:00:02", "198.18.0.12"))


def policy(**overrides: object) -> Policy:
    return Policy(settings(**overrides), boot_url=BOOT_URL)


def test_known_mac_gets_its_address_and_options() -> None:
    """A DISCOVER from a known MAC is offered its SMD address, hostname nid001, router, DNS, domain, lease."""
    out = policy().handle(request(MessageType.DISCOVER), INVENTORY)
    reply = out.reply
    assert reply is not None
    assert reply.message_type is MessageType.OFFER
    assert reply.yiaddr == KNOWN_IP
    assert reply.siaddr == SERVER
    assert reply.get(codec.OPT_HOSTNAME) == b"nid001"
    assert reply.get(codec.OPT_SUBNET_MASK) == ip("255.255.0.0")
    assert reply.get(codec.OPT_ROUTER) == ip(SERVER)
    assert reply.get(codec.OPT_DNS) == ip(SERVER)
    assert reply.get(codec.OPT_DOMAIN) == b"cluster"
    assert reply.get(codec.OPT_SERVER_ID) == ip(SERVER)
    assert codec.u32(reply.get(codec.OPT_LEASE_TIME) or b"") == 3600
    assert codec.u32(reply.get(codec.OPT_RENEWAL) or b"") == 1800
    assert codec.u32(reply.get(codec.OPT_REBINDING) or b"") == 3150
    assert reply.get(codec.OPT_ROOT_PATH) == SERVER.encode()
    assert reply.get(codec.OPT_BOOTFILE) is None
    assert out.node is not None
    assert out.node.xname == "x3000c0s1b0n0"


def test_hostname_rule_configurable() -> None:
    """The hostname rule is a format string (upstream's nid%04d style here)."""
    out = policy(hostname="nid{nid:04d}").handle(request(MessageType.DISCOVER), INVENTORY)
    assert out.reply is not None
    assert out.reply.get(codec.OPT_HOSTNAME) == b"nid0001"


@pytest.mark.parametrize(
    ("arch", "names", "expected"),
    [
        (ARCH_BIOS, "debian", b"undionly.kpxe"),
        (ARCH_EFI64, "debian", b"ipxe.efi"),
        (ARCH_EFI64, "upstream", b"ipxe-x86_64.efi"),
        (ARCH_ARM64, "debian", b"ipxe-arm64.efi"),
    ],
)
def test_pxe_boot_file_by_arch(arch: tuple[int, bytes], names: str, expected: bytes) -> None:
    """Firmware PXE gets the iPXE binary for its option-93 architecture, in file and option 67."""
    out = policy(boot_file_names=names).handle(
        request(MessageType.DISCOVER, options=[PXE_VENDOR, arch]), INVENTORY
    )
    assert out.client == "firmware"
    assert out.reply is not None
    assert out.reply.get(codec.OPT_BOOTFILE) == expected
    assert out.reply.file == expected
    assert out.reply.get(codec.OPT_VENDOR_CLASS) == b"PXEClient"
    assert out.reply.get(codec.OPT_IPXE) is None


def test_boot_file_override() -> None:
    """boot_files can rename one architecture's file (e.g. snponly.efi for x86-64 UEFI)."""
    pol = policy(boot_files={"efi-x86_64": "snponly.efi"})
    out = pol.handle(request(MessageType.DISCOVER, options=[ARCH_EFI64]), INVENTORY)
    assert out.reply is not None
    assert out.reply.get(codec.OPT_BOOTFILE) == b"snponly.efi"


def test_ipxe_gets_bootscript_url_and_175() -> None:
    """iPXE (user class) gets BSS's boot-script URL for its MAC and option 175.176=1."""
    out = policy().handle(request(MessageType.DISCOVER, options=[IPXE_USER_CLASS, ARCH_BIOS]), INVENTORY)
    assert out.client == "ipxe"
    assert out.reply is not None
    assert out.reply.get(codec.OPT_BOOTFILE) == f"{BOOT_URL}/boot/v1/bootscript?mac={KNOWN_MAC}".encode()
    assert out.reply.get(codec.OPT_IPXE) == bytes((176, 1, 1))


def test_same_address_for_firmware_ipxe_and_os_despite_client_id() -> None:
    """Clients are identified by chaddr: a different client-id (61) does not change the address."""
    pol = policy()
    for extra in ([ARCH_BIOS, (61, b"\x01abc")], [IPXE_USER_CLASS], [(61, b"\xffxyz")]):
        out = pol.handle(request(MessageType.DISCOVER, options=extra), INVENTORY)
        assert out.reply is not None
        assert out.reply.yiaddr == KNOWN_IP


def test_request_states() -> None:
    """SELECTING for us -> ACK, for another server -> silence, wrong INIT-REBOOT -> NAK, RENEW -> ACK."""
    pol = policy()
    sel = pol.handle(request(MessageType.REQUEST, options=[(50, ip(KNOWN_IP)), (54, ip(SERVER))]), INVENTORY)
    assert sel.reply is not None
    assert sel.reply.message_type is MessageType.ACK
    other = pol.handle(
        request(MessageType.REQUEST, options=[(50, ip(KNOWN_IP)), (54, ip("198.18.0.9"))]), INVENTORY
    )
    assert other.reply is None
    wrong = pol.handle(request(MessageType.REQUEST, options=[(50, ip("198.18.0.99"))]), INVENTORY)
    assert wrong.reply is not None
    assert wrong.reply.message_type is MessageType.NAK
    assert wrong.reply.yiaddr == "0.0.0.0"
    renew = pol.handle(request(MessageType.REQUEST, ciaddr=KNOWN_IP), INVENTORY)
    assert renew.reply is not None
    assert renew.reply.message_type is MessageType.ACK
    assert renew.reply.ciaddr == KNOWN_IP
    stale = pol.handle(request(MessageType.REQUEST, ciaddr="198.18.0.77"), INVENTORY)
    assert stale.reply is not None
    assert stale.reply.message_type is MessageType.NAK


def test_inform_release_decline() -> None:
    """INFORM gets options without address or lease; RELEASE is silent; DECLINE is logged as a conflict."""
    pol = policy()
    inform = pol.handle(request(MessageType.INFORM, ciaddr=KNOWN_IP), INVENTORY)
    assert inform.reply is not None
    assert inform.reply.yiaddr == "0.0.0.0"
    assert inform.reply.get(codec.OPT_LEASE_TIME) is None
    assert inform.reply.get(codec.OPT_SUBNET_MASK) is not None
    assert pol.handle(request(MessageType.RELEASE, ciaddr=KNOWN_IP), INVENTORY).reply is None
    decline = pol.handle(request(MessageType.DECLINE, options=[(50, ip(KNOWN_IP))]), INVENTORY)
    assert decline.reply is None
    assert decline.conflict


def test_unknown_mac_ignored() -> None:
    """Under the default policy an unknown MAC gets no answer at all."""
    out = policy().handle(request(MessageType.DISCOVER, "52:54:00:99:99:99"), INVENTORY)
    assert out.reply is None
    assert "unknown" in out.reason


def test_conflicts_refused() -> None:
    """One IP on two MACs, or an IP outside every served subnet, is never handed out."""
    dup = snapshot(node(1, KNOWN_MAC, KNOWN_IP), node(2, "52:54:00:00:00:02", KNOWN_IP))
    out = policy().handle(request(MessageType.DISCOVER), dup)
    assert out.reply is None
    assert out.conflict
    assert "several MACs" in out.reason
    outside = snapshot(node(1, KNOWN_MAC, "192.0.2.5"))
    out = policy().handle(request(MessageType.DISCOVER), outside)
    assert out.reply is None
    assert out.conflict
    assert "outside every served subnet" in out.reason
    reserved = snapshot(node(1, KNOWN_MAC, SERVER))
    assert policy().handle(request(MessageType.DISCOVER), reserved).conflict


def test_relay_picks_subnet_and_echoes_option_82() -> None:
    """A relayed request is answered on the giaddr's subnet, router = giaddr, option 82 echoed last."""
    inv = snapshot(node(1, KNOWN_MAC, KNOWN_IP, "10.77.0.21"))
    agent = codec.encode_suboptions([(1, b"port7"), (2, b"leaf1")])
    req = request(MessageType.DISCOVER, giaddr="10.77.0.1", options=[(82, agent)])
    out = policy().handle(req, inv)
    assert out.reply is not None
    assert out.reply.yiaddr == "10.77.0.21"
    assert out.reply.giaddr == "10.77.0.1"
    assert out.reply.get(codec.OPT_ROUTER) == ip("10.77.0.1")
    assert out.reply.get(codec.OPT_SUBNET_MASK) == ip("255.255.255.0")
    assert out.reply.options[-1] == (82, agent)
    stray = request(MessageType.DISCOVER, giaddr="203.0.113.1")
    assert policy().handle(stray, inv).reply is None


def test_bootloop_flow() -> None:
    """Unknown MAC under bootloop: short lease from the pool, iPXE gets the reboot script, the next
    firmware DISCOVER is NAKed and the lease freed."""
    now = [1000.0]
    leases = MemoryLeases("198.18.1.10", "198.18.1.11")
    pol = Policy(
        settings(unknown="bootloop", bootloop={"pool_start": "198.18.1.10", "pool_end": "198.18.1.11"}),
        boot_url=BOOT_URL,
        leases=leases,
        clock=lambda: now[0],
    )
    mac = "52:54:00:77:00:01"
    offer = pol.handle(request(MessageType.DISCOVER, mac, options=[PXE_VENDOR, ARCH_EFI64]), INVENTORY).reply
    assert offer is not None
    assert offer.yiaddr == "198.18.1.10"
    assert codec.u32(offer.get(codec.OPT_LEASE_TIME) or b"") == 300
    assert offer.get(codec.OPT_BOOTFILE) == b"ipxe.efi"
    ack = pol.handle(
        request(
            MessageType.REQUEST,
            mac,
            options=[PXE_VENDOR, ARCH_EFI64, (50, ip("198.18.1.10")), (54, ip(SERVER))],
        ),
        INVENTORY,
    ).reply
    assert ack is not None
    assert ack.message_type is MessageType.ACK
    ipxe = pol.handle(request(MessageType.DISCOVER, mac, options=[IPXE_USER_CLASS]), INVENTORY).reply
    assert ipxe is not None
    assert ipxe.yiaddr == "198.18.1.10"
    assert ipxe.get(codec.OPT_BOOTFILE) == b"default"
    nak = pol.handle(request(MessageType.DISCOVER, mac, options=[PXE_VENDOR, ARCH_EFI64]), INVENTORY).reply
    assert nak is not None
    assert nak.message_type is MessageType.NAK
    assert leases.lookup(mac) is None
    # pool of two: a third MAC is refused while two leases are live, served again once one expires
    pol.handle(request(MessageType.DISCOVER, "52:54:00:77:00:02"), INVENTORY)
    pol.handle(request(MessageType.DISCOVER, "52:54:00:77:00:03"), INVENTORY)
    full = pol.handle(request(MessageType.DISCOVER, "52:54:00:77:00:04"), INVENTORY)
    assert full.reply is None
    assert "exhausted" in full.reason
    now[0] += 301
    again = pol.handle(request(MessageType.DISCOVER, "52:54:00:77:00:04"), INVENTORY).reply
    assert again is not None
    assert again.yiaddr == "198.18.1.10"


def test_known_mac_wins_over_bootloop() -> None:
    """A MAC that SMD knows is served from SMD even when bootloop is on."""
    pol = Policy(
        settings(unknown="bootloop", bootloop={"pool_start": "198.18.1.10", "pool_end": "198.18.1.11"}),
        boot_url=BOOT_URL,
        leases=MemoryLeases("198.18.1.10", "198.18.1.11"),
    )
    out = pol.handle(request(MessageType.DISCOVER), INVENTORY)
    assert out.reply is not None
    assert out.reply.yiaddr == KNOWN_IP


def test_settings_errors_name_the_key() -> None:
    """Bad netboot settings raise a ConfigError naming netboot.<key>."""
    from pychami.core.errors import ConfigError
    from pychami.netboot.settings import parse_netboot_settings

    with pytest.raises(ConfigError, match=r"netboot\.router"):
        parse_netboot_settings({"router": "nope"})
    with pytest.raises(ConfigError, match="server_ip is required"):
        parse_netboot_settings({"interfaces": ["eth0"], "subnets": ["10.0.0.0/24"]})
    with pytest.raises(ConfigError, match="pool_start"):
        parse_netboot_settings({"unknown": "bootloop"})
    with pytest.raises(ConfigError, match=r"netboot\.boot_files"):
        parse_netboot_settings({"boot_files": {"sparc": "x"}})
