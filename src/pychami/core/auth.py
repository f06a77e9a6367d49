"""Bearer JWTs: pychami's own issuer (keys in the data directory) and verification against a JWKS.

Verification requires ``exp``, ``sub``, ``iss`` and ``aud`` and rejects ``alg: none``, unknown keys,
expired and not-yet-valid tokens. Scopes are read from ``scope`` (space-separated string or list) or
``scp``; ``smd.read`` (Hydra style) and ``smd:read`` are the same scope.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from pychami.core.errors import ConfigError, Forbidden, Unauthorized

#: Asymmetric algorithms only: a JWKS holds public keys, so HMAC and ``none`` are never accepted.
ALLOWED_ALGORITHMS = [
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
]
ADMIN_SCOPE = "admin"
KEY_FILE = "jwt-signing-key.pem"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_b64(value: int) -> str:
    return _b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request."""

    subject: str
    scopes: frozenset[str]
    claims: Mapping[str, Any] = field(default_factory=dict)

    def has(self, scope: str) -> bool:
        """True when the caller holds ``scope`` directly, via ``<svc>:write`` for reads, or ``admin``."""
        if ADMIN_SCOPE in self.scopes or scope in self.scopes:
            return True
        service, _, verb = scope.partition(":")
        return verb == "read" and f"{service}:write" in self.scopes


def normalise_scope(scope: str) -> str:
    return scope.strip().replace(".", ":")


def scopes_from_claims(claims: Mapping[str, Any]) -> frozenset[str]:
    raw: Any = claims.get("scope", claims.get("scp", ()))
    items: Iterable[str]
    if isinstance(raw, str):
        items = raw.split()
    elif isinstance(raw, list):
        items = [str(s) for s in raw]
    else:
        items = ()
    return frozenset(normalise_scope(s) for s in items if s.strip())


class LocalIssuer:
    """pychami's own token issuer: an RSA key created once in the data directory."""

    def __init__(self, key: rsa.RSAPrivateKey, issuer: str, audience: str) -> None:
        self._key = key
        self.issuer = issuer
        self.audience = audience
        numbers = key.public_key().public_numbers()
        self._jwk = {"e": _int_b64(numbers.e), "kty": "RSA", "n": _int_b64(numbers.n)}
        # RFC 7638 thumbprint: the required members in lexicographic order, no whitespace.
        canonical = json.dumps(self._jwk, separators=(",", ":"), sort_keys=True).encode()
        self.kid = _b64url(hashlib.sha256(canonical).digest())

    @classmethod
    def load_or_create(cls, data_dir: Path, issuer: str, audience: str) -> LocalIssuer:
        """Load the signing key from ``data_dir``, creating it (mode 0600) on first use."""
        key_dir = data_dir / "keys"
        path = key_dir / KEY_FILE
        try:
            if path.exists():
                loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
                if not isinstance(loaded, rsa.RSAPrivateKey):
                    raise ConfigError(f"{path} does not hold an RSA private key")
                return cls(loaded, issuer, audience)
            key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
            try:
                os.link(tmp, path)  # atomic: a concurrent creator wins, we then load its key
            except FileExistsError:
                tmp.unlink()
                return cls.load_or_create(data_dir, issuer, audience)
            tmp.unlink()
            return cls(key, issuer, audience)
        except OSError as exc:
            raise ConfigError(f"cannot use signing key {path}: {exc.strerror}") from exc

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**self._jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def issue(self, subject: str, scopes: Iterable[str], ttl_seconds: int, now: float | None = None) -> str:
        """A signed RS256 token for ``subject`` with ``scopes``, valid ``ttl_seconds`` from ``now``."""
        issued = int(now if now is not None else time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": [self.audience],
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_seconds,
            "jti": str(uuid.uuid4()),
            "scope": " ".join(scopes),
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})


class KeySource:
    """Where verification keys come from: a fixed JWKS, or a URL fetched and cached."""

    def __init__(self, jwks: Mapping[str, Any] | None = None, url: str | None = None, ttl: int = 300) -> None:
        self._static = jwks
        self._url = url
        self._ttl = ttl
        self._cached: Mapping[str, Any] | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def _fetch(self) -> Mapping[str, Any]:
        assert self._url is not None
        try:
            resp = httpx.get(self._url, timeout=10)
            resp.raise_for_status()
            doc = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise Unauthorized(f"cannot fetch JWKS from {self._url}: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise Unauthorized(f"JWKS at {self._url} has no keys")
        return doc

    def jwks(self, refresh: bool = False) -> Mapping[str, Any]:
        if self._static is not None:
            return self._static
        with self._lock:
            stale = time.monotonic() - self._fetched_at > self._ttl
            if self._cached is None or stale or refresh:
                self._cached = self._fetch()
                self._fetched_at = time.monotonic()
            return self._cached

    def key_for(self, kid: str | None, alg: str) -> Any:
        for attempt in (False, True):
            if attempt and self._static is not None:
                break
            keys = [k for k in self.jwks(refresh=attempt).get("keys", []) if isinstance(k, dict)]
            if kid is not None:
                keys = [k for k in keys if k.get("kid") == kid]
            for jwk in keys:
                try:
                    return jwt.PyJWK(jwk, algorithm=jwk.get("alg", alg)).key
                except jwt.PyJWTError:
                    continue
        raise Unauthorized("token is unauthorized")


class TokenVerifier:
    """Verifies bearer tokens and answers with a :class:`Principal`."""

    def __init__(self, keys: KeySource, issuer: str | None, audience: str | None, leeway: int = 30) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("token is unauthorized") from exc
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise Unauthorized("token is unauthorized")
        key = self._keys.key_for(header.get("kid"), str(alg))
        options: dict[str, Any] = {
            "require": ["exp", "sub", "iss", "aud"],
            "verify_aud": bool(self._audience),
        }
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[str(alg)],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options=options,  # type: ignore[arg-type]
            )
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized("missing required claim") from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token is expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthorized("token is not valid yet") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("token is unauthorized") from exc
        return Principal(subject=str(claims["sub"]), scopes=scopes_from_claims(claims), claims=claims)


class Authorizer:
    """Applies the token policy of a deployment: verification plus scope enforcement."""

    def __init__(self, verifier: TokenVerifier | None, enforce_scopes: bool = True) -> None:
        self._verifier = verifier
        self._enforce = enforce_scopes

    @property
    def enabled(self) -> bool:
        return self._verifier is not None

    def authorize(self, token: str | None, scope: str) -> Principal | None:
        """Return the caller, or raise 401 (no/bad token) or 403 (missing scope)."""
        if self._verifier is None:
            return None
        if not token:
            raise Unauthorized("no token found")
        principal = self._verifier.verify(token)
        if self._enforce and not principal.has(scope):
            raise Forbidden(
                f"token lacks scope '{scope}' (has: {' '.join(sorted(principal.scopes)) or 'none'})"
            )
        return principal


def parse_ttl(text: str) -> int:
    """Parse ``90``, ``90s``, ``15m``, ``1h``, ``7d`` into seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip().lower()
    if not value:
        raise ValueError("empty duration")
    unit = value[-1]
    number = value[:-1] if unit in units else value
    if not number.isdigit() or int(number) <= 0:
        raise ValueError(f"invalid duration {text!r}: use e.g. 30m, 1h, 7d")
    return int(number) * units.get(unit, 1)


__all__ = [
    "ALLOWED_ALGORITHMS",
    "Authorizer",
    "KeySource",
    "LocalIssuer",
    "Principal",
    "RSAAlgorithm",
    "TokenVerifier",
    "parse_ttl",
    "scopes_from_claims",
]
