"""Every route declares its permission, and OpenAPI shows it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from tongban.core.auth import check_routes


def test_openapi_shows_a_permission_on_every_operation(client):
    spec = client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) >= 12
    for path, method, operation in operations:
        assert "x-permission" in operation, f"{method.upper()} {path} has no x-permission"
        assert operation["x-permission"] in operation["description"]
    assert spec["paths"]["/api/v1/audit/events"]["get"]["x-permission"] == "audit:read"
    assert spec["paths"]["/api/v1/auth/token"]["post"]["x-permission"] == "public"


def test_every_route_including_pages_declares_one(app):
    for route in app.routes:
        if isinstance(route, APIRoute):
            assert route.openapi_extra and "x-permission" in route.openapi_extra, route.path


def test_a_route_without_a_permission_refuses_to_start():
    app = FastAPI()

    @app.get("/api/v1/forgotten")
    def forgotten():
        return {}

    with pytest.raises(RuntimeError, match="/api/v1/forgotten"):
        check_routes(app)
