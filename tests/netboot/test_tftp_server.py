"""TFTP daemon against curl, tftp-hpa, atftp and a scripted client (loss, OVMF abort, traversal)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from pychami.netboot.events import ListEvents
from pychami.netboot.tftp.server import CONFIG_IPXE, DEFAULT_SCRIPT, TftpServer
from tests.netboot.tftp_client import TftpFailed, fetch

HOST = "127.0.0.1"


@dataclass
class Served:
    server: TftpServer
    events: ListEvents
    root: Path
    files: dict[str, bytes]

    @property
    def port(self) -> int:
        return self.server.bound_port


@pytest.fixture(scope="module")
def tftp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("tftproot")
    files = {
        "kernel.bin": os.urandom(3 * 1024 * 1024 + 123),
        "exact.bin": os.urandom(512 * 40),  # a multiple of the block size: ends with an empty DATA
        "sub/dir/small.txt": b"hello\n",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    outside = tmp_path_factory.mktemp("outside") / "secret"
    outside.write_bytes(b"secret")
    (root / "escape").symlink_to(outside)
    events = ListEvents()
    server = TftpServer(root, events, host=HOST, port=0, timeout=0.3, retries=5)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield Served(server, events, root, files)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


@pytest.mark.parametrize("extra", [[], ["--tftp-blksize", "1468"], ["--tftp-blksize", "65464"]])
def test_curl_byte_identical(tftp: Served, tmp_path: Path, extra: list[str]) -> None:
    """curl downloads byte-identical files with the default and negotiated block sizes."""
    for name in ("kernel.bin", "exact.bin", "sub/dir/small.txt"):
        out = tmp_path / "out"
        result = run("curl", "-sS", *extra, "-o", str(out), f"tftp://{HOST}:{tftp.port}/{name}")
        assert result.returncode == 0, result.stderr
        assert out.read_bytes() == tftp.files[name]


def test_tftp_hpa_byte_identical(tftp: Served, tmp_path: Path) -> None:
    """tftp-hpa (512-byte blocks, no options) gets the same bytes."""
    result = run("tftp", "-m", "binary", HOST, str(tftp.port), "-c", "get", "kernel.bin", str(tmp_path / "k"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "k").read_bytes() == tftp.files["kernel.bin"]


@pytest.mark.parametrize("options", [[], ["--option", "blksize 1468", "--option", "tsize 0"]])
def test_atftp_byte_identical(tftp: Served, tmp_path: Path, options: list[str]) -> None:
    """atftp gets the same bytes, with and without blksize/tsize negotiation."""
    out = tmp_path / "k"
    result = run("atftp", *options, "-g", "-r", "kernel.bin", "-l", str(out), HOST, str(tftp.port))
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes() == tftp.files["kernel.bin"]


def test_windowsize_with_loss(tftp: Served) -> None:
    """windowsize 8 (RFC 7440): lost blocks are resent from the gap and the file arrives intact."""
    res = fetch(
        tftp.port, "kernel.bin", {"blksize": "1468", "windowsize": "8", "tsize": "0"}, drop=frozenset({3, 50})
    )
    assert res.oack == {"blksize": "1468", "windowsize": "8", "tsize": str(len(tftp.files["kernel.bin"]))}
    assert res.data == tftp.files["kernel.bin"]


def test_retransmission_after_timeout(tftp: Served) -> None:
    """A lost DATA block (lock-step mode) is retransmitted after the timeout."""
    res = fetch(tftp.port, "exact.bin", drop=frozenset({2, 40, 41}))
    assert res.data == tftp.files["exact.bin"]


def test_block_number_rollover(tftp: Served) -> None:
    """More than 65535 blocks: the 16-bit block number wraps and the file is still intact."""
    res = fetch(tftp.port, "kernel.bin", {"blksize": "32", "windowsize": "32"})
    assert len(tftp.files["kernel.bin"]) // 32 > 65535
    assert res.data == tftp.files["kernel.bin"]


def test_ovmf_pattern(tftp: Served) -> None:
    """UEFI firmware asks tsize+blksize, aborts after the OACK (error 8), then downloads for real."""
    # Earlier tests' transfers may still be finishing (their last ACK arrives after the client returns):
    # wait until every started transfer has ended before taking the baseline.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        stages = [e["stage"] for e in tftp.events.items]
        if stages.count("tftp_start") == len(stages) - stages.count("tftp_start"):
            break
        time.sleep(0.02)
    before = len(tftp.events.items)
    probe = fetch(tftp.port, "kernel.bin", {"tsize": "0", "blksize": "1468"}, abort_after_oack=True)
    assert probe.oack["tsize"] == str(len(tftp.files["kernel.bin"]))
    real = fetch(tftp.port, "kernel.bin", {"blksize": "1468"})
    assert real.data == tftp.files["kernel.bin"]
    wanted = ["tftp_start", "tftp_abort", "tftp_start", "tftp_done"]
    deadline = time.monotonic() + 5  # the final ACK is processed after the client returns
    while [e["stage"] for e in tftp.events.items[before:]] != wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    assert [e["stage"] for e in tftp.events.items[before:]] == wanted
    assert tftp.events.items[-1]["detail"]["bytes"] == len(tftp.files["kernel.bin"])


def test_virtual_scripts(tftp: Served) -> None:
    """config.ipxe chains ${filename}; default reboots (upstream's iPXE binaries ask for both)."""
    assert fetch(tftp.port, "config.ipxe").data == CONFIG_IPXE
    assert b"chain ${filename}" in CONFIG_IPXE
    assert fetch(tftp.port, "default").data == DEFAULT_SCRIPT == b"#!ipxe\nreboot\n"


@pytest.mark.parametrize("name", ["../outside/secret", "/../../etc/passwd", "sub/../../etc/passwd",
                                  "..\\..\\etc\\passwd", "sub/dir/../../../x"])  # fmt: skip
def test_traversal_refused(tftp: Served, name: str) -> None:
    """Names that leave the root (.., backslashes) are refused with error 2."""
    with pytest.raises(TftpFailed) as err:
        fetch(tftp.port, name)
    assert err.value.code == 2


def test_symlinks_followed_or_refused(tftp: Served) -> None:
    """A symlink placed in the root is followed by default (Debian's ipxe.efi -> /boot) and refused
    when it leaves the root with tftp_follow_symlinks off."""
    from pychami.netboot.tftp.server import Refused, resolve

    source = resolve(tftp.root, "escape")
    assert source.read(0, 100) == b"secret"
    source.close()
    with pytest.raises(Refused):
        resolve(tftp.root, "escape", follow_symlinks=False)


def test_traversal_refused_real_clients(tftp: Served, tmp_path: Path) -> None:
    """tftp-hpa and atftp asking for ../ paths get an access violation and no file content."""
    hpa = run("tftp", HOST, str(tftp.port), "-c", "get", "../../../../etc/passwd", str(tmp_path / "p"))
    assert "Error code 2" in hpa.stdout + hpa.stderr
    at = run("atftp", "-g", "-r", "../../../etc/passwd", "-l", str(tmp_path / "q"), HOST, str(tftp.port))
    assert at.returncode != 0
    for path in (tmp_path / "p", tmp_path / "q"):
        assert not path.exists() or b"root:" not in path.read_bytes()


def test_missing_file_and_write_refused(tftp: Served, tmp_path: Path) -> None:
    """A missing file gives curl rc 68 (file not found); a write request is refused."""
    assert run("curl", "-sS", "-o", str(tmp_path / "x"), f"tftp://{HOST}:{tftp.port}/nope").returncode == 68
    (tmp_path / "up").write_bytes(b"data")
    put = run("tftp", HOST, str(tftp.port), "-c", "put", str(tmp_path / "up"), "up", cwd=tmp_path)
    assert "Error code 2" in put.stdout + put.stderr
    assert not (tftp.root / "up").exists()


def test_many_concurrent_transfers(tftp: Served, tmp_path: Path) -> None:
    """Thirty curl downloads at once all complete byte-identical."""

    def one(i: int) -> bytes:
        out = tmp_path / f"o{i}"
        result = run(
            "curl", "-sS", "--tftp-blksize", "1468", "-o", str(out), f"tftp://{HOST}:{tftp.port}/kernel.bin"
        )
        assert result.returncode == 0, result.stderr
        return out.read_bytes()

    with ThreadPoolExecutor(30) as pool:
        results = list(pool.map(one, range(30)))
    assert all(r == tftp.files["kernel.bin"] for r in results)


def test_default_root_serves_debian_ipxe(tmp_path: Path) -> None:
    """Without tftp_root the daemon serves Debian's ipxe files, named as the DHCP policy names them."""
    from pychami.netboot.settings import DEBIAN_IPXE_DIR, NetbootSettings

    cfg = NetbootSettings()
    assert cfg.effective_tftp_root() == DEBIAN_IPXE_DIR
    for arch in (0, 7):
        assert (DEBIAN_IPXE_DIR / cfg.arch_files()[arch]).is_file()
    server = TftpServer(cfg.effective_tftp_root(), ListEvents(), host=HOST, port=0)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        for name in ("undionly.kpxe", "ipxe.efi", "snponly.efi"):  # ipxe.efi is a symlink to /boot
            out = tmp_path / name
            url = f"tftp://{HOST}:{server.bound_port}/{name}"
            result = run("curl", "-sS", "--tftp-blksize", "1468", "-o", str(out), url)
            assert result.returncode == 0, result.stderr
            assert out.read_bytes() == (DEBIAN_IPXE_DIR / name).read_bytes()
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def test_cache_follows_file_changes(tftp: Served) -> None:
    """Files are served from a memory cache keyed on mtime: a replaced file is served fresh."""
    path = tftp.root / "changing.bin"
    path.write_bytes(b"first version")
    assert fetch(tftp.port, "changing.bin").data == b"first version"
    path.write_bytes(b"second version, longer")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert fetch(tftp.port, "changing.bin").data == b"second version, longer"
