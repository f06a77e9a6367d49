"""Operations endpoints of the all-in-one app."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_reports_database(anon: TestClient) -> None:
    """/healthz answers 200 with the version when the database is reachable, without a token."""
    resp = anon.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"


def test_unknown_path_is_plain_404(anon: TestClient) -> None:
    """Unknown paths answer like chi: plain-text 404."""
    resp = anon.get("/no/such/path")
    assert resp.status_code == 404
    assert resp.text == "404 page not found\n"


def test_metrics_count_requests(anon: TestClient) -> None:
    """/metrics exposes request counters labelled by route template."""
    anon.get("/hsm/v2/service/ready")
    body = anon.get("/metrics").text
    assert 'pychami_http_requests_total{method="GET",route="/hsm/v2/service/ready",status="200"}' in body
