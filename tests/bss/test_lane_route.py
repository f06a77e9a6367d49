"""The boot script is served by the node lane, and the same handler works as an ordinary route."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.bss.api import bootscript
from pychami.core.web import install_error_handlers


def test_lane_keeps_request_ids_and_metrics(admin: TestClient, node_client: TestClient) -> None:
    """Through the lane (in-process: its ASGI middleware), answers carry a request id and are counted
    under the route path."""
    admin.put("/boot/v1/bootparameters", json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://k"})
    first = node_client.get("/boot/v1/bootscript?mac=52:54:00:be:ef:01")
    second = node_client.get("/boot/v1/bootscript?mac=zz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert len(first.headers["x-request-id"]) == 32
    assert second.status_code == 400
    assert second.headers["content-type"] == "application/problem+json"
    metrics = node_client.get("/metrics").text
    assert 'route="/boot/v1/bootscript",status="200"' in metrics
    assert 'route="/boot/v1/bootscript",status="400"' in metrics


def test_plain_route_serves_the_same_script(admin: TestClient, bss_app: FastAPI) -> None:
    """Mounted as an ordinary route in another app, the handler gives the same answers."""
    admin.put("/boot/v1/bootparameters", json={"macs": ["52:54:00:be:ef:01"], "kernel": "http://k"})
    service = bss_app.state.ctx.registry["bss"]
    other = FastAPI()
    install_error_handlers(other)
    other.include_router(bootscript.router(service))
    with TestClient(other) as client:
        plain = client.get("/boot/v1/bootscript?mac=52:54:00:be:ef:01&ts=1")
        bad = client.get("/boot/v1/bootscript")
    assert plain.text == admin.get("/boot/v1/bootscript?mac=52:54:00:be:ef:01&ts=1").text
    assert bad.status_code == 400
    assert bad.json()["detail"] == "Need a mac=, name=, or nid= parameter"
