"""Config parsing, validation errors, CLI overrides and the build plan (fast, no root needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from pychami.cli.imagebuild import main
from pychami.core.errors import ConfigError
from pychami.imagebuild.config import load_config, parse_config
from pychami.imagebuild.planner import Kind, plan, render

SCENARIO = Path(__file__).parent / "scenario"
FILL = {
    "${DEBIAN_MIRROR}": "http://deb.debian.org/debian",
    "${REGISTRY}": "127.0.0.1:5000",
    "${S3_ENDPOINT}": "http://127.0.0.1:8333",
}


def scenario(name: str) -> dict[str, Any]:
    text = (SCENARIO / f"{name}.yaml").read_text()
    for k, v in FILL.items():
        text = text.replace(k, v)
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def base(**options: Any) -> dict[str, Any]:
    opts = {"layer_type": "base", "pkg_manager": "dnf", "name": "img"}
    opts.update(options)
    return {"options": opts}


def error_of(raw: Any) -> str:
    with pytest.raises(ConfigError) as exc:
        parse_config(raw)
    return exc.value.detail


def test_rocky_base_parses_and_plans() -> None:
    """The upstream tutorial's rocky-base.yaml is accepted and planned in upstream's order."""
    cfg = load_config(SCENARIO / "rocky-base.yaml")
    assert cfg.options.publish_tags == ["9.5"]
    assert cfg.options.pkg_manager == "dnf"
    assert [r.alias for r in cfg.repos] == ["Rocky_9_BaseOS", "Rocky_9_AppStream"]
    assert cfg.repos[0].gpg == "https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9"
    assert cfg.package_groups == ["Minimal Install", "Development Tools"]
    assert cfg.cmds[0].loglevel == "INFO"
    steps = plan(cfg)
    assert [s.kind for s in steps] == [
        Kind.PARENT, Kind.MOUNT, Kind.PACKAGES, Kind.CMDS, Kind.LAYER, Kind.PUBLISH,
    ]  # fmt: skip
    text = render(cfg, steps)
    assert "package groups: Minimal Install, Development Tools" in text
    assert "registry demo.openchami.cluster:5000/demo/rocky-base:9.5" in text
    assert "dnf --installroot" in text


@pytest.mark.parametrize("name", ["debian-base", "debian-compute", "debian-debug"])
def test_scenario_debian_configs_parse(name: str) -> None:
    """Each scenario apt config is valid once its ${...} placeholders are filled."""
    cfg = parse_config(scenario(name))
    assert cfg.options.pkg_manager == "apt"
    assert cfg.options.publish_tags == ["12"]
    kinds = [s.kind for s in plan(cfg)]
    assert kinds[0] is Kind.PARENT
    assert (Kind.SQUASHFS in kinds) == (name != "debian-base")


def test_publish_tags_string_or_list() -> None:
    """publish_tags takes a string or a list; the default is ['latest']."""
    assert parse_config(base(publish_tags="9")).options.publish_tags == ["9"]
    assert parse_config(base(publish_tags=["a", "b"])).options.publish_tags == ["a", "b"]
    assert parse_config(base()).options.publish_tags == ["latest"]


def test_every_upstream_key_is_accepted() -> None:
    """All documented upstream keys (spec 7.1) validate together."""
    raw = base(
        publish_local=True,
        publish_registry="reg.example:5000/demo",
        registry_opts_push=["--tls-verify=false"],
        registry_opts_pull=["--tls-verify=false"],
        publish_s3="http://127.0.0.1:9000",
        s3_prefix="compute/base/",
        s3_bucket="boot-images",
        proxy="http://proxy:3128",
        log_level="DEBUG",
        labels={"a": "b"},
        scap_benchmark=False,
        oval_eval=False,
        install_scap=False,
        gpgcheck=False,
    )
    raw.update(
        repos=[{"alias": "r", "url": "http://x/", "gpg": "http://x/key", "priority": 5}],
        modules={"enable": ["nodejs:18"], "disable": ["php"]},
        package_groups=["Minimal Install"],
        packages=["kernel"],
        remove_packages=["nano"],
        copyfiles=[{"src": "a.conf", "dest": "/etc/a.conf", "opts": ["--chown=0:0"]}],
        cmds=[{"cmd": "true", "loglevel": "WARN", "buildah_extra_args": ["--net=host"]}],
        openscap=[],
    )
    cfg = parse_config(raw)
    assert cfg.copyfiles[0].dest == "/etc/a.conf"
    assert cfg.cmds[0].loglevel == "WARN"
    assert cfg.modules["enable"] == ["nodejs:18"]


def test_ansible_layer_keys() -> None:
    """An ansible layer takes groups/playbooks as string or list, inventory and vars."""
    cfg = parse_config(
        {
            "options": {
                "layer_type": "ansible",
                "name": "cfg",
                "parent": "reg.example/demo/base:1",
                "groups": "compute",
                "playbooks": ["a.yml", "b.yml"],
                "vars": {"x": 1},
                "ansible_verbosity": 2,
            }
        }
    )
    assert cfg.options.groups == ["compute"]
    assert [s.kind for s in plan(cfg)][-2:] == [Kind.ANSIBLE, Kind.LAYER]


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (base(colour="red"), "options.colour: unknown key"),
        ({"options": {"layer_type": "base", "pkg_manager": "dnf"}, "extra": 1}, "extra: unknown key"),
        (base(publish_tags=5), "options.publish_tags"),
        (base(publish_tags=["bad tag"]), "options.publish_tags"),
        (base(publish_local="maybe"), "options.publish_local"),
        ({**base(), "packages": "vim"}, "packages"),
        ({**base(), "cmds": [{"command": "x"}]}, "cmds.0.command: unknown key"),
        ({**base(), "copyfiles": [{"src": "a", "destination": "/b"}]}, "copyfiles.0"),
        ({**base(), "copyfiles": [{"src": "a", "dest": "/b", "opts": ["--from=x"]}]}, "copyfiles.0.opts"),
        ({"options": {"layer_type": "base"}}, "options.pkg_manager: required"),
        ({"options": {"layer_type": "image", "pkg_manager": "dnf"}}, "options.layer_type"),
        ({"options": {"pkg_manager": "dnf"}}, "options.layer_type"),
        (base(pkg_manager="apt"), "repos: a scratch apt base needs a repo"),
        (
            {**base(pkg_manager="apt"), "repos": [{"alias": "d", "url": "http://m/debian"}]},
            "repos.0.suite: required",
        ),
        (
            {**base(pkg_manager="apt", parent="r.x/a:1"), "package_groups": ["x"]},
            "package_groups: not supported",
        ),
        ({**base(), "repos": [{"alias": "r", "url": "http://x", "suite": "s"}]}, "repos.0.suite: only valid"),
        ({"options": {"layer_type": "ansible", "parent": "r.x/a:1"}}, "options.playbooks: required"),
        ({"options": {"layer_type": "ansible", "playbooks": "p.yml"}}, "options.parent"),
        (base(playbooks=["p.yml"]), "options.playbooks: only valid"),
        (base(registry_opts_push=["--tls-verify=false"]), "options.registry_opts_push"),
        (base(publish_registry="${REGISTRY}/demo"), "options.publish_registry: placeholder ${REGISTRY}"),
        (base(publish_s3="127.0.0.1:9000"), "options.publish_s3"),
        (base(squashfs_compression="brotli"), "options.squashfs_compression"),
        (base(squashfs_compression="xz", squashfs_compression_level=3), "options.squashfs_compression_level"),
        (base(name="Bad Name"), "options.name"),
        ({**base(), "modules": {"frobnicate": ["x"]}}, "modules"),
        ([1, 2], "config"),
        ({"options": ["x"]}, "options: must be a mapping"),
    ],
)
def test_config_errors_name_the_key(raw: Any, needle: str) -> None:
    """Unknown keys, wrong types and impossible combinations are errors naming the key."""
    assert needle in error_of(raw)


def test_cmd_placeholders_are_left_to_the_shell() -> None:
    """${...} inside cmds is shell syntax, not an unexpanded placeholder."""
    cfg = parse_config({**base(), "cmds": [{"cmd": "echo ${HOME}"}]})
    assert cfg.cmds[0].cmd == "echo ${HOME}"


def test_overrides_follow_upstream_precedence() -> None:
    """CLI flags override the file except publish_s3/publish_registry, where the file wins."""
    raw = base(publish_s3="http://a:9000", name="fromfile")
    cfg = parse_config(
        raw,
        {
            "name": "fromflag",
            "publish_s3": "http://b:9000",
            "publish_registry": "r.x/demo",
            "publish_tags": ["x"],
        },
    )
    assert cfg.options.name == "fromflag"
    assert cfg.options.publish_s3 == "http://a:9000"
    assert cfg.options.publish_registry == "r.x/demo"
    assert cfg.options.publish_tags == ["x"]


def test_cli_plan_prints_steps(tmp_path: Path) -> None:
    """`image-build --config rocky-base.yaml --plan --publish-tags a b` prints the plan with both tags."""
    res = CliRunner().invoke(
        main, ["--config", str(SCENARIO / "rocky-base.yaml"), "--plan", "--publish-tags", "a b"]
    )
    assert res.exit_code == 0, res.output
    assert "rocky-base:a" in res.output
    assert "rocky-base:b" in res.output


def test_cli_reports_config_errors(tmp_path: Path) -> None:
    """A bad config exits 2 with `Error: <key>: ...` on stderr and no traceback."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("options:\n  layer_type: base\n  pkg_manager: apt\n  bogus: 1\n")
    res = CliRunner().invoke(main, ["--config", str(cfg), "--plan"])
    assert res.exit_code == 2
    assert "Error: options.bogus: unknown key" in res.stderr
    assert "Traceback" not in res.output
    missing = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr


def test_cli_needs_s3_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """publish_s3 without S3_ACCESS/S3_SECRET fails before anything is built."""
    monkeypatch.delenv("S3_ACCESS", raising=False)
    monkeypatch.delenv("S3_SECRET", raising=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(base(publish_s3="http://127.0.0.1:1")))
    res = CliRunner().invoke(main, ["--config", str(cfg), "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 2
    assert "S3_ACCESS and S3_SECRET" in res.stderr
