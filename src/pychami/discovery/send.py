"""Post collected RedfishEndpoint payloads to SMD; on 409 with ``force_update``, PUT them instead.

``POST <smd>/hsm/v2/Inventory/RedfishEndpoints`` (one BMC per request, unwrapped, as upstream) creates the
endpoint and, through SMD's V2 parse, the NodeBMC and Node components, their ethernet interfaces and
component endpoints. ``PUT .../RedfishEndpoints/<ID>`` replaces it and re-runs the parse.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from pychami.core.errors import BadRequest

RFE_PATH = "/hsm/v2/Inventory/RedfishEndpoints"


def parse_payloads(text: str, fmt: str = "json") -> list[dict[str, Any]]:
    """One RFE object, a list of them, or ``{"RedfishEndpoints": [...]}``, as JSON or YAML."""
    try:
        data: Any = yaml.safe_load(text) if fmt == "yaml" else json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise BadRequest(f"input is not valid {fmt}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("RedfishEndpoints"), list):
        data = data["RedfishEndpoints"]
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("ID"), str) or not item["ID"]:
            raise BadRequest(f"item {i} is not a RedfishEndpoint object with an ID")
    return items


def read_data(arg: str, fmt: str) -> list[dict[str, Any]]:
    """``-d`` value: inline JSON/YAML or ``@file``."""
    if arg.startswith("@"):
        path = Path(arg[1:])
        try:
            arg = path.read_text()
        except OSError as exc:
            raise BadRequest(f"cannot read {path}: {exc.strerror}") from exc
        if path.suffix in (".yaml", ".yml"):
            fmt = "yaml"
    return parse_payloads(arg, fmt)


@dataclass
class SendResult:
    """What happened to one payload."""

    id: str
    method: str
    status: int
    ok: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "ID": self.id,
            "method": self.method,
            "status": self.status,
            "ok": self.ok,
            "detail": self.detail,
        }


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)
    return json.dumps(body)


def send(
    smd_url: str,
    payloads: Iterable[dict[str, Any]],
    *,
    token: str | None = None,
    force_update: bool = False,
    cacert: str | None = None,
    insecure: bool = False,
    timeout: float = 10.0,
    transport: httpx.BaseTransport | None = None,
) -> list[SendResult]:
    """Send every payload; never stops at the first failure. One HTTP connection is reused."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    verify: ssl.SSLContext | bool = (
        False if insecure else ssl.create_default_context(cafile=cacert) if cacert else True
    )
    base = smd_url.rstrip("/")
    results: list[SendResult] = []
    with httpx.Client(
        base_url=base, headers=headers, verify=verify, timeout=timeout, transport=transport
    ) as http:
        for payload in payloads:
            rfe_id = str(payload["ID"])
            try:
                resp = http.post(RFE_PATH, json=payload)
                method = "POST"
                if resp.status_code == 409 and force_update:
                    method = "PUT"
                    resp = http.put(f"{RFE_PATH}/{rfe_id}", json=payload)
            except httpx.HTTPError as exc:
                results.append(SendResult(rfe_id, "POST", 0, False, f"cannot reach {base}: {exc}"))
                continue
            ok = resp.status_code < 300
            detail = "" if ok else _detail(resp)
            if resp.status_code == 409 and not force_update:
                detail += " (already exists; use --force-update to replace it)"
            results.append(SendResult(rfe_id, method, resp.status_code, ok, detail))
    return results
