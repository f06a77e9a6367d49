"""The cloudinit settings section is validated at start with errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from pychami.cloudinit import settings as ci_settings
from pychami.core.errors import ConfigError
from pychami.core.settings import load_settings


def test_defaults_derive_base_url_from_advertise_url(tmp_path: Path) -> None:
    """Without cloudinit.base_url, vendor-data falls back to <advertise_url>/cloud-init."""
    settings = load_settings(data_dir=tmp_path, advertise_url="http://10.0.0.1:8081/")
    ci, base = ci_settings.load(settings)
    assert base == "http://10.0.0.1:8081/cloud-init"
    assert ci.trusted_proxies == []


def test_values_are_parsed(tmp_path: Path) -> None:
    """CIDRs and the base URL (trailing slash removed) are accepted; dashes in keys too."""
    settings = load_settings(
        data_dir=tmp_path,
        cloudinit={"trusted-proxies": ["10.1.0.0/16", "fd00::1/128"], "base_url": "http://h/ci/"},
    )
    ci, base = ci_settings.load(settings)
    assert [str(n) for n in ci.trusted_proxies] == ["10.1.0.0/16", "fd00::1/128"]
    assert base == "http://h/ci"


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"trusted_proxies": ["not-a-cidr"]}, "trusted_proxies.0"),
        ({"base_url": "ftp://x"}, "base_url"),
        ({"max_config_bytes": 1}, "max_config_bytes"),
        ({"no_such_key": 1}, "no_such_key"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, section: dict[str, object], key: str) -> None:
    """A wrong value stops the start with a ConfigError naming the offending key."""
    with pytest.raises(ConfigError) as err:
        ci_settings.load(load_settings(data_dir=tmp_path, cloudinit=section))
    assert key in err.value.detail
