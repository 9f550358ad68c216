"""Helpers the tests share (importable, unlike conftest)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tongban import demo


def bearer(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_problem(response, status: int, slug: str) -> dict:
    """A problem+json answer with the status, the stable type and a Chinese detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["type"] == f"/problems/{slug}", body
    assert body["status"] == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["title"] + body["detail"]), body
    assert "Traceback" not in response.text
    return body
