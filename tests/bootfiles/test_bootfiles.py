"""``/boot-images/...``: published boot files with HEAD, Range, traversal refusal and boot events."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.bootfiles.module import QUICK_RANGE, stage_of
from pychami.core.storage import LocalObjectStore

KEY = "efi-images/compute/debug/vmlinuz-6.1.0-test"


def _publish(app: FastAPI, tmp_path: Path, key: str = KEY, size: int = 100_000) -> bytes:
    data = os.urandom(size)
    src = tmp_path / "blob"
    src.write_bytes(data)
    LocalObjectStore(app.state.ctx.settings.data_dir / "objects", "boot-images").put_file(key, src)
    return data


def test_get_head_and_range(app: FastAPI, anon: TestClient, tmp_path: Path) -> None:
    """GET returns the bytes, HEAD the length only, and Range a 206 with exactly the asked bytes."""
    data = _publish(app, tmp_path)
    full = anon.get(f"/boot-images/{KEY}")
    assert full.status_code == 200
    assert full.content == data
    head = anon.head(f"/boot-images/{KEY}")
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(data)) and head.content == b""
    part = anon.get(f"/boot-images/{KEY}", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"


def test_missing_and_traversal_are_refused(app: FastAPI, anon: TestClient, tmp_path: Path) -> None:
    """Unknown keys are 404; '..' (even percent-encoded) and links out of the store never serve a file."""
    _publish(app, tmp_path)
    assert anon.get("/boot-images/compute/none").status_code == 404
    assert anon.get("/boot-images/%2e%2e/%2e%2e/keys/jwt-signing-key.pem").status_code in {400, 404}
    objects = app.state.ctx.settings.data_dir / "objects" / "boot-images"
    (objects / "escape").symlink_to("/etc/passwd")
    assert anon.get("/boot-images/escape").status_code == 404
    assert anon.get("/boot-images/efi-images").status_code == 404


def test_download_records_boot_event(app: FastAPI, anon: TestClient, tmp_path: Path) -> None:
    """A download start is a boot event named after the file's role; later Range reads are not."""
    _publish(app, tmp_path)
    anon.get(f"/boot-images/{KEY}")
    anon.get(f"/boot-images/{KEY}", headers={"Range": "bytes=10-20"})
    events = [e for e in app.state.ctx.events.timeline() if e.source == "bootfiles"]
    assert [(e.stage, (e.detail or {}).get("key")) for e in events] == [("kernel", KEY)]


def test_stage_names() -> None:
    """Kernels, initramfs and root images are told apart by upstream's key names."""
    assert stage_of("efi-images/compute/base/vmlinuz-6.1") == "kernel"
    assert stage_of("efi-images/compute/base/initramfs-6.1.img") == "initrd"
    assert stage_of("compute/base/debian12-compute-base-12") == "root image"


def test_quick_answers_match_the_streamed_ones(app: FastAPI, anon: TestClient, tmp_path: Path) -> None:
    """HEAD and small ranges (answered on the event loop) carry the same validators as a full GET;
    suffix, open-ended, multi-part and large ranges are still answered correctly."""
    data = _publish(app, tmp_path, size=QUICK_RANGE + 300_000)
    url = f"/boot-images/{KEY}"
    full = anon.get(url)
    head = anon.head(url)
    small = anon.get(url, headers={"Range": "bytes=0-65535"})
    for name in ("etag", "last-modified", "accept-ranges"):
        assert head.headers[name] == full.headers[name] == small.headers[name]
    assert small.content == data[:65536]
    assert small.headers["content-length"] == "65536"
    tail = anon.get(url, headers={"Range": f"bytes={len(data) - 10}-"})
    assert (tail.status_code, tail.content) == (206, data[-10:])
    suffix = anon.get(url, headers={"Range": "bytes=-4"})
    assert (suffix.status_code, suffix.content) == (206, data[-4:])
    big = anon.get(url, headers={"Range": f"bytes=0-{QUICK_RANGE + 99}"})
    assert (big.status_code, big.content) == (206, data[: QUICK_RANGE + 100])
    past = anon.get(url, headers={"Range": f"bytes={len(data) + 5}-"})
    assert past.status_code == 416
    multi = anon.get(url, headers={"Range": "bytes=0-1,10-11"})
    assert multi.status_code == 206 and b"multipart" in multi.headers["content-type"].encode()
