"""An async Redfish client built for real BMCs: slow, flaky, self-signed and easily overloaded.

One ``RedfishClient`` talks to one BMC. It retries transport failures and 5xx answers with exponential
backoff, paces requests (a minimum interval between two request starts, because many BMCs fall over under
bursts), caps the requests in flight, and authenticates with a Redfish session (falling back to basic auth
when the BMC has no SessionService) or with basic auth.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import httpx

from pychami.core.errors import PychamiError

AuthMode = Literal["basic", "session"]

#: Statuses worth retrying: the BMC is busy or restarting, not telling us we are wrong.
RETRY_STATUSES = frozenset({500, 502, 503, 504})


class RedfishError(PychamiError):
    """A BMC could not be read or refused an operation; ``host`` says which one."""

    def __init__(self, host: str, detail: str, status: int | None = None) -> None:
        super().__init__(f"{host}: {detail}")
        self.host = host
        self.reason = detail
        self.http_status = status


class RedfishAuthError(RedfishError):
    """The BMC rejected the credentials (HTTP 401/403)."""


@dataclass(frozen=True)
class Credentials:
    """A BMC user name and password."""

    username: str
    password: str


@dataclass(frozen=True)
class ClientOptions:
    """How to talk to BMCs; one value shared by every host of a scan or collection."""

    timeout: float = 5.0
    retries: int = 2
    backoff: float = 0.25
    pacing: float = 0.0
    max_in_flight: int = 4
    cacert: str | None = None
    insecure: bool = False
    auth: AuthMode = "basic"

    def verify(self) -> ssl.SSLContext | bool:
        """The TLS verification httpx should use: a CA bundle, no check at all, or the system store."""
        if self.insecure:
            return False
        if self.cacert:
            return ssl.create_default_context(cafile=self.cacert)
        return True


def describe_transport_error(exc: httpx.TransportError) -> str:
    """A one-line, human reason for a transport failure (httpx messages are often empty)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, httpx.TimeoutException):
        return "timed out waiting for the BMC"
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return f"TLS certificate not trusted ({text}); pass --cacert or --insecure"
        return f"cannot connect ({text or type(exc).__name__})"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class RedfishClient:
    """Talks to the Redfish service of one BMC at ``base_url`` (``https://host:port``)."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None,
        options: ClientOptions | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.options = options or ClientOptions()
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(max(1, self.options.max_in_flight))
        self._pace_lock = asyncio.Lock()
        self._next_start = 0.0
        self._session_uri: str | None = None

    async def __aenter__(self) -> RedfishClient:
        opts = self.options
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            verify=opts.verify(),
            timeout=httpx.Timeout(opts.timeout),
            headers={"Accept": "application/json", "OData-Version": "4.0"},
            transport=self._transport,
            follow_redirects=True,
        )
        if self.credentials is not None:
            if opts.auth == "session":
                await self._login()
            else:
                self._http.auth = httpx.BasicAuth(self.credentials.username, self.credentials.password)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        http = self._http
        if http is None:
            return
        try:
            if self._session_uri:
                # A failed logout is harmless: the session times out on the BMC anyway.
                with contextlib.suppress(httpx.HTTPError):
                    await http.delete(self._session_uri)
        finally:
            await http.aclose()
            self._http = None

    async def _login(self) -> None:
        """Open a Redfish session; fall back to basic auth when the BMC has no SessionService."""
        assert self._http is not None
        assert self.credentials is not None
        creds = self.credentials
        # The service root is readable without credentials; no SessionService link means no sessions
        # (sushy-tools answers 401, not 404, on the missing Sessions URI when auth is on).
        root = await self._send("GET", "/redfish/v1/", authenticated=False)
        try:
            has_sessions = root.status_code == 200 and "SessionService" in root.json()
        except ValueError:
            has_sessions = False
        if not has_sessions:
            self._http.auth = httpx.BasicAuth(creds.username, creds.password)
            return
        resp = await self._send(
            "POST",
            "/redfish/v1/SessionService/Sessions",
            json={"UserName": creds.username, "Password": creds.password},
            authenticated=False,
        )
        if resp.status_code in (404, 405, 501):
            self._http.auth = httpx.BasicAuth(creds.username, creds.password)
            return
        if resp.status_code in (401, 403):
            raise RedfishAuthError(
                self.base_url, f"login refused (HTTP {resp.status_code}): wrong credentials?"
            )
        if resp.status_code >= 300 or "X-Auth-Token" not in resp.headers:
            raise RedfishError(self.base_url, f"session login failed (HTTP {resp.status_code})")
        self._http.headers["X-Auth-Token"] = resp.headers["X-Auth-Token"]
        self._session_uri = resp.headers.get("Location")

    async def _pace(self) -> None:
        """Wait until ``pacing`` seconds have passed since the previous request start to this BMC."""
        if self.options.pacing <= 0:
            return
        async with self._pace_lock:  # held while sleeping: request starts are serialised and spaced
            wait = self._next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next_start = time.monotonic() + self.options.pacing

    async def _send(
        self, method: str, path: str, *, json: Any = None, authenticated: bool = True
    ) -> httpx.Response:
        """One request with pacing, the in-flight cap and retries; transport failures become RedfishError."""
        http = self._http
        if http is None:
            raise RuntimeError("RedfishClient used outside 'async with'")
        attempts = max(1, self.options.retries + 1)
        last: str = ""
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.options.backoff * (2 ** (attempt - 1)))
            await self._pace()
            async with self._slots:
                try:
                    kwargs: dict[str, Any] = {}
                    if json is not None:
                        kwargs["json"] = json
                    if not authenticated:
                        kwargs["auth"] = None
                    resp = await http.request(method, path, **kwargs)
                except httpx.TransportError as exc:
                    last = describe_transport_error(exc)
                    if "certificate" in last.lower():
                        break  # a bad certificate does not get better by asking again
                    if method != "GET" and not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
                        break  # the BMC may have acted on it: never reset a node twice
                    continue
            if resp.status_code in RETRY_STATUSES and attempt + 1 < attempts:
                last = f"HTTP {resp.status_code}"
                continue
            return resp
        raise RedfishError(self.base_url, f"{method} {path}: {last} (after {attempts} attempt(s))")

    def _check(self, method: str, path: str, resp: httpx.Response) -> None:
        if resp.status_code in (401, 403):
            raise RedfishAuthError(
                self.base_url,
                f"{method} {path}: HTTP {resp.status_code}, the BMC rejected the credentials",
                resp.status_code,
            )
        if resp.status_code >= 400:
            raise RedfishError(
                self.base_url,
                f"{method} {path}: HTTP {resp.status_code}{_redfish_message(resp)}",
                resp.status_code,
            )

    async def get(self, path: str) -> dict[str, Any]:
        """GET a Redfish resource and return its JSON object."""
        resp = await self._send("GET", path)
        self._check("GET", path, resp)
        try:
            body = resp.json()
        except ValueError as exc:
            raise RedfishError(self.base_url, f"GET {path}: answer is not JSON") from exc
        if not isinstance(body, dict):
            raise RedfishError(self.base_url, f"GET {path}: answer is not a JSON object")
        return body

    async def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        """POST a JSON body (an action) and return the response; HTTP errors become RedfishError."""
        resp = await self._send("POST", path, json=body)
        self._check("POST", path, resp)
        return resp


def _redfish_message(resp: httpx.Response) -> str:
    """The message of a Redfish error body, if there is one."""
    try:
        body = resp.json()
    except ValueError:
        return ""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        msg = body["error"].get("message")
        if isinstance(msg, str) and msg:
            return f" ({msg})"
    return ""
