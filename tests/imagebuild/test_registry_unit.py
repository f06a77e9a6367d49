"""Registry references and buildah-style options (pure parsing, fast)."""

from __future__ import annotations

import pytest

from pychami.core.errors import ConfigError
from pychami.imagebuild.registry import Reference, RegistryOptions


def test_reference_parsing() -> None:
    """host:port/namespace/name:tag splits like buildah's references; the default tag is latest."""
    ref = Reference.parse("demo.openchami.cluster:5000/demo/rocky-base:9.5")
    assert (ref.host, ref.repository, ref.tag) == ("demo.openchami.cluster:5000", "demo/rocky-base", "9.5")
    assert Reference.parse("docker://127.0.0.1:5000/a/b").tag == "latest"
    digest = "sha256:" + "a" * 64
    assert Reference.parse(f"localhost/x@{digest}").tag == digest
    assert str(Reference.parse("r.example/x:1")) == "r.example/x:1"
    with pytest.raises(ConfigError, match="not a registry reference"):
        Reference.parse("debian-base:12")


def test_registry_options() -> None:
    """--tls-verify[=bool] and --creds are understood; anything else is an error naming the key."""
    assert RegistryOptions.parse(["--tls-verify=false"], "registry_opts_push").tls_verify is False
    assert RegistryOptions.parse(["--tls-verify"], "registry_opts_push").tls_verify is True
    assert RegistryOptions.parse(["--creds=u:p"], "registry_opts_pull").creds == ("u", "p")
    with pytest.raises(ConfigError, match=r"options\.registry_opts_pull: unsupported option .--authfile=x."):
        RegistryOptions.parse(["--authfile=x"], "registry_opts_pull")
    with pytest.raises(ConfigError, match="needs true or false"):
        RegistryOptions.parse(["--tls-verify=maybe"], "registry_opts_push")
