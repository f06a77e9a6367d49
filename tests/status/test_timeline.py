"""The boot timeline fold: stages of the latest boot, restarts, stalls (pure, no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pychami.core.events import BootEvent
from pychami.core.timeline import STAGE_NAMES, latest_boot, summarize

T0 = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)


def ev(second: float, stage: str, client: str | None = None, **detail: Any) -> BootEvent:
    info = {**({"client": client} if client else {}), **detail}
    return BootEvent(
        ts=T0 + dt.timedelta(seconds=second),
        stage=stage,
        source="test",
        xname="x1000c0s0b0n0",
        mac="52:54:00:be:ef:01",
        ip="172.16.0.1",
        detail=info or None,
    )


def uefi_boot(start: float = 0) -> list[BootEvent]:
    """What a UEFI node's full diskless boot records, in order."""
    return [
        ev(start + 0.0, "dhcp_discover", "firmware"),
        ev(start + 0.1, "dhcp_offer", "firmware"),
        ev(start + 0.2, "dhcp_request", "firmware"),
        ev(start + 0.3, "dhcp_ack", "firmware", file="snponly.efi"),
        ev(start + 0.5, "tftp_start", file="snponly.efi"),
        ev(start + 1.0, "tftp_done", file="snponly.efi", bytes=173792),
        ev(start + 3.0, "dhcp_discover", "ipxe"),
        ev(start + 3.2, "dhcp_ack", "ipxe"),
        ev(start + 3.5, "bootscript", retry=0),
        ev(start + 4.0, "kernel", key="efi-images/vmlinuz"),
        ev(start + 5.0, "initrd", key="efi-images/initramfs.img"),
        ev(start + 6.0, "dhcp_discover", "os"),
        ev(start + 6.1, "dhcp_ack", "os"),
        ev(start + 9.0, "root image", key="compute/debug/img"),
        ev(start + 40.0, "cloud-init meta-data"),
        ev(start + 60.0, "cloud-init done"),
    ]


def test_full_boot_reaches_every_stage_in_order() -> None:
    """A complete UEFI boot reaches all ten stages, each at its first marking event, and is complete."""
    tl = summarize("x1000c0s0b0n0", uefi_boot())
    assert [s.name for s in tl.stages] == list(STAGE_NAMES)
    assert all(s.event is not None for s in tl.stages)
    assert tl.last_stage == "phone-home" and tl.complete
    doc = tl.to_json()
    secs = {s["stage"]: s["seconds"] for s in doc["stages"]}
    assert secs["DHCP (firmware)"] == 0.3 and secs["TFTP"] == 1.0 and secs["phone-home"] == 60.0
    assert doc["boot_started"] == "2026-12-06T12:00:00.000Z"
    assert len(doc["events"]) == 16


def test_ipxe_rom_boot_skips_firmware_stages() -> None:
    """A NIC whose ROM is iPXE has no firmware DHCP nor TFTP: those stages stay unreached."""
    events = [
        e for e in uefi_boot() if (e.detail or {}).get("client") != "firmware" and "tftp" not in e.stage
    ]
    tl = summarize("n", events)
    reached = {s.name for s in tl.stages if s.event}
    assert "DHCP (firmware)" not in reached and "TFTP" not in reached
    assert tl.complete


def test_stalled_node_shows_last_stage() -> None:
    """A node that fetched its kernel and initrd but never its root image stalls at initrd."""
    tl = summarize("n", uefi_boot()[:11])
    assert tl.last_stage == "initrd"
    assert not tl.complete
    assert tl.to_json()["stages"][7] == {
        "stage": "root image",
        "reached": False,
        "time": None,
        "seconds": None,
        "ip": None,
        "detail": None,
    }


def test_reboot_starts_a_new_boot() -> None:
    """After a complete boot, a new firmware DHCP starts a new boot; stages count only from there."""
    events = uefi_boot() + uefi_boot(start=100)[:9]
    tl = summarize("n", events)
    assert tl.last_stage == "boot script"
    assert not tl.complete
    assert tl.started == T0 + dt.timedelta(seconds=100)
    assert len(tl.events) == 25 and len(tl.boot) == 9


def test_ipxe_dhcp_after_boot_script_is_a_new_boot() -> None:
    """With an iPXE ROM, an iPXE DHCP once the node had its boot script means the node was reset."""
    first = [ev(0, "dhcp_ack", "ipxe"), ev(1, "bootscript"), ev(2, "kernel")]
    second = [ev(50, "dhcp_discover", "ipxe"), ev(50.2, "dhcp_ack", "ipxe")]
    assert latest_boot(first + second) == second
    # ... but the booted OS's DHCP and repeated firmware requests belong to the same boot.
    same = [*first, ev(5, "dhcp_ack", "os"), ev(6, "cloud-init meta-data")]
    assert latest_boot(same) == same
    firmware = [
        ev(0, "dhcp_discover", "firmware"),
        ev(0.3, "dhcp_ack", "firmware"),
        ev(1, "dhcp_request", "firmware"),
    ]
    assert latest_boot(firmware) == firmware


def test_order_of_input_does_not_matter() -> None:
    """Events may arrive from several processes in any order; the fold sorts them by time."""
    events = uefi_boot()
    assert summarize("n", list(reversed(events))).to_json() == summarize("n", events).to_json()


def test_no_stage_events() -> None:
    """Only offers and transfer starts: no boot started, no last stage."""
    tl = summarize("n", [ev(0, "dhcp_offer", "firmware"), ev(1, "tftp_start")])
    assert tl.last_stage is None and tl.started is not None
    empty = summarize("n", [])
    assert empty.started is None and empty.to_json()["boot_started"] is None


def test_status_table_of_a_node_with_no_stage_yet() -> None:
    """`pychami status` of a node that only got an offer says no stage was reached, every stage ahead."""
    from pychami.cli.status import render_node

    tl = summarize("n", [ev(0, "dhcp_offer", "firmware")])
    last = render_node(tl, T0 + dt.timedelta(seconds=5)).splitlines()[-1]
    ahead = ", ".join(STAGE_NAMES)
    assert last == f"last stage: none; last event dhcp_offer 5s ago; not reached since: {ahead}"
