"""The root command: version, completion, help everywhere, unknown commands."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from pychami import __version__
from pychami.cli.ochami import cli
from tests.cli.conftest import Ochami


def _walk(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, cmd in group.commands.items():
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, (*path, name))


COMMANDS = list(_walk(cli))


def test_version(ochami: Ochami) -> None:
    """`ochami version` prints the version first, as upstream's `Version:` line."""
    r = ochami("version")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].split() == ["Version:", __version__]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion(ochami: Ochami, shell: str) -> None:
    """`ochami completion SHELL` prints the completion script for that shell."""
    r = ochami("completion", shell)
    assert r.exit_code == 0
    assert "_OCHAMI_COMPLETE" in r.stdout
    assert f"{shell}_complete" in r.stdout or f"{shell}_source" in r.stdout or shell in r.stdout


def test_tree_has_the_upstream_commands() -> None:
    """Every command of spec §5.4 (and §2.7, §3.8) exists."""
    paths = {" ".join(p) for p, _ in COMMANDS}
    for expected in [
        "version", "config show", "config set", "config unset", "config cluster set", "config cluster unset",
        "config cluster show", "config cluster delete", "discover static",
        "smd component add", "smd component get", "smd component delete", "smd iface add", "smd iface get",
        "smd iface delete", "smd rfe add", "smd rfe get", "smd rfe delete", "smd compep get",
        "smd compep delete", "smd group add", "smd group get", "smd group update", "smd group delete",
        "smd group member add", "smd group member delete", "smd group member get", "smd group member set",
        "smd service status", "smd status",
        "bss boot params get", "bss boot params set", "bss boot params add", "bss boot params update",
        "bss boot params delete", "bss boot image set", "bss boot script get", "bss hosts get",
        "bss dumpstate", "bss history", "bss service status", "bss service version", "bss status",
        "cloud-init defaults get", "cloud-init defaults set", "cloud-init group add", "cloud-init group set",
        "cloud-init group get raw", "cloud-init group get meta-data", "cloud-init group get config",
        "cloud-init group delete", "cloud-init group render", "cloud-init node set",
        "cloud-init node get meta-data", "cloud-init node get user-data", "cloud-init node get vendor-data",
        "cloud-init node get group", "cloud-init service status", "cloud-init service version",
        "completion",
    ]:  # fmt: skip
        assert expected in paths


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_help(ochami: Ochami, path: tuple[str, ...], cmd: click.Command) -> None:
    """Every command documents itself and `--help` works without any config or server."""
    assert cmd.help, f"ochami {' '.join(path)} has no help text"
    r = ochami(*path, "--help")
    assert r.exit_code == 0
    assert r.stdout.startswith("Usage: ")


def test_top_level_groups_show_examples(ochami: Ochami) -> None:
    """The root and each service group's help carries examples."""
    for args in ([], ["smd"], ["bss"], ["cloud-init"], ["config"], ["discover", "static"]):
        assert "Example" in ochami(*args, "--help").stdout


def test_unknown_command(ochami: Ochami) -> None:
    """An unknown command is a usage error (exit 2)."""
    r = ochami("smd", "nope")
    assert r.exit_code == 2
    assert "No such command 'nope'" in r.stderr
