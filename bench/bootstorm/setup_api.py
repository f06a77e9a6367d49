"""Admin setup through the API, run inside the server namespace: wait for the server, then boot
parameters for every MAC, cloud-init cluster defaults and the group's cloud-config.

    python -m bench.bootstorm.setup_api BASE_URL TOKEN SETUP.json
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

import httpx


def wait_ready(base: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit(f"{base} did not come up")


def main() -> None:
    base, token = sys.argv[1], sys.argv[2]
    setup = json.loads(Path(sys.argv[3]).read_text())
    wait_ready(base)
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=300) as api:
        r = api.post("/boot/v1/bootparameters", json=setup["bootparameters"])
        r.raise_for_status()
        r = api.post("/cloud-init/admin/cluster-defaults", json=setup["defaults"])
        r.raise_for_status()
        content = base64.b64encode(Path(setup["group_file"]).read_bytes()).decode()
        group = {
            "name": setup["group"],
            "description": "boot-storm group",
            "file": {"content": content, "encoding": "base64"},
        }
        r = api.post("/cloud-init/admin/groups", json=group)
        r.raise_for_status()
    print("setup done", flush=True)


if __name__ == "__main__":
    main()
