"""Settings: precedence, validation messages, derived values."""

from __future__ import annotations

from pathlib import Path

import pytest

from pychami.core.errors import ConfigError
from pychami.core.settings import load_settings, split_listen


def test_defaults() -> None:
    """Embedded defaults: SQLite in ./pychami-data, 127.0.0.1:8081, local issuer."""
    s = load_settings()
    assert s.listen == "127.0.0.1:8081"
    assert s.database_url.endswith("pychami-data/pychami.db")
    assert s.base_url == "http://127.0.0.1:8081"
    assert s.auth.mode.value == "local"


def test_precedence_flags_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Explicit values beat PYCHAMI_* env, which beats the config file."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("listen: 127.0.0.1:9000\nlog-level: debug\nadvertise_url: http://a:1\n")
    monkeypatch.setenv("PYCHAMI_LISTEN", "127.0.0.1:9001")
    assert load_settings(cfg).listen == "127.0.0.1:9001"
    assert load_settings(cfg, listen="127.0.0.1:9002").listen == "127.0.0.1:9002"
    s = load_settings(cfg)
    assert s.log_level == "DEBUG" and s.base_url == "http://a:1"
    monkeypatch.setenv("PYCHAMI_AUTH__MODE", "external")
    monkeypatch.setenv("PYCHAMI_AUTH__JWKS_URL", "http://127.0.0.1:1/keys")
    assert load_settings().auth.jwks_url == "http://127.0.0.1:1/keys"


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"listen": "nohost"}, "listen: listen address 'nohost' must be HOST:PORT"),
        ({"listen": "127.0.0.1:99999"}, "out of range"),
        ({"db": "mysql://x"}, "unsupported database URL scheme"),
        ({"auth": {"mode": "external"}}, "needs auth.jwks_url"),
        ({"auth": {"mode": "disabled"}}, "set allow_insecure"),
        ({"log_level": "LOUD"}, "unknown log level"),
        ({"nonsense": 1}, "nonsense: Extra inputs are not permitted"),
    ],
)
def test_invalid_settings_name_the_key(overrides: dict[str, object], needle: str) -> None:
    """Every invalid setting gives a ConfigError naming the setting."""
    with pytest.raises(ConfigError) as err:
        load_settings(**overrides)
    assert needle in err.value.detail


def test_bad_config_file(tmp_path: Path) -> None:
    """Unreadable, non-YAML and non-mapping config files are clear errors."""
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)
    bad.write_text("- 1\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_settings(bad)


def test_postgres_url_uses_psycopg() -> None:
    """postgres:// URLs are rewritten for the psycopg 3 driver; IPv6 listen addresses parse."""
    assert load_settings(db="postgres://u@h/db").database_url == "postgresql+psycopg://u@h/db"
    assert split_listen("[::1]:8081") == ("::1", 8081)
    assert load_settings(listen="[::1]:8081").base_url == "http://[::1]:8081"
