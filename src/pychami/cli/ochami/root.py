"""The ``ochami`` root command: global flags, ``version``, ``completion``, and the error boundary."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any

import click

from pychami import __version__
from pychami.cli.ochami.env import Env, Hooks
from pychami.core.errors import PychamiError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


class OchamiGroup(click.Group):
    """A group that turns every expected failure into ``Error: ...`` on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PychamiError as exc:
            click.echo(f"Error: {exc.detail}", err=True)
            ctx.exit(exc.exit_code)
        finally:
            env = ctx.find_object(Env)
            if env is not None:
                env.close()


@click.group(cls=OchamiGroup, context_settings=CONTEXT)
@click.option(
    "-c",
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Use only this config file (no system/user merge).",
)
@click.option("-C", "--cluster", "cluster_name", metavar="NAME", help="Cluster from the config to talk to.")
@click.option("-u", "--cluster-uri", metavar="URI", help="Base URI of the cluster (overrides the config).")
@click.option("--cacert", type=click.Path(dir_okay=False), help="CA certificate (PEM) to verify TLS with.")
@click.option("-k", "--insecure", is_flag=True, help="Do not verify TLS certificates.")
@click.option("-t", "--token", metavar="TOKEN", help="Access token (default: $<CLUSTER>_ACCESS_TOKEN).")
@click.option("--no-token", is_flag=True, help="Send no access token.")
@click.option("-l", "--log-level", type=click.Choice(["info", "warning", "debug"]), help="Log level.")
@click.option("-L", "--log-format", type=click.Choice(["json", "rfc3339", "basic"]), help="Log format.")
@click.option("--ignore-config", is_flag=True, help="Read no config file at all.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging from the start (requests and answers).")
@click.pass_context
def cli(
    ctx: click.Context,
    config_file: Path | None,
    cluster_name: str | None,
    cluster_uri: str | None,
    cacert: str | None,
    insecure: bool,
    token: str | None,
    no_token: bool,
    log_level: str | None,
    log_format: str | None,
    ignore_config: bool,
    verbose: bool,
) -> None:
    """ochami: the OpenCHAMI command line, talking to pychami (or upstream OpenCHAMI) services.

    \b
    Examples:
      ochami config cluster set --user --default demo cluster.uri http://127.0.0.1:8081
      export DEMO_ACCESS_TOKEN=$(pychami token create --sub admin)
      ochami smd service status
      ochami discover static -f yaml -d @nodes.yaml
      ochami smd component get | jq '.Components[] | select(.Type == "Node")'
      ochami -u http://127.0.0.1:8081 -C demo smd component get -F table
    """
    hooks = ctx.obj if isinstance(ctx.obj, Hooks) else Hooks()
    env = Env(
        config_file=config_file,
        cluster_name=cluster_name,
        cluster_uri=cluster_uri,
        cacert=cacert,
        insecure=insecure,
        token=token,
        no_token=no_token,
        ignore_config=ignore_config,
        hooks=hooks,
    )
    ctx.obj = env
    try:
        env.apply_log_config(log_level, log_format, verbose)
    except PychamiError:
        # A broken config file must not stop `ochami config ...` from repairing it; commands that
        # need the config will report the error themselves.
        env.log_level = "debug" if verbose else (log_level or "warning")
        env.log_format = log_format or "json"


@cli.command()
def version() -> None:
    """Print the version of this ochami.

    \b
    Example:
      ochami version
    """
    click.echo(f"Version:        {__version__}")
    click.echo("Implementation: pychami")
    click.echo(f"Python:         {platform.python_version()}")
    click.echo(f"Platform:       {sys.platform}/{platform.machine()}")


@cli.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print a shell completion script.

    \b
    Examples:
      ochami completion bash > /etc/bash_completion.d/ochami
      ochami completion zsh > "${fpath[1]}/_ochami"
      ochami completion fish > ~/.config/fish/completions/ochami.fish
      source <(ochami completion bash)
    """
    from click.shell_completion import get_completion_class  # noqa: PLC0415

    cls = get_completion_class(shell)
    assert cls is not None
    comp = cls(cli, {}, "ochami", "_OCHAMI_COMPLETE")
    click.echo(comp.source())
