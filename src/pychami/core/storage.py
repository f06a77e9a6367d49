"""Object stores for boot artifacts: a local directory (served by pychami) or an S3 endpoint.

Keys are S3 keys (``efi-images/compute/base/vmlinuz-6.1.0-50-amd64``). The local store keeps object
``<bucket>/<key>`` at ``<root>/<bucket>/<key>``; a write goes to a temporary file in the same directory
and is renamed into place, so a reader never sees a partial object. The server serves this tree under
``/boot-images/...`` (bucket ``boot-images``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from pychami.core.errors import BadRequest, Unavailable

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object."""

    key: str
    size: int


def check_key(key: str) -> str:
    """Refuse keys that could escape the store (absolute, ``..``, empty parts)."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or any(p in ("..", ".") for p in parts) or "//" in key:
        raise BadRequest(f"invalid object key {key!r}")
    return key


class ObjectStore(Protocol):
    """Where boot artifacts are published."""

    bucket: str

    def put_file(
        self, key: str, path: Path, progress: Progress | None = None, sha256: str | None = None
    ) -> None:
        """Store ``path`` under ``key`` (replacing it), reporting bytes sent to ``progress``.

        ``sha256`` (hex), when given, is recorded so that :meth:`sha256` can tell an unchanged object.
        """

    def sha256(self, key: str) -> str | None:
        """The recorded sha256 of ``key`` (None when absent or unknown)."""

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""

    def delete(self, key: str) -> None:
        """Remove ``key``; missing keys are not an error."""

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Every object whose key starts with ``prefix``, sorted by key."""

    def url(self, key: str) -> str:
        """Where a client finds ``key`` (for logs and boot parameters)."""


class LocalObjectStore:
    """A directory tree ``<root>/<bucket>/<key>``."""

    def __init__(self, root: Path, bucket: str = "boot-images") -> None:
        self.root = root
        self.bucket = bucket

    def path(self, key: str) -> Path:
        """The file that holds ``key``."""
        return self.root / self.bucket / check_key(key)

    def put_file(
        self, key: str, path: Path, progress: Progress | None = None, sha256: str | None = None
    ) -> None:
        """Copy ``path`` to a temporary file next to the target, then rename it into place."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                while chunk := src.read(4 * 1024 * 1024):
                    out.write(chunk)
                    if progress:
                        progress(len(chunk))
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def sha256(self, key: str) -> str | None:
        """Hash of the stored file."""
        path = self.path(key)
        if not path.is_file():
            return None
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(4 * 1024 * 1024):
                h.update(chunk)
        return h.hexdigest()

    def exists(self, key: str) -> bool:
        """Whether the file exists."""
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file."""
        self.path(key).unlink(missing_ok=True)

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Walk the bucket directory."""
        base = self.root / self.bucket
        out = []
        if base.is_dir():
            for p in base.rglob("*"):
                if p.is_file() and not p.name.startswith(".tmp-"):
                    key = p.relative_to(base).as_posix()
                    if key.startswith(prefix):
                        out.append(ObjectInfo(key, p.stat().st_size))
        return sorted(out, key=lambda o: o.key)

    def url(self, key: str) -> str:
        """A file path (the server maps it to ``/boot-images/<key>``)."""
        return str(self.path(key))


class S3ObjectStore:
    """An S3 bucket behind ``endpoint`` (path-style addressing, TLS not verified, as upstream)."""

    def __init__(
        self, endpoint: str, bucket: str, access_key: str, secret_key: str, *, verify: bool = False
    ) -> None:
        import boto3  # noqa: PLC0415 - slow import, only when S3 is used
        from botocore.config import Config  # noqa: PLC0415

        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self._s3: Any = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            verify=verify,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )
        self._bucket_checked = False

    def _error(self, exc: Exception) -> Unavailable:
        return Unavailable(f"S3 {self.endpoint} bucket {self.bucket}: {exc}")

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        if self._bucket_checked:
            return
        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self._s3.create_bucket(Bucket=self.bucket)
            except (ClientError, BotoCoreError) as exc:
                raise self._error(exc) from None
        except BotoCoreError as exc:
            raise self._error(exc) from None
        self._bucket_checked = True

    def put_file(
        self, key: str, path: Path, progress: Progress | None = None, sha256: str | None = None
    ) -> None:
        """Upload (multipart for big files) with boto3's transfer manager; sha256 goes in the metadata."""
        from boto3.s3.transfer import TransferConfig  # noqa: PLC0415
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        self.ensure_bucket()
        try:
            self._s3.upload_file(
                str(path),
                self.bucket,
                check_key(key),
                Callback=progress,
                ExtraArgs={"Metadata": {"sha256": sha256}} if sha256 else None,
                Config=TransferConfig(multipart_chunksize=32 * 1024 * 1024, max_concurrency=4),
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from None

    def sha256(self, key: str) -> str | None:
        """The ``x-amz-meta-sha256`` recorded at upload."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            head = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return None
        value = (head.get("Metadata") or {}).get("sha256")
        return str(value) if value else None

    def exists(self, key: str) -> bool:
        """HEAD the object."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            return False
        return True

    def delete(self, key: str) -> None:
        """DELETE the object."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            self._s3.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._error(exc) from None

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """ListObjectsV2, all pages."""
        out = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                out.append(ObjectInfo(obj["Key"], int(obj["Size"])))
        return sorted(out, key=lambda o: o.key)

    def url(self, key: str) -> str:
        """``<endpoint>/<bucket>/<key>`` (path style)."""
        return f"{self.endpoint}/{self.bucket}/{key}"
