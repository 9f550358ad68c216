"""Security headers on every kind of response; /metrics and the API docs kept internal."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from helpers import assert_problem

from tongban.app import create_app
from tongban.core.config import Environment

LOOPBACK = ("127.0.0.1", 50000)
OUTSIDER = ("203.0.113.9", 50000)  # TEST-NET-3: an address on the internet


def assert_secure_headers(response) -> None:
    csp = response.headers.get("content-security-policy", "")
    directives = {part.strip().split(" ", 1)[0]: part.strip() for part in csp.split(";") if part.strip()}
    assert directives.get("default-src") == "default-src 'self'", csp
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    assert directives.get("form-action") == "form-action 'self'", csp
    assert directives.get("base-uri") == "base-uri 'self'", csp
    assert directives.get("object-src") == "object-src 'none'", csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert response.headers.get("x-frame-options") == "DENY"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin")


@pytest.mark.parametrize("path, status", [
    ("/api/v1/departments", 200),  # API
    ("/", 200),  # a page
    ("/login", 200),
    ("/static/tongban.css", 200),  # a static file
    ("/static/vendor/htmx/htmx.min.js", 200),
    ("/api/v1/no-such-thing", 404),  # an API 404
    ("/no-such-page", 404),  # a page 404
    ("/api/v1/items/published/000000000000", 404),  # a problem raised by a route
])
def test_every_response_carries_the_security_headers(client, path, status):
    response = client.get(path)
    assert response.status_code == status, response.text
    assert_secure_headers(response)


def test_validation_errors_and_unexpected_errors_carry_them_too(client, database):
    assert_secure_headers(client.post("/api/v1/auth/token", data={}))
    assert_secure_headers(client.get("/api/v1/items/search", params={"limit": "many"}))

    app = create_app(database.settings)

    @app.get("/api/v1/boom", include_in_schema=False)
    def boom():
        raise RuntimeError("a bug")

    @app.get("/boom", include_in_schema=False)
    def boom_page():
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as failing:
        for path in ("/api/v1/boom", "/boom"):
            response = failing.get(path)
            assert response.status_code == 500
            assert_secure_headers(response)


def test_hsts_only_when_cookies_are_secure(database):
    with TestClient(create_app(database.settings)) as plain:
        assert "strict-transport-security" not in plain.get("/healthz").headers
    secure = database.settings.model_copy(update={"session_cookie_secure": True})
    with TestClient(create_app(secure)) as https:
        assert https.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


def test_metrics_answer_only_internal_addresses(app):
    with TestClient(app, client=OUTSIDER) as outsider:
        assert_problem(outsider.get("/metrics"), 404, "not-found")
    with TestClient(app) as test_client:  # no real address at all: not internal either
        assert test_client.get("/metrics").status_code == 404
    with TestClient(app, client=LOOPBACK) as internal:
        response = internal.get("/metrics")
        assert response.status_code == 200 and "tongban_http_requests_total" in response.text
        assert_secure_headers(response)


def test_internal_networks_are_configurable(database):
    settings = database.settings.model_copy(update={"internal_networks": "10.0.0.0/8"})
    with TestClient(create_app(settings), client=("10.1.2.3", 40000)) as monitoring:
        assert monitoring.get("/metrics").status_code == 200
    with TestClient(create_app(settings), client=LOOPBACK) as local:
        assert local.get("/metrics").status_code == 404


def test_docs_are_public_in_development_and_internal_in_production(database):
    development = database.settings.model_copy(update={"env": Environment.DEVELOPMENT})
    with TestClient(create_app(development), client=OUTSIDER) as outsider:
        assert outsider.get("/docs").status_code == 200
        assert outsider.get("/openapi.json").status_code == 200
    production = database.settings.model_copy(update={"env": Environment.PRODUCTION, "secret_key": "x" * 40})
    app = create_app(production)
    with TestClient(app, client=OUTSIDER) as outsider:
        for path in ("/docs", "/openapi.json", "/openapi/grid.json", "/redoc"):
            assert outsider.get(path).status_code == 404, path
    with TestClient(app, client=LOOPBACK) as internal:
        assert internal.get("/docs").status_code == 200
        assert internal.get("/openapi.json").json()["info"]["title"].startswith("tongban")
        assert internal.get("/openapi/grid.json").json()["info"]["title"].endswith("grid")
    opened = database.settings.model_copy(update={"env": Environment.PRODUCTION, "secret_key": "x" * 40,
                                                  "docs_public": True})
    with TestClient(create_app(opened), client=OUTSIDER) as outsider:
        assert outsider.get("/openapi.json").status_code == 200


def test_docs_load_nothing_from_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert_secure_headers(page)
    assert "cdn" not in page.text.lower() and "https://" not in page.text and "<script>" not in page.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/vendor/swagger-ui/swagger-ui.css").status_code == 200
    assert client.get("/static/api-docs.js").status_code == 200


def test_no_template_holds_an_inline_style_or_script():
    from tongban.core.templating import PACKAGE_ROOT

    for template in PACKAGE_ROOT.glob("*/templates/**/*.html"):
        text = template.read_text(encoding="utf-8")
        assert "style=" not in text, template
        assert "<script>" not in text and " on" + "click=" not in text, template
