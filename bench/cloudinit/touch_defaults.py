"""Change the cluster defaults through the admin API so every cached document must be rendered again.

python bench/cloudinit/touch_defaults.py DATA_DIR PORT
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from pychami.core.auth import LocalIssuer
from pychami.core.settings import load_settings


def main() -> None:
    data_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    settings = load_settings(data_dir=data_dir)
    issuer = LocalIssuer.load_or_create(data_dir, settings.token_issuer, settings.auth.audience)
    token = issuer.issue("bench", ["cloud-init:write"], 600)
    resp = httpx.post(
        f"http://127.0.0.1:{port}/cloud-init/admin/cluster-defaults",
        json={"region": f"bench-{time.time_ns()}"},
        headers={"Authorization": f"Bearer {token}"},
    )
    resp.raise_for_status()


if __name__ == "__main__":
    main()
