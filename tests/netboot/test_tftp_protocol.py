"""TFTP packet codec and option negotiation (RFC 1350, 2347-2349, 7440)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pychami.netboot.tftp import protocol as tp
from pychami.netboot.tftp.protocol import TftpCodecError

# A hand-written RRQ in the shape UEFI firmware sends (octet, tsize 0, blksize 1468); not a capture.
OVMF_RRQ = bytes.fromhex(
    "0001736e706f6e6c792e656669006f63746574007473697a65003000626c6b73697a650031343638 00".replace(" ", "")
)


def test_ovmf_request_decodes() -> None:
    """The OVMF-style request yields the file, mode and both options, lower-cased."""
    pkt = tp.decode(OVMF_RRQ)
    assert pkt == tp.Request(tp.RRQ, "snponly.efi", "octet", {"tsize": "0", "blksize": "1468"})
    assert tp.encode(pkt) == OVMF_RRQ


@pytest.mark.parametrize(
    "packet",
    [
        tp.Request(tp.RRQ, "undionly.kpxe", "octet", {}),
        tp.Request(tp.WRQ, "x", "netascii", {"windowsize": "8"}),
        tp.Data(1, b"hello"),
        tp.Data(65535, b""),
        tp.Ack(0),
        tp.Error(1, "File not found"),
        tp.OptionAck({"blksize": "1468", "tsize": "1024"}),
    ],
)
def test_round_trip(packet: tp.Packet) -> None:
    """Every packet type encodes and decodes back to itself."""
    assert tp.decode(tp.encode(packet)) == packet


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00", b"\x00\x09xx", b"\x00\x01file\x00", b"\x00\x01file\x00octet", b"\x00\x04\x00",
     b"\x00\x05\x00\x01msg", b"\x00\x01\xff\x00octet\x00", b"\x00\x01file\x00octet\x00blksize\x00"],
)  # fmt: skip
def test_malformed(raw: bytes) -> None:
    """Truncated, unterminated, non-ASCII and unknown-opcode datagrams raise TftpCodecError."""
    with pytest.raises(TftpCodecError):
        tp.decode(raw)


def test_negotiate_clamps_and_ignores() -> None:
    """blksize is clamped to our maximum, bad values are ignored, tsize reports the real size."""
    neg = tp.negotiate({"blksize": "100000", "tsize": "0", "timeout": "0", "windowsize": "1000", "x": "1"},
                       4242, max_blksize=1468, max_window=16)  # fmt: skip
    assert neg.blksize == 1468
    assert neg.windowsize == 16
    assert neg.acked == {"blksize": "1468", "tsize": "4242", "windowsize": "16"}
    assert tp.negotiate({"blksize": "4"}, 1).acked == {}


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=600))
def test_fuzz(raw: bytes) -> None:
    """Arbitrary datagrams decode or raise TftpCodecError, never anything else."""
    with contextlib.suppress(TftpCodecError):
        tp.decode(raw)
