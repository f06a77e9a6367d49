"""A small OCI distribution API client (pull and push) over httpx.

Understands buildah-style options: ``--tls-verify=false`` (HTTPS without verification, falling back to
plain HTTP when the registry does not speak TLS, as buildah/skopeo do) and ``--creds=user:pass``.
Bearer-token challenges (``WWW-Authenticate: Bearer realm=...``) and basic auth are handled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pychami.core.errors import ConfigError, NotFound, PychamiError, Unavailable
from pychami.imagebuild.oci import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    MT_INDEX,
    MT_MANIFEST,
    BlobStore,
    Image,
    ImageError,
    _HashingWriter,
)
from pychami.imagebuild.progress import ProgressFn

ACCEPT = ", ".join([MT_MANIFEST, MT_INDEX, DOCKER_MANIFEST, DOCKER_LIST])
CHUNK = 1024 * 1024


class RegistryError(PychamiError):
    """The registry refused or failed a request."""


@dataclass(frozen=True)
class Reference:
    """``host[:port]/repository[:tag|@digest]``."""

    host: str
    repository: str
    tag: str

    @classmethod
    def parse(cls, ref: str, default_tag: str = "latest") -> Reference:
        """Split a reference; the first component must be a host (contains '.' or ':' or is localhost)."""
        ref = ref.removeprefix("docker://")
        host, _, rest = ref.partition("/")
        if not rest or not ("." in host or ":" in host or host == "localhost"):
            raise ConfigError(f"{ref!r} is not a registry reference (host[:port]/name[:tag])")
        if "@" in rest:
            repo, _, tag = rest.partition("@")
        else:
            m = re.fullmatch(r"(.+?)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?", rest)
            assert m is not None
            repo, tag = m.group(1), m.group(2) or default_tag
        return cls(host, repo, tag)

    def __str__(self) -> str:
        sep = "@" if self.tag.startswith("sha256:") else ":"
        return f"{self.host}/{self.repository}{sep}{self.tag}"


@dataclass(frozen=True)
class RegistryOptions:
    """Parsed ``registry_opts_push`` / ``registry_opts_pull``."""

    tls_verify: bool = True
    creds: tuple[str, str] | None = None

    @classmethod
    def parse(cls, opts: list[str], key: str) -> RegistryOptions:
        """Accept ``--tls-verify[=bool]`` and ``--creds=user:pass``; anything else is an error naming key."""
        tls, creds = True, None
        for opt in opts:
            name, eq, value = opt.partition("=")
            if name == "--tls-verify":
                if eq and value.lower() not in ("true", "false"):
                    raise ConfigError(f"options.{key}: {opt!r} needs true or false")
                tls = not eq or value.lower() == "true"
            elif name == "--creds" and ":" in value:
                user, _, pw = value.partition(":")
                creds = (user, pw)
            else:
                raise ConfigError(f"options.{key}: unsupported option {opt!r} (use --tls-verify=, --creds=)")
        return cls(tls, creds)


class RegistryClient:
    """Pull and push images of one registry host."""

    def __init__(self, host: str, opts: RegistryOptions, timeout: float = 60.0) -> None:
        self.host = host
        self.opts = opts
        self.http = httpx.Client(verify=opts.tls_verify, timeout=timeout, follow_redirects=True)
        self._base: str | None = None
        self._token: str | None = None

    def close(self) -> None:
        """Release connections."""
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base(self) -> str:
        """``https://host`` or, with --tls-verify=false and no TLS there, ``http://host``."""
        if self._base is None:
            try:
                self.http.get(f"https://{self.host}/v2/")
                self._base = f"https://{self.host}"
            except httpx.TransportError as exc:
                if self.opts.tls_verify:
                    raise Unavailable(
                        f"registry {self.host}: {exc} (use --tls-verify=false for a plain-HTTP registry)"
                    ) from None
                self._base = f"http://{self.host}"
        return self._base

    def _auth(self, resp: httpx.Response) -> bool:
        challenge = resp.headers.get("www-authenticate", "")
        if challenge.lower().startswith("bearer"):
            params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
            if "realm" not in params:
                return False
            query = {k: v for k, v in params.items() if k in ("service", "scope")}
            auth = httpx.BasicAuth(*self.opts.creds) if self.opts.creds else None
            r = self.http.get(params["realm"], params=query, auth=auth)
            if r.status_code != 200:
                return False
            body = r.json()
            self._token = body.get("token") or body.get("access_token")
            return bool(self._token)
        if challenge.lower().startswith("basic") and self.opts.creds:
            self.http.auth = httpx.BasicAuth(*self.opts.creds)
            return True
        return False

    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        if not url.startswith("http"):
            url = self.base + url
        for _ in range(2):
            headers = dict(kw.pop("headers", {}) or {})
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            try:
                resp = self.http.request(method, url, headers=headers, **kw)
            except httpx.TransportError as exc:
                raise Unavailable(f"registry {self.host}: {exc}") from None
            kw["headers"] = headers
            if resp.status_code == 401 and self._auth(resp):
                continue
            return resp
        return resp

    # -- pull ------------------------------------------------------------------------------------------

    def manifest(self, repo: str, ref: str) -> tuple[str, dict[str, Any], bytes]:
        """(digest, manifest, raw bytes) of ``repo:ref``; an index is resolved to linux/amd64."""
        resp = self._request("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
        if resp.status_code == 404:
            raise NotFound(f"image {self.host}/{repo}:{ref} not found")
        if resp.status_code != 200:
            raise RegistryError(f"GET manifest {repo}:{ref}: HTTP {resp.status_code} {resp.text[:200]}")
        raw = resp.content
        doc: dict[str, Any] = json.loads(raw)
        digest = resp.headers.get("docker-content-digest") or ""
        if doc.get("mediaType") in (MT_INDEX, DOCKER_LIST) or "manifests" in doc:
            for m in doc.get("manifests", []):
                plat = m.get("platform") or {}
                if plat.get("os", "linux") == "linux" and plat.get("architecture", "amd64") == "amd64":
                    return self.manifest(repo, m["digest"])
            raise ImageError(f"{repo}:{ref} has no linux/amd64 image")
        if not digest:
            import hashlib  # noqa: PLC0415

            digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        return digest, doc, raw

    def fetch_blob(
        self, repo: str, digest: str, blobs: BlobStore, progress: ProgressFn | None = None
    ) -> Path:
        """Download a blob into ``blobs`` (verifying its digest) unless it is there already."""
        if blobs.has(digest):
            return blobs.path(digest)
        fh, tmp = blobs.tmpfile()
        try:
            with fh:
                writer = _HashingWriter(fh, progress)
                url = self.base + f"/v2/{repo}/blobs/{digest}"
                headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
                with self.http.stream("GET", url, headers=headers) as resp:
                    if resp.status_code == 401 and self._auth(resp):
                        resp.close()
                        return self.fetch_blob(repo, digest, blobs, progress)
                    if resp.status_code != 200:
                        raise RegistryError(f"GET blob {digest}: HTTP {resp.status_code}")
                    for chunk in resp.iter_bytes(CHUNK):
                        writer.write(chunk)
            if "sha256:" + writer.hash.hexdigest() != digest:
                raise ImageError(f"blob {digest} from {self.host}/{repo} does not match its digest")
            return blobs.adopt(tmp, digest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def pull(self, ref: Reference, blobs: BlobStore, progress: ProgressFn | None = None) -> Image:
        """Manifest, config and every layer of ``ref`` into ``blobs``."""
        digest, manifest, raw = self.manifest(ref.repository, ref.tag)
        blobs.put_bytes(raw)
        self.fetch_blob(ref.repository, manifest["config"]["digest"], blobs)
        for layer in manifest.get("layers", []):
            self.fetch_blob(ref.repository, layer["digest"], blobs, progress)
        config = blobs.read_json(manifest["config"]["digest"])
        return Image(digest, manifest, config)

    # -- push ------------------------------------------------------------------------------------------

    def has_blob(self, repo: str, digest: str) -> bool:
        """HEAD the blob."""
        return self._request("HEAD", f"/v2/{repo}/blobs/{digest}").status_code == 200

    def push_blob(self, repo: str, digest: str, path: Path, progress: ProgressFn | None = None) -> None:
        """Monolithic upload (POST then PUT with the digest), skipped when the registry has it."""
        if self.has_blob(repo, digest):
            if progress:
                progress(path.stat().st_size)
            return
        resp = self._request("POST", f"/v2/{repo}/blobs/uploads/")
        if resp.status_code not in (201, 202):
            raise RegistryError(f"POST upload {repo}: HTTP {resp.status_code} {resp.text[:200]}")
        location = resp.headers["location"]
        if location.startswith("/"):
            location = self.base + location
        sep = "&" if "?" in location else "?"

        def body() -> Iterator[bytes]:
            with path.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    if progress:
                        progress(len(chunk))
                    yield chunk

        resp = self._request(
            "PUT",
            f"{location}{sep}digest={digest}",
            content=body(),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(path.stat().st_size)},
        )
        if resp.status_code != 201:
            raise RegistryError(f"PUT blob {digest}: HTTP {resp.status_code} {resp.text[:200]}")

    def push_manifest(self, repo: str, tag: str, raw: bytes, media_type: str) -> None:
        """PUT the manifest under ``tag``."""
        resp = self._request(
            "PUT", f"/v2/{repo}/manifests/{tag}", content=raw, headers={"Content-Type": media_type}
        )
        if resp.status_code not in (200, 201):
            raise RegistryError(f"PUT manifest {repo}:{tag}: HTTP {resp.status_code} {resp.text[:200]}")

    def tags(self, repo: str) -> list[str]:
        """``/v2/<repo>/tags/list``."""
        resp = self._request("GET", f"/v2/{repo}/tags/list")
        if resp.status_code == 404:
            return []
        tags: list[str] = resp.json().get("tags") or []
        return sorted(tags)
