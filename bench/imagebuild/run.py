"""Image-builder benchmark: the scenario's three Debian layers cold and warm, SquashFS and upload throughput.

Usage (as root, from the repository root):
    .venv/bin/python -m bench.imagebuild.run [--cache DIR] [--keep]

Starts docker-registry and SeaweedFS on 127.0.0.1 (as the tests do), builds debian-base -> debian-compute ->
debian-debug with an empty cache (cold) and again (warm: cache hits), then squashes the compute rootfs with
zstd level 3 and uploads the result to S3, and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.imagebuild.conftest import Servers, image_build, scenario_config
from tests.imagebuild.servers import registry, seaweedfs

from pychami.core.storage import S3ObjectStore
from pychami.imagebuild.progress import Reporter
from pychami.imagebuild.squashfs import make_squashfs

LAYERS = ("debian-base", "debian-compute", "debian-debug")


def du(path: Path) -> int:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", type=Path, help="cache directory (default: a fresh temporary one = cold)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ib-bench-"))
    cache = args.cache or tmp / "cache"
    rows: list[tuple[str, str]] = []
    try:
        with registry(tmp / "registry") as reg, seaweedfs(tmp / "s3") as s3:
            servers = Servers(reg, s3)
            for phase in ("cold", "warm"):
                total = 0.0
                for name in LAYERS:
                    cfg = scenario_config(name, servers, tmp / "configs")
                    t0 = time.monotonic()
                    run = image_build(cfg, cache, tmp / "data", servers, timeout=1800)
                    dt = time.monotonic() - t0
                    if run.rc != 0:
                        print(run.out, file=sys.stderr)
                        raise SystemExit(f"{name} failed ({phase})")
                    total += dt
                    rows.append((f"{phase}: {name}", f"{dt:.1f} s"))
                    print(f"{phase} {name}: {dt:.1f}s", file=sys.stderr)
                rows.append((f"{phase}: three layers", f"{total:.1f} s"))
            # SquashFS throughput on the unpacked compute-base rootfs (the debug build's parent)
            roots = sorted((cache / "rootfs").glob("*/"), key=du)
            root = roots[-1]
            size = du(root)
            out = tmp / "bench.sqfs"
            t0 = time.monotonic()
            sq = make_squashfs(root, out, Reporter(bars=False), "zstd", 3)
            dt = time.monotonic() - t0
            rows.append(("mksquashfs zstd -3 input", f"{size / 1e6:.0f} MB -> {sq / 1e6:.0f} MB"))
            rows.append(("mksquashfs zstd -3 throughput", f"{size / 1e6 / dt:.0f} MB/s input ({dt:.1f} s)"))
            store = S3ObjectStore(s3.endpoint, "bench", s3.access, s3.secret)
            t0 = time.monotonic()
            store.put_file("bench.sqfs", out)
            dt = time.monotonic() - t0
            rows.append(("S3 upload (SeaweedFS, boto3 multipart)", f"{sq / 1e6 / dt:.0f} MB/s ({dt:.1f} s)"))
    finally:
        if not args.keep:
            subprocess.run(["umount", "-R", str(tmp)], capture_output=True, check=False)
            shutil.rmtree(tmp, ignore_errors=True)
    print("| measurement | result |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
