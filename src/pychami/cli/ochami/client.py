"""The small typed HTTP layer every ochami service command uses (httpx underneath).

A ``ServiceClient`` is bound to one service base URL (``https://host:8443/hsm/v2``). Requests that need a
token ask the ``token`` callable for it only then, so commands that upstream sends without a token work
with no token configured. A non-2xx answer raises ``HTTPFailure`` carrying status line and body.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from pychami import __version__
from pychami.core.errors import PychamiError

Params = Mapping[str, str | Sequence[str]] | None


class HTTPFailure(PychamiError):
    """The server answered with a non-2xx status."""

    def __init__(self, method: str, url: str, status: int, reason: str, http_version: str, body: str):
        self.method, self.url, self.status, self.reason, self.body = method, url, status, reason, body
        super().__init__(f"unsuccessful HTTP status: {http_version} {status} {reason}: {body.rstrip()}")


class ConnectFailure(PychamiError):
    """The server could not be reached."""


@dataclass(frozen=True)
class Reply:
    """A successful answer."""

    status: int
    body: bytes
    headers: Mapping[str, str]

    def json(self) -> Any:
        """The body decoded as JSON (None for an empty body)."""
        if not self.body.strip():
            return None
        return json.loads(self.body)


def tls_verify(cacert: str | None, insecure: bool) -> ssl.SSLContext | bool:
    """What httpx should verify against: the system store, a CA file, or nothing (``-k``)."""
    if insecure:
        return False
    if cacert:
        try:
            return ssl.create_default_context(cafile=cacert)
        except (OSError, ssl.SSLError) as exc:
            raise PychamiError(f"cannot load CA certificate {cacert}: {exc}") from exc
    return True


class ServiceClient:
    """HTTP calls to one service base URL."""

    def __init__(
        self,
        base_url: str,
        token: Callable[[], str | None],
        *,
        verify: ssl.SSLContext | bool = True,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._log = log
        self._http = httpx.Client(
            verify=verify,
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": f"ochami/{__version__} (pychami)"},
        )

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` under the base."""
        return self.base_url + ("" if path.startswith("/") or not path else "/") + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        body: Any = None,
        auth: bool = True,
    ) -> Reply:
        """Send one request; raise ``HTTPFailure`` on a non-2xx answer."""
        headers: dict[str, str] = {}
        if auth:
            token = self._token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
        content = None
        if body is not None:
            content = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        url = self.url(path)
        if self._log:
            self._log(f"{method} {url}" + (f" params={dict(params)}" if params else ""))
        try:
            resp = self._http.request(method, url, params=_params(params), content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectFailure(f"{method} {url} failed: {exc}") from exc
        if self._log:
            self._log(f"{method} {url} -> {resp.status_code}")
        if not 200 <= resp.status_code < 300:
            raise HTTPFailure(method, url, resp.status_code, resp.reason_phrase, resp.http_version, resp.text)
        return Reply(resp.status_code, resp.content, dict(resp.headers))

    def get(self, path: str, params: Params = None, auth: bool = True) -> Reply:
        """GET ``path``."""
        return self.request("GET", path, params=params, auth=auth)

    def post(self, path: str, body: Any, auth: bool = True) -> Reply:
        """POST ``body`` as JSON."""
        return self.request("POST", path, body=body, auth=auth)

    def put(self, path: str, body: Any, auth: bool = True) -> Reply:
        """PUT ``body`` as JSON."""
        return self.request("PUT", path, body=body, auth=auth)

    def patch(self, path: str, body: Any, auth: bool = True) -> Reply:
        """PATCH ``body`` as JSON."""
        return self.request("PATCH", path, body=body, auth=auth)

    def delete(self, path: str, body: Any = None, auth: bool = True) -> Reply:
        """DELETE ``path``."""
        return self.request("DELETE", path, body=body, auth=auth)


def _params(params: Params) -> list[tuple[str, str | int | float | bool | None]] | None:
    if not params:
        return None
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in params.items():
        if isinstance(value, str):
            out.append((key, value))
        else:
            out.extend((key, v) for v in value)
    return out
