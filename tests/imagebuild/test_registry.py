"""The distribution API client against Debian's real docker-registry: push, tags, pull, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pychami.core.errors import NotFound, Unavailable
from pychami.imagebuild.oci import MT_CONFIG, MT_MANIFEST, BlobStore, Descriptor, make_config, make_manifest
from pychami.imagebuild.oci import write_layer as make_layer
from pychami.imagebuild.registry import Reference, RegistryClient, RegistryOptions
from tests.imagebuild.conftest import Servers

pytestmark = pytest.mark.integration
PLAIN = RegistryOptions(tls_verify=False)


def test_push_list_pull_round_trip(servers: Servers, tmp_path: Path) -> None:
    """A pushed image is listed under both tags and pulls back with identical blobs and labels."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "hello").write_text("hello\n")
    src = BlobStore(tmp_path / "src")
    layer = make_layer(root, src, from_overlay=False)
    cfg = make_config(None, [layer], {"org.openchami.image.name": "tiny"}, "test")
    cfg_digest = src.put_bytes(cfg)
    manifest = make_manifest(Descriptor(MT_CONFIG, cfg_digest, len(cfg)), [layer.descriptor], {})
    host = servers.registry.host
    with RegistryClient(host, PLAIN) as client:
        sizes: list[int] = []
        for digest in (cfg_digest, layer.descriptor.digest):
            client.push_blob("demo/tiny", digest, src.path(digest), sizes.append)
        client.push_blob("demo/tiny", layer.descriptor.digest, src.path(layer.descriptor.digest))  # exists
        for tag in ("1", "latest"):
            client.push_manifest("demo/tiny", tag, manifest, MT_MANIFEST)
        assert client.tags("demo/tiny") == ["1", "latest"]
        assert client.tags("demo/none") == []
        dst = BlobStore(tmp_path / "dst")
        image = client.pull(Reference.parse(f"{host}/demo/tiny:1"), dst)
        assert image.labels == {"org.openchami.image.name": "tiny"}
        assert (
            dst.path(layer.descriptor.digest).read_bytes() == src.path(layer.descriptor.digest).read_bytes()
        )
        assert sum(sizes) == src.path(cfg_digest).stat().st_size + layer.descriptor.size
        with pytest.raises(NotFound):
            client.manifest("demo/tiny", "nope")


def test_plain_http_registry_needs_tls_verify_false(servers: Servers) -> None:
    """With TLS verification on, a plain-HTTP registry is an error that says what to do."""
    with (
        RegistryClient(servers.registry.host, RegistryOptions()) as client,
        pytest.raises(Unavailable, match="--tls-verify=false"),
    ):
        client.tags("demo/tiny")
