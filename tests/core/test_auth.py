"""The auth matrix: every way a token can be wrong, scopes per verb, and the public endpoints."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pychami.core.auth import KeySource, LocalIssuer, Principal, TokenVerifier, parse_ttl, scopes_from_claims
from pychami.core.errors import Unauthorized
from pychami.core.settings import load_settings
from pychami.server import create_app

PROTECTED = "/hsm/v2/State/Components/x1000c0s0b0n0"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(app: FastAPI, **over: object) -> dict[str, object]:
    issuer = app.state.ctx.issuer
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": issuer.issuer,
        "sub": "t",
        "aud": issuer.audience,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "scope": "admin",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(app: FastAPI, claims: dict[str, object], key: rsa.RSAPrivateKey | None = None) -> str:
    issuer = app.state.ctx.issuer
    return jwt.encode(claims, key or issuer._key, algorithm="RS256", headers={"kid": issuer.kid})


def test_no_token_is_401_plain_text(anon: TestClient) -> None:
    """A protected endpoint without a token answers 401 text/plain, like upstream's jwtauth."""
    resp = anon.get(PROTECTED)
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("text/plain")
    assert resp.text == "no token found\n"


@pytest.mark.parametrize(
    "case",
    ["bad-signature", "alg-none", "expired", "not-yet-valid", "wrong-iss", "wrong-aud", "no-sub", "garbage"],
)
def test_bad_tokens_are_401(app: FastAPI, anon: TestClient, case: str) -> None:
    """Tokens with a wrong key, alg none, bad times, wrong issuer/audience or missing claims are 401."""
    now = int(time.time())
    if case == "bad-signature":
        token = _sign(app, _claims(app), rsa.generate_private_key(public_exponent=65537, key_size=2048))
    elif case == "alg-none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(app))}."
    elif case == "expired":
        token = _sign(app, _claims(app, exp=now - 3600, iat=now - 7200, nbf=now - 7200))
    elif case == "not-yet-valid":
        token = _sign(app, _claims(app, nbf=now + 3600))
    elif case == "wrong-iss":
        token = _sign(app, _claims(app, iss="https://evil.example"))
    elif case == "wrong-aud":
        token = _sign(app, _claims(app, aud="someone-else"))
    elif case == "no-sub":
        token = _sign(app, _claims(app, sub=None))
    else:
        token = "not.a.jwt"
    resp = anon.get(PROTECTED, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 401, case
    assert resp.headers["content-type"].startswith("text/plain")


def test_scopes_per_verb(app: FastAPI, anon: TestClient) -> None:
    """smd:read may read but not write (403); smd:write may both; admin may everything."""
    anon.post("/hsm/v2/State/Components", json={"Components": [{"ID": "x1000c0s0b0n0", "State": "On"}]})
    read = {"Authorization": f"Bearer {app.state.ctx.issuer.issue('r', ['smd:read'], 600)}"}
    write = {"Authorization": f"Bearer {app.state.ctx.issuer.issue('w', ['smd.write'], 600)}"}
    other = {"Authorization": f"Bearer {app.state.ctx.issuer.issue('o', ['bss:read'], 600)}"}
    body = {"Components": [{"ID": "x1000c0s0b0n0", "State": "On"}]}
    assert anon.get("/hsm/v2/groups", headers=read).status_code == 200
    denied = anon.post("/hsm/v2/State/Components", json=body, headers=read)
    assert denied.status_code == 403
    assert "smd:write" in denied.json()["detail"]
    assert anon.post("/hsm/v2/State/Components", json=body, headers=write).status_code == 204
    assert anon.get("/hsm/v2/groups", headers=write).status_code == 200
    assert anon.get("/hsm/v2/groups", headers=other).status_code == 403


def test_compat_switch_accepts_any_valid_token(tmp_path: object, db_url: str) -> None:
    """With auth.compat_any_scope, any valid token passes whatever its scopes (upstream behaviour)."""
    from pathlib import Path

    settings = load_settings(data_dir=Path(str(tmp_path)) / "d", db=db_url, auth={"compat_any_scope": True})
    app = create_app(settings)
    with TestClient(app) as c:
        token = app.state.ctx.issuer.issue("x", [], 600)
        assert c.get("/hsm/v2/groups", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert c.get("/hsm/v2/groups").status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/hsm/v2/service/ready",
        "/hsm/v2/service/liveness",
        "/hsm/v2/service/values",
        "/hsm/v2/service/values/state",
        "/hsm/v2/State/Components",
        "/hsm/v2/Inventory/EthernetInterfaces",
        "/healthz",
        "/.well-known/jwks.json",
    ],
)
def test_public_endpoints_need_no_token(anon: TestClient, path: str) -> None:
    """Exactly the public endpoints of spec §1.2 (plus health and JWKS) answer without a token."""
    assert anon.get(path).status_code in {200, 204}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/hsm/v2/State/Components/x1000c0s0b0n0"),
        ("POST", "/hsm/v2/State/Components"),
        ("GET", "/hsm/v2/groups"),
        ("GET", "/hsm/v2/memberships"),
        ("GET", "/hsm/v2/Inventory/RedfishEndpoints"),
        ("GET", "/hsm/v2/Inventory/ComponentEndpoints"),
        ("POST", "/hsm/v2/Inventory/EthernetInterfaces"),
        ("GET", "/hsm/v2/partitions"),
    ],
)
def test_everything_else_needs_a_token(anon: TestClient, method: str, path: str) -> None:
    """Protected SMD endpoints answer 401 without a token, before looking at the body."""
    assert anon.request(method, path, json={}).status_code == 401


def test_jwks_verifies_issued_token(app: FastAPI, anon: TestClient) -> None:
    """A token from `pychami token create`'s issuer verifies against the served JWKS (kid = RFC 7638)."""
    jwks = anon.get("/.well-known/jwks.json").json()
    issuer: LocalIssuer = app.state.ctx.issuer
    verifier = TokenVerifier(KeySource(jwks=jwks), issuer.issuer, issuer.audience)
    principal = verifier.verify(issuer.issue("alice", ["smd:read", "bss:write"], 60))
    assert principal.subject == "alice"
    assert principal.has("smd:read") and principal.has("bss:read") and not principal.has("smd:write")


def test_key_is_reused_across_restarts(tmp_path: object) -> None:
    """The signing key is created once in the data directory, mode 0600, and reused."""
    from pathlib import Path

    base = Path(str(tmp_path))
    first = LocalIssuer.load_or_create(base, "i", "a")
    second = LocalIssuer.load_or_create(base, "i", "a")
    assert first.kid == second.kid
    assert (base / "keys" / "jwt-signing-key.pem").stat().st_mode & 0o777 == 0o600


def test_unknown_kid_is_refused(app: FastAPI) -> None:
    """A token whose kid is not in the JWKS is unauthorized."""
    issuer: LocalIssuer = app.state.ctx.issuer
    verifier = TokenVerifier(KeySource(jwks={"keys": []}), issuer.issuer, issuer.audience)
    with pytest.raises(Unauthorized):
        verifier.verify(issuer.issue("x", [], 60))


def test_scope_parsing_and_ttl() -> None:
    """Scopes come as strings or lists (scope/scp), Hydra's dots equal colons; TTLs parse."""
    assert scopes_from_claims({"scope": "smd.read bss:write"}) == {"smd:read", "bss:write"}
    assert scopes_from_claims({"scp": ["admin"]}) == {"admin"}
    assert Principal("a", frozenset({"admin"})).has("cloud-init:write")
    assert parse_ttl("90") == 90 and parse_ttl("15m") == 900 and parse_ttl("1h") == 3600
    assert parse_ttl("7d") == 7 * 86400
    for bad in ("", "h", "-1h", "1y"):
        with pytest.raises(ValueError):
            parse_ttl(bad)
