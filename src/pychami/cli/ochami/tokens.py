"""Access tokens for ochami: where they come from and the local sanity checks upstream does.

The token is parsed without checking its signature (the server does that): ochami refuses a value that is
not a JWT, is expired, or is not yet valid, and warns when less than 15 minutes are left.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pychami.core.errors import PychamiError

WARN_BELOW_SECONDS = 15 * 60
LEEWAY_SECONDS = 30


class TokenError(PychamiError):
    """No usable token."""


def env_var_for(cluster: str) -> str:
    """``demo`` -> ``DEMO_ACCESS_TOKEN``; ``my-cluster x`` -> ``MY_CLUSTER_X_ACCESS_TOKEN``."""
    return re.sub(r"[- ]", "_", cluster.upper()) + "_ACCESS_TOKEN"


def token_from_env(cluster: str | None, env: Mapping[str, str]) -> str:
    """The cluster's token from its environment variable, or a TokenError with upstream's message."""
    if not cluster:
        raise TokenError("no cluster name to find a token for: pass --token, or name the cluster with -C")
    var = env_var_for(cluster)
    value = env.get(var, "").strip()
    if not value:
        raise TokenError(f'Environment variable {var} unset for reading token for cluster "{cluster}"')
    return value


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def decode_unverified(token: str) -> dict[str, Any]:
    """The claims of a JWT, without verifying its signature; TokenError if it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError(f"token is not a valid JWT: expected 3 dot-separated parts, found {len(parts)}")
    try:
        header = json.loads(_b64(parts[0]))
        claims = json.loads(_b64(parts[1]))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise TokenError(f"token is not a valid JWT: {exc}") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError("token is not a valid JWT: header and claims must be JSON objects")
    return claims


def _stamp(claims: Mapping[str, Any], key: str) -> datetime | None:
    value = claims.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenError(f"token is not a valid JWT: claim '{key}' must be a number")
    return datetime.fromtimestamp(value, UTC)


def _fmt(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(seconds: float) -> str:
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{s}s"


@dataclass(frozen=True)
class TokenCheck:
    """Outcome of the local checks: a warning to show, if any."""

    warning: str | None


def check(token: str, now: datetime | None = None) -> TokenCheck:
    """Refuse tokens that are not JWTs, expired, or not yet valid; warn when under 15 minutes are left."""
    now = now or datetime.now(UTC)
    claims = decode_unverified(token)
    exp, nbf, iat = _stamp(claims, "exp"), _stamp(claims, "nbf"), _stamp(claims, "iat")
    if exp is not None and (now - exp).total_seconds() > 0:
        raise TokenError(
            f"token expired at {_fmt(exp)} ({_duration((now - exp).total_seconds())} ago): get a new one"
        )
    if nbf is not None and (nbf - now).total_seconds() > LEEWAY_SECONDS:
        raise TokenError(f"token is not valid yet: not before {_fmt(nbf)}")
    if iat is not None and (iat - now).total_seconds() > LEEWAY_SECONDS:
        raise TokenError(f"token is not valid yet: issued in the future at {_fmt(iat)}")
    if exp is not None:
        left = (exp - now).total_seconds()
        if left < WARN_BELOW_SECONDS:
            return TokenCheck(f"token expires in {_duration(left)} (at {_fmt(exp)})")
    return TokenCheck(None)
