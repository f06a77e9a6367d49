"""Payload input (-d string, @file, @-; -f json|json-pretty|yaml), output (-F), HTTP errors, prompts."""

from __future__ import annotations

import json

import pytest
import yaml

from pychami.cli.ochami.io import encode, table
from tests.cli.conftest import Ochami
from tests.cli.fakesmd import FakeSMD

COMP = {"ID": "x1000c0s0b0n0", "Type": "Node", "State": "On", "Enabled": True, "NID": 1, "Role": "Compute"}


def test_encode_sorts_keys_like_upstream() -> None:
    """json is compact with sorted keys; json-pretty indents by 2; yaml is block style, sorted."""
    value = {"b": [1, {"z": 1, "a": "x<y"}], "a": True}
    assert encode(value, "json") == '{"a":true,"b":[1,{"a":"x\\u003cy","z":1}]}'
    assert encode(value, "json-pretty") == (
        '{\n  "a": true,\n  "b": [\n    1,\n    {\n      "a": "x\\u003cy",\n      "z": 1\n    }\n  ]\n}'
    )
    assert encode(value, "yaml") == "a: true\nb:\n- 1\n- a: x<y\n  z: 1"


def test_table_unwraps_collections() -> None:
    """The table unwraps {"Components":[...]} and puts ID first, then sorted columns."""
    out = table({"Components": [COMP, {"ID": "x1000c0s0b1n0", "Type": "Node", "NID": 2}]})
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "ENABLED", "NID", "ROLE", "STATE", "TYPE"]
    assert lines[1].split() == ["x1000c0s0b0n0", "true", "1", "Compute", "On", "Node"]
    assert lines[2].split() == ["x1000c0s0b1n0", "2", "Node"]
    assert table([]) == "(none)"
    long = table([{"ID": "a", "Info": {"k": "v" * 100}}]).splitlines()[1]
    assert long.endswith("...")
    assert len(long.split(None, 1)[1]) == 60
    assert table({"IPAddresses": [{"IPAddress": "1.2.3.4", "Network": "mgmt"}]}).splitlines()[1].split() == [
        "1.2.3.4",
        "mgmt",
    ]


@pytest.mark.parametrize(
    ("fmt", "parse"),
    [
        ("json", json.loads),
        ("json-pretty", json.loads),
        ("yaml", yaml.safe_load),
    ],
)
def test_output_formats_round_trip(demo: Ochami, smd: FakeSMD, fmt: str, parse: object) -> None:
    """Every -F format prints the same data back."""
    smd.components[COMP["ID"]] = dict(COMP)
    r = demo("smd", "component", "get", "-F", fmt)
    assert r.exit_code == 0, r.output
    assert parse(r.stdout) == {"Components": [COMP]}  # type: ignore[operator]


def test_default_output_is_compact_sorted_json(demo: Ochami, smd: FakeSMD) -> None:
    """Without -F the answer is one compact line with sorted keys and a newline."""
    smd.components[COMP["ID"]] = dict(COMP)
    r = demo("smd", "component", "get")
    assert r.stdout == (
        '{"Components":[{"Enabled":true,"ID":"x1000c0s0b0n0","NID":1,"Role":"Compute","State":"On","Type":"Node"}]}\n'
    )


def test_table_output(demo: Ochami, smd: FakeSMD) -> None:
    """-F table prints a header and one row per component."""
    smd.components[COMP["ID"]] = dict(COMP)
    r = demo("smd", "component", "get", "-F", "table")
    assert r.stdout.splitlines()[0].startswith("ID")
    assert "x1000c0s0b0n0" in r.stdout.splitlines()[1]


GROUP_JSON = '{"label":"compute","description":"d","members":{"ids":[]}}'
GROUP_YAML = "label: compute\ndescription: d\nmembers:\n  ids: []\n"


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("json", GROUP_JSON),
        ("json-pretty", json.dumps(json.loads(GROUP_JSON), indent=2)),
        ("yaml", GROUP_YAML),
    ],
)
def test_payload_string_formats(demo: Ochami, smd: FakeSMD, fmt: str, text: str) -> None:
    """-d takes a JSON or YAML string as told by -f."""
    r = demo("smd", "group", "add", "-f", fmt, "-d", text)
    assert r.exit_code == 0, r.output
    assert smd.calls[-1].body == json.loads(GROUP_JSON)


def test_payload_from_file_and_stdin(demo: Ochami, smd: FakeSMD) -> None:
    """-d @file reads a file and -d @- reads stdin."""
    path = demo.home / "g.yaml"
    path.write_text(GROUP_YAML)
    assert demo("smd", "group", "add", "-f", "yaml", "-d", f"@{path}").exit_code == 0
    assert smd.calls[-1].body["label"] == "compute"
    r = demo("smd", "group", "add", "-d", "@-", input=GROUP_JSON.replace("compute", "other"))
    assert r.exit_code == 0, r.output
    assert smd.calls[-1].body["label"] == "other"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-d", "{not json"], "unable to unmarshal payload as JSON"),
        (
            ["-d", "label: x"],
            "Expecting value: line 1 column 1 (char 0) (for YAML input use -f yaml)",
        ),
        (["-f", "yaml", "-d", "a: [b"], "unable to unmarshal payload as YAML"),
        (["-d", "@/nonexistent/file.json"], "unable to read payload file /nonexistent/file.json"),
        (["-d", "42"], "payload must be a list of objects or one object"),
    ],
)
def test_bad_payloads(demo: Ochami, smd: FakeSMD, args: list[str], message: str) -> None:
    """Unreadable or undecodable payloads fail with a clear message and send nothing."""
    r = demo("smd", "group", "add", *args)
    assert r.exit_code == 1
    assert message in r.stderr
    assert smd.calls == []


def test_http_error_prints_status_and_body(demo: Ochami, smd: FakeSMD) -> None:
    """A non-2xx answer prints the status line and body on stderr and exits 1."""
    r = demo("smd", "component", "get", "-x", "x9c0s0b0n0")
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.startswith("Error: unsuccessful HTTP status: HTTP/1.1 404 Not Found: {")
    assert '"detail":"no such xname."' in r.stderr


def test_connection_refused_is_an_error(ochami: Ochami) -> None:
    """An unreachable server is a one-line error, not a traceback."""
    r = ochami("-u", "http://127.0.0.1:9", "smd", "service", "status")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: GET http://127.0.0.1:9/hsm/v2/service/ready failed:")


def test_delete_refuses_to_prompt_without_tty(demo: Ochami, smd: FakeSMD) -> None:
    """Deletes ask for confirmation; without a terminal they refuse and send nothing."""
    smd.components[COMP["ID"]] = dict(COMP)
    r = demo("smd", "component", "delete", "x1000c0s0b0n0")
    assert r.exit_code == 1
    assert "refusing to ask without a terminal; pass --no-confirm" in r.stderr
    assert smd.calls == []
    assert demo("smd", "component", "delete", "--no-confirm", "x1000c0s0b0n0").exit_code == 0
    assert smd.requests("DELETE") == [("DELETE", "/hsm/v2/State/Components/x1000c0s0b0n0")]


def test_delete_prompts_on_a_tty(demo: Ochami, smd: FakeSMD, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the question is asked; 'n' deletes nothing, 'y' deletes."""
    from pychami.cli.ochami import io

    smd.components[COMP["ID"]] = dict(COMP)
    monkeypatch.setattr(io, "stdin_is_tty", lambda: True)
    r = demo("smd", "component", "delete", "x1000c0s0b0n0", input="n\n")
    assert "Really delete components x1000c0s0b0n0?" in r.stdout
    assert smd.requests("DELETE") == []
    demo("smd", "component", "delete", "x1000c0s0b0n0", input="y\n")
    assert smd.requests("DELETE") == [("DELETE", "/hsm/v2/State/Components/x1000c0s0b0n0")]
