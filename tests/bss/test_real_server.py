"""The boot-script path through a real uvicorn server (httptools, uvloop) and a real HTTP client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.bss.conftest import boot_debug, golden


@pytest.fixture
def server_url(bss_app: FastAPI) -> Iterator[str]:
    """bss_app served by uvicorn on a free loopback port, stopped at teardown."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(
        bss_app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_checkpoint_3_over_real_http(admin: TestClient, server_url: str) -> None:
    """Checkpoint 3 with curl's view: the scenario's node gets its script over a real socket."""
    admin.put("/boot/v1/bootparameters", json=boot_debug())
    with httpx.Client(base_url=server_url) as client:
        resp = client.get("/boot/v1/bootscript", params={"mac": "52:54:00:be:ef:01"})
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "text/plain; charset=UTF-8"
        assert resp.text == golden("known_by_mac.ipxe")
        bad = client.get("/boot/v1/bootscript")
        assert bad.status_code == 400
        assert bad.headers["content-type"] == "application/problem+json"
