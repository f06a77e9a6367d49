"""Access tokens: where ochami finds them and the local JWT checks with upstream's messages."""

from __future__ import annotations

import time

import pytest

from pychami.cli.ochami.tokens import TokenError, check, env_var_for, token_from_env
from tests.cli.conftest import Ochami, make_token
from tests.cli.fakesmd import FakeSMD


@pytest.mark.parametrize(
    ("cluster", "var"),
    [
        ("demo", "DEMO_ACCESS_TOKEN"),
        ("my-cluster", "MY_CLUSTER_ACCESS_TOKEN"),
        ("a b-c", "A_B_C_ACCESS_TOKEN"),
    ],
)
def test_env_var_name(cluster: str, var: str) -> None:
    """The variable is the cluster name upper-cased with '-' and ' ' turned into '_'."""
    assert env_var_for(cluster) == var


def test_missing_env_var_message() -> None:
    """A missing variable gives upstream's message."""
    with pytest.raises(TokenError) as exc:
        token_from_env("demo", {})
    assert (
        exc.value.detail
        == 'Environment variable DEMO_ACCESS_TOKEN unset for reading token for cluster "demo"'
    )


def test_valid_token_passes_quietly() -> None:
    """A token with an hour left passes without a warning."""
    assert check(make_token(3600)).warning is None


def test_token_without_exp_passes() -> None:
    """No exp claim means no expiry to check."""
    assert check(make_token(None)).warning is None


def test_short_lived_token_warns() -> None:
    """Under 15 minutes left gives a warning with the time left."""
    warning = check(make_token(600)).warning
    assert warning is not None
    assert warning.startswith("token expires in 9m5") or warning.startswith("token expires in 10m0s")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-jwt", "token is not a valid JWT: expected 3 dot-separated parts, found 1"),
        ("a.b.c", "token is not a valid JWT"),
        (make_token(-120), "token expired at "),
        (make_token(3600, nbf=int(time.time()) + 600), "token is not valid yet: not before "),
        (make_token(3600, iat=int(time.time()) + 600), "token is not valid yet: issued in the future"),
        (make_token(3600, exp="soon"), "claim 'exp' must be a number"),
    ],
)
def test_bad_tokens_are_refused(token: str, message: str) -> None:
    """Not a JWT, expired, nbf or iat in the future: each refused with its own message."""
    with pytest.raises(TokenError, match=message):
        check(token)


def test_cli_sends_bearer_from_env(demo: Ochami, smd: FakeSMD) -> None:
    """Commands that need a token send DEMO_ACCESS_TOKEN as a Bearer token."""
    assert demo("smd", "group", "get").exit_code == 0
    assert smd.calls[-1].auth == f"Bearer {demo.environ['DEMO_ACCESS_TOKEN']}"


def test_flag_token_wins_and_no_token(demo: Ochami, smd: FakeSMD) -> None:
    """--token beats the environment; --no-token sends none."""
    other = make_token(7200)
    demo("-t", other, "smd", "group", "get")
    assert smd.calls[-1].auth == f"Bearer {other}"
    demo("--no-token", "smd", "group", "get")
    assert smd.calls[-1].auth is None


def test_cli_missing_token_fails_before_sending(demo: Ochami, smd: FakeSMD) -> None:
    """Without the variable a token-needing command fails with upstream's message and sends nothing."""
    del demo.environ["DEMO_ACCESS_TOKEN"]
    r = demo("smd", "group", "get")
    assert r.exit_code == 1
    assert (
        r.stderr
        == 'Error: Environment variable DEMO_ACCESS_TOKEN unset for reading token for cluster "demo"\n'
    )
    assert smd.calls == []


def test_public_gets_need_no_token(demo: Ochami, smd: FakeSMD) -> None:
    """component get (no flags), iface get with filters and service status send no token, as upstream."""
    del demo.environ["DEMO_ACCESS_TOKEN"]
    for args in (("component", "get"), ("iface", "get"), ("service", "status")):
        assert demo("smd", *args).exit_code == 0
        assert smd.calls[-1].auth is None


def test_cli_expired_token(demo: Ochami, smd: FakeSMD) -> None:
    """An expired token stops the command before any request."""
    demo.environ["DEMO_ACCESS_TOKEN"] = make_token(-60)
    r = demo("smd", "group", "get")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: token expired at ")
    assert smd.calls == []


def test_cli_warns_on_short_token(demo: Ochami, smd: FakeSMD) -> None:
    """A token about to expire is used, with a warning log line."""
    demo.environ["DEMO_ACCESS_TOKEN"] = make_token(300)
    r = demo("smd", "group", "get")
    assert r.exit_code == 0
    assert '"level":"warn"' in r.stderr
    assert "token expires in" in r.stderr


def test_enable_auth_false_sends_no_token(demo: Ochami, smd: FakeSMD) -> None:
    """A cluster with enable-auth: false needs and sends no token."""
    demo.write(
        demo.user_config,
        {"clusters": [{"name": "demo", "cluster": {"uri": "http://h", "enable-auth": False}}]},
    )
    del demo.environ["DEMO_ACCESS_TOKEN"]
    assert demo("smd", "group", "get").exit_code == 0
    assert smd.calls[-1].auth is None


def test_cluster_uri_without_name_needs_token_flag(ochami: Ochami, smd: FakeSMD) -> None:
    """With only -u there is no cluster name: say how to give a token."""
    ochami.transport = smd.transport()
    r = ochami("-u", "http://h", "smd", "group", "get")
    assert r.exit_code == 1
    assert "pass --token, or name the cluster with -C" in r.stderr
    assert ochami("-u", "http://h", "-C", "demo", "smd", "group", "get").exit_code == 0
