"""HTTP plumbing: body limits, method errors, request ids, OpenAPI, DB outage."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from pychami.core.db import Database
from pychami.core.settings import load_settings
from pychami.server import create_app


def test_oversize_body_is_413_and_changes_nothing(tmp_path: Path, db_url: str) -> None:
    """A body over max_body_bytes is refused with 413 before any handler runs."""
    settings = load_settings(data_dir=tmp_path / "d", db=db_url, max_body_bytes=2048)
    app = create_app(settings)
    with TestClient(app) as c:
        c.headers["Authorization"] = f"Bearer {app.state.ctx.issuer.issue('t', ['admin'], 60)}"
        comps = [{"ID": f"x1000c0s0b{i}n0", "State": "On"} for i in range(100)]
        resp = c.post("/hsm/v2/State/Components", json={"Components": comps})
        assert resp.status_code == 413
        assert resp.headers["content-type"] == "application/problem+json"
        assert c.get("/hsm/v2/State/Components").json() == {"Components": []}


def test_method_not_allowed_is_problem(anon: TestClient) -> None:
    """A wrong method answers 405 with the allowed methods, as a problem document."""
    resp = anon.put("/hsm/v2/service/ready")
    assert resp.status_code == 405
    assert resp.json()["detail"].startswith("allow GET")


def test_request_id_is_echoed(anon: TestClient) -> None:
    """X-Request-ID is echoed back, or generated when absent."""
    assert anon.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["x-request-id"] == "abc123"
    assert len(anon.get("/healthz").headers["x-request-id"]) == 32


def test_openapi_describes_smd(anon: TestClient) -> None:
    """/openapi.json documents the SMD paths with their schemas."""
    spec = anon.get("/openapi.json").json()
    assert "/hsm/v2/State/Components" in spec["paths"]
    assert "ComponentArrayOut" in spec["components"]["schemas"]
    assert "EthernetInterfaceIn" in spec["components"]["schemas"]


def test_form_content_type_is_read_as_json(client: TestClient) -> None:
    """A JSON body sent with curl -d's form content type is decoded like upstream does."""
    resp = client.post(
        "/hsm/v2/State/Components",
        content=b'{"Components":[{"ID":"x1000c0s0b0n0","State":"On"}]}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 204


def test_database_down_is_503(tmp_path: Path) -> None:
    """When the database does not answer, /service/ready and /healthz answer 503."""
    settings = load_settings(data_dir=tmp_path / "d", db="postgresql://nobody@127.0.0.1:1/none")
    db = Database.from_url(settings.database_url)
    app = create_app(settings, db=db, migrate_schema=False)
    with TestClient(app) as c:
        resp = c.get("/hsm/v2/service/ready")
        assert resp.status_code == 503
        assert resp.json()["detail"].startswith("HSM's database is unhealthy")
        assert c.get("/healthz").status_code == 503
    db.dispose()
