"""ochami config files: merging, cluster selection, service URIs and the `config` commands."""

from __future__ import annotations

import yaml

from pychami.cli.ochami import config as cfg
from tests.cli.conftest import Ochami
from tests.cli.fakesmd import FakeSMD


def test_merge_user_wins_and_clusters_merge_by_name() -> None:
    """User keys win, clusters with the same name merge key by key, others are kept from both."""
    system = {
        "log": {"level": "info", "format": "basic"},
        "default-cluster": "demo",
        "clusters": [
            {"name": "demo", "cluster": {"uri": "https://sys", "smd": {"uri": "/smd"}}},
            {"name": "other", "cluster": {"uri": "https://other"}},
        ],
    }
    user = {
        "log": {"level": "debug"},
        "clusters": [
            {"name": "demo", "cluster": {"uri": "https://user"}},
            {"name": "mine", "cluster": {"uri": "https://mine"}},
        ],
    }
    merged = cfg.merge(system, user)
    assert merged["log"] == {"level": "debug", "format": "basic"}
    assert merged["default-cluster"] == "demo"
    demo = cfg.find_cluster(merged, "demo")
    assert demo is not None
    assert demo.uri == "https://user"
    assert demo.services == {"smd": "/smd"}
    assert [c["name"] for c in merged["clusters"]] == ["demo", "other", "mine"]


def test_show_prints_merged_config(ochami: Ochami) -> None:
    """`config show` prints the system file merged with the user file."""
    ochami.write(ochami.system_config, {"default-cluster": "demo", "log": {"level": "info"}})
    ochami.write(ochami.user_config, {"log": {"level": "debug"}})
    result = ochami("config", "show")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout) == {"default-cluster": "demo", "log": {"level": "debug"}}
    assert ochami("config", "show", "log.level").stdout == "debug\n"
    assert (
        ochami("config", "show", "-f", "json").stdout
        == '{"default-cluster":"demo","log":{"level":"debug"}}\n'
    )


def test_show_missing_key_fails(ochami: Ochami) -> None:
    """Asking for an unset key is an error, not an empty line."""
    result = ochami("config", "show", "log.format")
    assert result.exit_code == 1
    assert result.stderr == "Error: key 'log.format' is not set\n"


def test_cluster_set_creates_file_and_default(ochami: Ochami) -> None:
    """The tutorial's `config cluster set --system --default` writes the upstream file shape."""
    result = ochami(
        "config", "cluster", "set", "--system", "--default", "demo", "cluster.uri",
        "https://demo.openchami.cluster:8443",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(ochami.system_config.read_text()) == {
        "clusters": [{"name": "demo", "cluster": {"uri": "https://demo.openchami.cluster:8443"}}],
        "default-cluster": "demo",
    }
    assert not ochami.user_config.exists()


def test_cluster_keys_unset_rename_delete(ochami: Ochami) -> None:
    """Cluster keys can be set, unset, renamed (default follows) and the cluster deleted."""
    assert ochami("config", "cluster", "set", "-d", "demo", "cluster.uri", "http://a").exit_code == 0
    assert ochami("config", "cluster", "set", "demo", "cluster.smd.uri", "/smd").exit_code == 0
    assert ochami("config", "cluster", "set", "demo", "cluster.enable-auth", "false").exit_code == 0
    data = yaml.safe_load(ochami.user_config.read_text())
    assert data["clusters"][0]["cluster"] == {"uri": "http://a", "smd": {"uri": "/smd"}, "enable-auth": False}
    assert ochami("config", "cluster", "show", "demo", "cluster.smd.uri").stdout == "/smd\n"
    assert ochami("config", "cluster", "unset", "demo", "cluster.smd.uri").exit_code == 0
    assert ochami("config", "cluster", "set", "demo", "name", "prod").exit_code == 0
    data = yaml.safe_load(ochami.user_config.read_text())
    assert data["default-cluster"] == "prod"
    assert data["clusters"][0]["cluster"] == {"uri": "http://a", "enable-auth": False}
    assert ochami("config", "cluster", "delete", "prod").exit_code == 0
    assert yaml.safe_load(ochami.user_config.read_text()) == {}


def test_cluster_errors(ochami: Ochami) -> None:
    """Unknown keys, bad booleans and missing clusters are errors naming what is wrong."""
    r = ochami("config", "cluster", "set", "demo", "cluster.foo", "x")
    assert r.exit_code == 1
    assert "unknown cluster key 'cluster.foo'" in r.stderr
    r = ochami("config", "cluster", "set", "demo", "cluster.enable-auth", "maybe")
    assert "cluster.enable-auth must be true or false" in r.stderr
    r = ochami("config", "cluster", "delete", "nope")
    assert r.stderr == "Error: cluster 'nope' not found\n"
    r = ochami("config", "cluster", "unset", "nope", "cluster.uri")
    assert r.stderr == "Error: cluster 'nope' not found\n"


def test_set_unset_global_keys_and_targets(ochami: Ochami) -> None:
    """`config set|unset` edit the user file by default, or --system, or --config FILE."""
    assert ochami("config", "set", "log.level", "debug").exit_code == 0
    assert yaml.safe_load(ochami.user_config.read_text()) == {"log": {"level": "debug"}}
    assert ochami("config", "set", "--system", "default-cluster", "demo").exit_code == 0
    assert yaml.safe_load(ochami.system_config.read_text()) == {"default-cluster": "demo"}
    other = ochami.home / "other.yaml"
    assert ochami("config", "set", "--config", str(other), "log.format", "basic").exit_code == 0
    assert yaml.safe_load(other.read_text()) == {"log": {"format": "basic"}}
    assert ochami("config", "unset", "log.level").exit_code == 0
    assert yaml.safe_load(ochami.user_config.read_text()) == {}
    r = ochami("config", "set", "log.level", "loud")
    assert r.exit_code == 1
    assert "log.level must be one of info, warning, debug" in r.stderr
    r = ochami("config", "set", "--user", "--system", "log.level", "info")
    assert "mutually exclusive" in r.stderr
    r = ochami("config", "unset", "log.level")
    assert r.stderr == "Error: key 'log.level' is not set\n"
    r = ochami("config", "set", "colour", "red")
    assert "unknown config key 'colour'" in r.stderr


def test_broken_config_file_is_reported(ochami: Ochami) -> None:
    """A config file that is not YAML or has the wrong shape fails with its path, exit 2."""
    ochami.user_config.parent.mkdir(parents=True)
    ochami.user_config.write_text("clusters: [\n")
    r = ochami("config", "show")
    assert r.exit_code == 2
    assert f"config file {ochami.user_config} is not valid YAML" in r.stderr
    ochami.user_config.write_text("clusters: {a: 1}\n")
    assert "'clusters' must be a list" in ochami("config", "show").stderr
    ochami.user_config.write_text("- a\n")
    assert "must hold a mapping" in ochami("config", "show").stderr


def test_dash_c_uses_one_file_and_ignore_config(ochami: Ochami, smd: FakeSMD) -> None:
    """-c FILE replaces the merge; --ignore-config reads nothing (a URI must then come from -u)."""
    ochami.write(ochami.user_config, {"clusters": [{"name": "demo", "cluster": {"uri": "http://user"}}]})
    only = ochami.home / "only.yaml"
    ochami.write(only, {"clusters": [{"name": "demo", "cluster": {"uri": "http://only"}}]})
    ochami.transport = smd.transport()
    assert ochami("-c", str(only), "smd", "service", "status").exit_code == 0
    assert str(smd.calls[-1].path) == "/hsm/v2/service/ready"
    r = ochami("--ignore-config", "smd", "service", "status")
    assert r.exit_code == 2
    assert "no cluster URI" in r.stderr
    assert ochami("-c", str(ochami.home / "missing.yaml"), "config", "show").exit_code == 2


def test_service_uri_resolution(ochami: Ochami) -> None:
    """Per-service URIs: default base paths, relative overrides, absolute overrides, then --uri wins."""
    seen: list[str] = []

    def record(request):  # type: ignore[no-untyped-def]
        seen.append(str(request.url))
        import httpx

        return httpx.Response(200, json={"code": 0, "message": "HSM is healthy"})

    import httpx

    ochami.transport = httpx.MockTransport(record)
    ochami.write(ochami.user_config, {"clusters": [{"name": "demo", "cluster": {"uri": "http://h:1/"}}]})
    ochami("smd", "service", "status")
    ochami.write(
        ochami.user_config,
        {
            "clusters": [
                {"name": "demo", "cluster": {"uri": "http://h:1", "smd": {"uri": "/apis/smd/hsm/v2"}}}
            ]
        },
    )
    ochami("smd", "service", "status")
    ochami.write(
        ochami.user_config,
        {
            "clusters": [
                {"name": "demo", "cluster": {"uri": "http://h:1", "smd": {"uri": "http://s:2/hsm/v2"}}}
            ]
        },
    )
    ochami("smd", "service", "status")
    ochami("smd", "--uri", "/x/hsm", "service", "status")
    ochami("-u", "http://cli:3", "smd", "service", "status")
    assert seen == [
        "http://h:1/hsm/v2/service/ready",
        "http://h:1/apis/smd/hsm/v2/service/ready",
        "http://s:2/hsm/v2/service/ready",
        "http://h:1/x/hsm/service/ready",
        "http://s:2/hsm/v2/service/ready",
    ]


def test_cluster_selection(ochami: Ochami, smd: FakeSMD) -> None:
    """-C picks a configured cluster; an unknown name is an error; one cluster needs no default."""
    ochami.transport = smd.transport()
    ochami.write(
        ochami.user_config,
        {
            "clusters": [
                {"name": "a", "cluster": {"uri": "http://a"}},
                {"name": "b", "cluster": {"uri": "http://b"}},
            ]
        },
    )
    r = ochami("smd", "service", "status")
    assert r.exit_code == 2
    assert "no cluster URI" in r.stderr
    assert ochami("-C", "b", "smd", "service", "status").exit_code == 0
    r = ochami("-C", "zzz", "smd", "service", "status")
    assert r.stderr == "Error: cluster 'zzz' is not in the configuration\n"
    ochami.write(ochami.user_config, {"clusters": [{"name": "a", "cluster": {"uri": "http://a"}}]})
    assert ochami("smd", "service", "status").exit_code == 0


def test_log_config_and_flags(ochami: Ochami, smd: FakeSMD) -> None:
    """-v logs requests at debug level in the configured format; flags override the config."""
    ochami.transport = smd.transport()
    ochami.write(
        ochami.user_config,
        {"clusters": [{"name": "demo", "cluster": {"uri": "http://h"}}], "log": {"format": "basic"}},
    )
    r = ochami("-v", "smd", "service", "status")
    assert "DBG GET http://h/hsm/v2/service/ready -> 200" in r.stderr
    r = ochami("-l", "debug", "-L", "json", "smd", "service", "status")
    assert '"level":"debug"' in r.stderr
    r = ochami("-l", "debug", "-L", "rfc3339", "smd", "service", "status")
    assert " DBG GET http://h/hsm/v2/service/ready" in r.stderr
    r = ochami("smd", "service", "status")
    assert r.stderr == ""
