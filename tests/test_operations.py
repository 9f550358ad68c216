"""Health, readiness, metrics and request ids."""

from __future__ import annotations


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_readyz_fails_when_the_database_is_gone(tmp_path):
    from fastapi.testclient import TestClient

    from tongban.app import create_app
    from conftest import test_settings

    settings = test_settings("postgresql://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["database"] == "unreachable"


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert made != "bad id with spaces" and len(made) == 32


def test_metrics_count_requests_by_route(app, client):
    from fastapi.testclient import TestClient

    client.get("/api/v1/departments")
    # /metrics answers only internal addresses (tests/security/test_headers.py): read it from loopback.
    with TestClient(app, client=("127.0.0.1", 50000)) as internal:
        text = internal.get("/metrics").text
    assert 'tongban_http_requests_total{method="GET",route="/api/v1/departments",status="200"}' in text
    assert "tongban_http_request_duration_seconds_bucket" in text


def test_departments_are_public(client):
    departments = client.get("/api/v1/departments").json()
    names = {d["short_name"] for d in departments}
    for name in ("公安分局", "人社局", "民政局", "市场监管局", "税务局", "规划资源局", "生态环境局", "建设和交通委", "城管执法局",
                 "卫健委", "医保局", "公积金中心", "财政局", "统计局", "科委", "电子政务办"):
        assert name in names
    levels = {d["level"] for d in departments}
    assert levels == {"city", "district", "town", "village"}
    assert sum(1 for d in departments if d["level"] == "district" and d["parent_code"] == "PD") >= 20
