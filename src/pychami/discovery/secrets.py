"""BMC credentials encrypted at rest with a master key (AES-256-GCM, per-ID keys derived by HKDF-SHA256).

The store is a JSON file ``{"<id>": "<base64(nonce || ciphertext)>"}``. The master key is 32 random bytes
in hex (``magellan secrets generatekey``), normally given as ``MASTER_KEY``. Each ID gets its own key
(HKDF info = the ID) and the ID is also the GCM associated data, so a value moved to another ID fails to
decrypt instead of silently granting the wrong credentials. The ID ``default`` is the fallback credential.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets as pysecrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from pychami.core.errors import BadRequest, ConfigError, NotFound
from pychami.discovery.redfish import Credentials

DEFAULT_ID = "default"
SALT = b"magellan-secrets-v1"


def generate_key() -> str:
    """A new random master key, hex-encoded."""
    return pysecrets.token_hex(32)


def parse_master_key(text: str | None) -> bytes:
    """Decode the hex master key; a clear error when it is missing or malformed."""
    if not text:
        raise ConfigError("no master key: set MASTER_KEY (create one with 'magellan secrets generatekey')")
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise ConfigError("MASTER_KEY is not hex") from exc
    if len(key) < 16:
        raise ConfigError("MASTER_KEY is too short: use at least 16 bytes (32 hex digits)")
    return key


def parse_secret(value: str, fmt: str) -> Credentials:
    """Read ``user:pass`` (basic), ``{"username":..,"password":..}`` (json) or base64 of either."""
    text = value
    if fmt == "base64":
        try:
            text = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadRequest("secret is not valid base64") from exc
        fmt = "json" if text.lstrip().startswith("{") else "basic"
    if fmt == "json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise BadRequest(f"secret is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("username"), str):
            raise BadRequest('JSON secret needs {"username": "...", "password": "..."}')
        return Credentials(data["username"], str(data.get("password", "")))
    if fmt == "basic":
        if ":" not in text:
            raise BadRequest("basic secret must be 'username:password'")
        user, password = text.split(":", 1)
        return Credentials(user, password)
    raise BadRequest(f"unknown secret format {fmt!r} (basic, json or base64)")


class SecretStore:
    """The encrypted credentials file at ``path``."""

    def __init__(self, path: Path, master_key: bytes) -> None:
        self.path = path
        self._master = master_key

    def _key(self, secret_id: str) -> AESGCM:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=secret_id.encode())
        return AESGCM(hkdf.derive(self._master))

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except ValueError as exc:
            raise ConfigError(f"secrets file {self.path} is not JSON") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"secrets file {self.path} must hold a JSON object")
        return {str(k): str(v) for k, v in data.items()}

    def _save(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
        tmp.replace(self.path)

    def store(self, secret_id: str, creds: Credentials) -> None:
        """Encrypt and save the credentials of ``secret_id`` (replacing any earlier value)."""
        if not secret_id:
            raise BadRequest("secret id must not be empty")
        plain = json.dumps({"username": creds.username, "password": creds.password}).encode()
        nonce = pysecrets.token_bytes(12)
        blob = nonce + self._key(secret_id).encrypt(nonce, plain, secret_id.encode())
        data = self._load()
        data[secret_id] = base64.b64encode(blob).decode()
        self._save(data)

    def retrieve(self, secret_id: str) -> Credentials:
        """Decrypt the credentials stored under ``secret_id`` exactly (no fallback)."""
        data = self._load()
        if secret_id not in data:
            raise NotFound(f"no secret stored for {secret_id!r}")
        try:
            blob = base64.b64decode(data[secret_id])
            plain = self._key(secret_id).decrypt(blob[:12], blob[12:], secret_id.encode())
        except (InvalidTag, ValueError, binascii.Error) as exc:
            raise ConfigError(f"cannot decrypt the secret of {secret_id!r}: wrong MASTER_KEY?") from exc
        doc = json.loads(plain)
        return Credentials(str(doc["username"]), str(doc["password"]))

    def lookup(self, *ids: str) -> Credentials | None:
        """The first stored credential among ``ids``, then ``default``; None when there is none."""
        data = self._load()
        for secret_id in (*ids, DEFAULT_ID):
            if secret_id and secret_id in data:
                return self.retrieve(secret_id)
        return None

    def ids(self) -> list[str]:
        """Stored IDs, sorted."""
        return sorted(self._load())

    def remove(self, secret_id: str) -> None:
        """Delete one secret."""
        data = self._load()
        if secret_id not in data:
            raise NotFound(f"no secret stored for {secret_id!r}")
        del data[secret_id]
        self._save(data)
