"""``/boot/v1/bootparameters``: add / set / update / delete semantics, GET shapes, errors, bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bss.conftest import boot_debug

URL = "/boot/v1/bootparameters"
CLOUD_INIT = (
    '"cloud-init":{"meta-data":null,"user-data":null,"phone-home":{"pub_key_dsa":"","pub_key_rsa":"",'
    '"pub_key_ecdsa":"","instance_id":"","hostname":"","fqdn":""}}'
)
M1, M2, M3 = "52:54:00:be:ef:01", "52:54:00:be:ef:02", "52:54:00:be:ef:03"


def everything(client: TestClient) -> Any:
    resp = client.get(URL)
    assert resp.status_code == 200
    return resp.json()


def by_mac(client: TestClient) -> dict[str, tuple[str, str, str]]:
    """mac -> (kernel, initrd, params) over the whole store."""
    out = {}
    for obj in everything(client) or []:
        for mac in obj.get("macs", []):
            out[mac] = (obj.get("kernel", ""), obj.get("initrd", ""), obj.get("params", ""))
    return out


def test_empty_store_is_null(admin: TestClient) -> None:
    """GET on an empty store answers the JSON literal null, like upstream."""
    resp = admin.get(URL)
    assert resp.status_code == 200
    assert resp.text == "null\n"


def test_add_then_get_exact_wire_format(admin: TestClient) -> None:
    """POST answers 201 with an empty body and a referral token; GET shows the exact upstream JSON."""
    resp = admin.post(URL, json={"macs": [M1], "kernel": "http://k", "initrd": "http://i", "params": "quiet"})
    assert resp.status_code == 201
    assert resp.content == b""
    uuid.UUID(resp.headers["BSS-Referral-Token"])
    assert admin.get(URL).text == (
        f'[{{"macs":["{M1}"],"params":"quiet","kernel":"http://k","initrd":"http://i",{CLOUD_INIT}}}]\n'
    )


def test_add_existing_is_400_and_keeps_data(admin: TestClient) -> None:
    """POST of identifiers that all exist answers 400 'data already exists' and changes nothing."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a"})
    resp = admin.post(URL, json={"macs": [M1.upper()], "kernel": "http://b"})
    assert resp.status_code == 400
    assert resp.json()["detail"] == "Bad Request: postgres.Add: data already exists"
    assert by_mac(admin) == {M1: ("http://a", "", "")}


def test_add_only_adds_missing_identifiers(admin: TestClient) -> None:
    """POST with some known identifiers adds only the new ones; existing ones keep their config."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a"})
    assert admin.post(URL, json={"macs": [M1, M2], "kernel": "http://b"}).status_code == 201
    assert by_mac(admin) == {M1: ("http://a", "", ""), M2: ("http://b", "", "")}


def test_add_without_kernel_is_400(admin: TestClient) -> None:
    """A new configuration needs a kernel."""
    resp = admin.post(URL, json={"macs": [M1], "params": "quiet"})
    assert resp.status_code == 400
    assert resp.json()["detail"] == "Bad Request: postgres.Add: kernel URI cannot be blank"
    assert everything(admin) is None


def test_identical_configs_are_grouped(admin: TestClient) -> None:
    """Identifiers with identical configurations come back as one object, whichever way they were added."""
    cfg = {"kernel": "http://k", "initrd": "http://i", "params": "p"}
    admin.post(URL, json={"macs": [M1.upper()], **cfg})
    admin.post(URL, json={"hosts": ["x1000c0s0b1n0"], **cfg})
    admin.post(URL, json={"nids": [3], **cfg})
    admin.post(URL, json={"macs": [M3], "kernel": "http://other"})
    objs = everything(admin)
    assert len(objs) == 2
    assert objs[0]["macs"] == [M1]
    assert objs[0]["hosts"] == ["x1000c0s0b1n0"]
    assert objs[0]["nids"] == [3]
    assert objs[1]["macs"] == [M3]


def test_set_adds_and_updates(admin: TestClient) -> None:
    """PUT adds missing identifiers and updates only the given fields of existing ones."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a", "initrd": "http://i", "params": "old"})
    resp = admin.put(URL, json={"macs": [M1, M2], "kernel": "http://b", "params": "new"})
    assert resp.status_code == 200
    assert resp.content == b""
    assert by_mac(admin) == {M1: ("http://b", "http://i", "new"), M2: ("http://b", "", "new")}


def test_set_without_data_is_400(admin: TestClient) -> None:
    """PUT without params, kernel or initrd answers 400 'No data'."""
    resp = admin.put(URL, json={"macs": [M1]})
    assert resp.status_code == 400
    assert resp.json()["detail"] == "No data"


def test_set_is_all_or_nothing(admin: TestClient) -> None:
    """When PUT cannot add a new identifier (no kernel), the existing ones are not updated either."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a"})
    resp = admin.put(URL, json={"macs": [M1, M2], "params": "changed"})
    assert resp.status_code == 400
    assert by_mac(admin) == {M1: ("http://a", "", "")}


def test_scenario_boot_debug_set(admin: TestClient) -> None:
    """Checkpoint 3: boot-debug.yaml set once shows the five MACs with kernel, initrd and params."""
    payload = boot_debug()
    assert admin.put(URL, json=payload).status_code == 200
    (obj,) = everything(admin)
    assert obj["macs"] == payload["macs"]
    assert (obj["kernel"], obj["initrd"], obj["params"]) == (
        payload["kernel"],
        payload["initrd"],
        payload["params"],
    )


def test_update_changes_existing(admin: TestClient) -> None:
    """PATCH changes only the given fields of existing identifiers."""
    admin.post(URL, json={"macs": [M1, M2], "kernel": "http://a", "params": "p"})
    assert admin.patch(URL, json={"macs": [M2], "kernel": "http://b"}).status_code == 200
    assert by_mac(admin) == {M1: ("http://a", "", "p"), M2: ("http://b", "", "p")}


def test_update_missing_is_404_and_changes_nothing(admin: TestClient) -> None:
    """PATCH with any unknown identifier answers 404 with upstream's text and updates nothing."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a"})
    resp = admin.patch(
        URL, json={"macs": [M1, M2], "hosts": ["x1000c0s0b0n0"], "nids": [7], "kernel": "http://b"}
    )
    assert resp.status_code == 404
    assert resp.json()["detail"] == (
        "Not Found: postgres.Update: data does not exist: "
        f"nodes table: macs=[{M2}] xnames=[x1000c0s0b0n0] nids=[7]"
    )
    assert by_mac(admin) == {M1: ("http://a", "", "")}


def test_update_without_fields_is_404(admin: TestClient) -> None:
    """PATCH of existing identifiers without new values answers upstream's 404."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a"})
    resp = admin.patch(URL, json={"macs": [M1]})
    assert resp.status_code == 404
    assert resp.json()["detail"] == (
        "Not Found: postgres.Update: must specify at least one of params, kernel, or initrd"
    )


def test_delete_identifiers_and_unused_configs(admin: TestClient) -> None:
    """DELETE removes the listed identifiers; configurations nobody uses disappear."""
    admin.post(URL, json={"macs": [M1, M2], "kernel": "http://a"})
    admin.post(URL, json={"macs": [M3], "kernel": "http://b"})
    assert admin.request("DELETE", URL, json={"macs": [M1.upper(), M3]}).status_code == 200
    assert by_mac(admin) == {M2: ("http://a", "", "")}
    admin.request("DELETE", URL, json={"macs": [M2]})
    assert everything(admin) is None


def test_delete_by_config(admin: TestClient) -> None:
    """DELETE with only kernel (or initrd/params) removes the matching configurations and their nodes."""
    admin.post(URL, json={"macs": [M1, M2], "kernel": "http://a"})
    admin.post(URL, json={"macs": [M3], "kernel": "http://b"})
    assert admin.request("DELETE", URL, json={"kernel": "http://a"}).status_code == 200
    assert by_mac(admin) == {M3: ("http://b", "", "")}


def test_delete_unknown_identifier_is_ok(admin: TestClient) -> None:
    """Deleting an identifier that does not exist is not an error (upstream answers 200)."""
    assert admin.request("DELETE", URL, json={"nids": [99]}).status_code == 200


@pytest.mark.parametrize(
    ("query", "expected_macs"),
    [
        (f"mac={M1}", [M1]),
        (f"mac={M1},{M2}", [M1, M2]),
        (f"mac={M1}&mac={M3}", [M1, M3]),
        ("nid=2", []),
    ],
)
def test_get_filters(admin: TestClient, query: str, expected_macs: list[str]) -> None:
    """GET with comma lists or repeated keys answers the matches, grouped by configuration."""
    admin.post(URL, json={"macs": [M1, M2, M3], "kernel": "http://a"})
    admin.post(URL, json={"nids": [2], "kernel": "http://a"})
    resp = admin.get(f"{URL}?{query}")
    assert resp.status_code == 200
    (obj,) = resp.json()
    assert obj.get("macs", []) == expected_macs


def test_get_filter_by_body(admin: TestClient) -> None:
    """GET also takes the filters as a JSON body, as upstream does."""
    admin.post(URL, json={"macs": [M1, M2], "kernel": "http://a"})
    resp = admin.request("GET", URL, content=json.dumps({"macs": [M2]}))
    assert resp.status_code == 200
    assert resp.json()[0]["macs"] == [M2]


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        (f"mac={M3}", "Cannot find boot parameters for requested MACs"),
        ("nid=42", "Cannot find boot parameters for requested NIDs"),
        ("name=x1000c9s0b0n0", "Cannot find boot parameters for requested Hosts"),
        (
            f"name=x1000c9s0b0n0&mac={M3}&nid=42",
            "Cannot find boot parameters for requested Hosts, MACs or NIDs",
        ),
    ],
)
def test_get_no_match_is_404(admin: TestClient, query: str, detail: str) -> None:
    """GET without a match answers 404 naming what was asked for."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a"})
    resp = admin.get(f"{URL}?{query}")
    assert resp.status_code == 404
    assert resp.json()["detail"] == detail


@pytest.mark.parametrize(
    ("query", "body", "detail"),
    [
        ("nid=abc", b"", "Bad Request - Invalid nid 'abc'"),
        ("mac=zz", b"", "Bad Request - Invalid MAC 'zz'"),
        ("", b"{not json", "Failed to interpret request body '{not json'"),
        ("", b"{}", "No specified data requested"),
    ],
)
def test_get_bad_input_is_400(admin: TestClient, query: str, body: bytes, detail: str) -> None:
    """Malformed GET filters answer 400 problem documents."""
    resp = admin.request("GET", f"{URL}?{query}", content=body)
    assert resp.status_code == 400
    assert resp.json()["detail"] == detail


BAD_BODIES: list[tuple[bytes, str]] = [
    (b"", "Bad Request: EOF"),
    (b"{", "Bad Request: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    (b"[]", "Bad Request: json: cannot unmarshal array into Go value of type bssTypes.BootParams"),
    (b'{"macs":["52:54:00:be:ef"],"kernel":"k"}', "Bad Request: invalid MAC address format: 52:54:00:be:ef"),
    (
        b'{"macs":["52-54-00-be-ef-09"],"kernel":"k"}',
        "Bad Request: invalid MAC address format: 52-54-00-be-ef-09",
    ),
    (
        b'{"hosts":["x1000c0s0b0"],"kernel":"k"}',
        "Bad Request: invalid xname 'x1000c0s0b0': hosts must be Node xnames (x#c#s#b#n#)",
    ),
    (b'{"nids":["1"],"kernel":"k"}', "Bad Request: nids.0: Input should be a valid integer"),
    (b'{"nids":[1.5],"kernel":"k"}', "Bad Request: nids.0: Input should be a valid integer"),
    (b'{"nids":[4294967296],"kernel":"k"}', "Bad Request: invalid NID 4294967296"),
    (b'{"groups":["Not A Label"],"kernel":"k"}', "Bad Request: invalid group label 'Not A Label'"),
    (b'{"macs":"52:54:00:be:ef:09","kernel":"k"}', "Bad Request: macs: Input should be a valid list"),
    (b'{"macs":["52:54:00:be:ef:09"],"kernel":7}', "Bad Request: kernel: Input should be a valid string"),
]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(("body", "detail"), BAD_BODIES)
def test_bad_bodies_are_400_and_change_nothing(
    admin: TestClient, method: str, body: bytes, detail: str
) -> None:
    """Every write with malformed JSON, MACs, xnames, NIDs or labels answers 400 and stores nothing."""
    admin.post(URL, json={"macs": [M1], "kernel": "http://a"})
    before = admin.get(URL).text
    resp = admin.request(method, URL, content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["detail"] == detail
    assert admin.get(URL).text == before


def test_one_bad_mac_stores_none_of_the_good_ones(admin: TestClient) -> None:
    """A batch with one invalid MAC stores nothing at all."""
    resp = admin.post(URL, json={"macs": [M1, "nope", M2], "kernel": "http://a"})
    assert resp.status_code == 400
    assert everything(admin) is None


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_other_methods_are_405(admin: TestClient, method: str) -> None:
    """Methods other than GET/PUT/POST/PATCH/DELETE answer 405 with the Allow list."""
    resp = admin.request(method, URL)
    assert resp.status_code == 405
    assert resp.headers["allow"] == "GET,PUT,POST,PATCH,DELETE"
    if method != "HEAD":
        assert resp.json()["detail"] == "allow GET,PUT,POST,PATCH,DELETE"


def test_unknown_fields_are_ignored(admin: TestClient) -> None:
    """Unknown keys (and a filled cloud-init block) are accepted and ignored, like Go's decoder."""
    body = {"macs": [M1], "kernel": "http://a", "whatever": 1, "cloud-init": {"meta-data": {"a": 1}}}
    assert admin.post(URL, json=body).status_code == 201
    (obj,) = everything(admin)
    assert obj["cloud-init"]["meta-data"] is None
