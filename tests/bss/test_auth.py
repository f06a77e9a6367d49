"""Who may call what: bootparameters needs bss:read / bss:write; node-facing and status routes are open."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

URL = "/boot/v1/bootparameters"
BODY = '{"macs":["52:54:00:be:ef:01"],"kernel":"http://k"}'

PROTECTED = [("GET", "", "bss:read"), ("GET", "/boot/v1/", "bss:read")] + [
    (m, "", "bss:write") for m in ("POST", "PUT", "PATCH", "DELETE")
]
OPEN = [
    "/boot/v1/bootscript?mac=52:54:00:be:ef:01",
    "/boot/v1/hosts",
    "/boot/v1/dumpstate",
    "/boot/v1/endpoint-history",
    "/boot/v1/service/status",
    "/boot/v1/service/status/all",
    "/boot/v1/service/version",
    "/boot/v1/service/storage/status",
    "/boot/v1/service/hsm",
]


def call(client: TestClient, method: str, path: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = BODY if method in {"POST", "PUT", "PATCH", "DELETE"} else None
    return client.request(method, path or URL, content=body, headers=headers).status_code


@pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
def test_protected_matrix(
    node_client: TestClient, bss_token: Callable[..., str], method: str, path: str, scope: str
) -> None:
    """No token: 401; another service's scope: 403; bss:read reads only; bss:write and admin do all."""
    assert call(node_client, method, path, None) == 401
    assert call(node_client, method, path, "garbage") == 401
    assert call(node_client, method, path, bss_token("smd:write", "cloud-init:write")) == 403
    read_status = call(node_client, method, path, bss_token("bss:read"))
    if scope == "bss:read":
        assert read_status == 200
    else:
        assert read_status == 403
    assert call(node_client, method, path, bss_token("bss:write")) not in {401, 403}
    assert call(node_client, method, path, bss_token("admin")) not in {401, 403}


def test_denied_write_changes_nothing(node_client: TestClient, bss_token: Callable[..., str]) -> None:
    """A write refused for its scope stores nothing."""
    assert call(node_client, "POST", "", bss_token("bss:read")) == 403
    resp = node_client.get(URL, headers={"Authorization": f"Bearer {bss_token('bss:read')}"})
    assert resp.text == "null\n"


def test_401_is_plain_text(node_client: TestClient) -> None:
    """Like upstream's jwtauth middleware, a missing token answers 401 in plain text."""
    resp = node_client.get(URL)
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "no token found\n"


@pytest.mark.parametrize("path", OPEN)
def test_open_routes_need_no_token(node_client: TestClient, path: str) -> None:
    """Node-facing and status routes answer without any token."""
    assert node_client.get(path).status_code == 200
