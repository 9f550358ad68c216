"""The OpenAPI document states the error answers as they are: problem+json, one Problem schema."""

from __future__ import annotations

import json
import re

from helpers import assert_problem

from tongban.core.headers import METRICS_PATHS

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_every_error_answer_is_documented_as_problem_json(client):
    spec = client.get("/openapi.json").json()
    text = json.dumps(spec)
    assert "HTTPValidationError" not in text
    assert set(re.findall(r'"#/components/schemas/([^"]+)"', text)) <= set(spec["components"]["schemas"])
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]
    assert {"request_id", "errors"} <= set(problem["properties"])
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        errors = {int(code) for code in responses if int(code) >= 400}
        assert {401, 500} <= errors, (method, path)
        for code in errors - ({503} if path == "/readyz" else set()):
            if path.startswith("/open311/v2/") and code in (400, 403, 404):
                # GeoReport v2 answers its own errors in its own format (the standard's clients parse
                # them); what the platform refuses before the route (401, 413, 422, 5xx) stays problem+json.
                content = responses[str(code)]["content"]
                assert content["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Open311ErrorRead"}
                continue
            assert responses[str(code)]["content"] == PROBLEM, (method, path, code)
        takes_input = "requestBody" in operation or operation.get("parameters")
        writes = method in ("post", "put", "patch", "delete")
        assert (422 in errors) == bool(takes_input or writes), (method, path)
        assert (409 in errors) == writes, (method, path)
        # An internal-only endpoint answers 404 to everyone outside (core.headers), input or not.
        internal_only = path in METRICS_PATHS
        assert (404 in errors) == bool(takes_input or internal_only), (method, path)
        assert ({400, 413} <= errors) == ("requestBody" in operation), (method, path)
        signed_in = operation["x-permission"] != "public"
        assert (403 in errors) == (signed_in or writes), (method, path)


def test_the_documented_statuses_are_the_ones_answered(client, as_role):
    spec = client.get("/openapi.json").json()
    sign_in = spec["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "429" in sign_in and "过于频繁" in sign_in["429"]["description"]
    # 422: the validation handler's problem, with its errors[] as the schema says.
    body = assert_problem(client.post("/api/v1/accounts/citizens", json={}), 422, "validation-error")
    assert all({"field", "code", "message"} <= set(error) for error in body["errors"])
    # 401 on a public operation: a bad token is refused, not taken as anonymity.
    assert "令牌" in spec["paths"]["/healthz"]["get"]["responses"]["401"]["description"]
    assert_problem(client.get("/healthz", headers={"Authorization": "Bearer nonsense", "Accept": "application/json"}),
                   401, "invalid-token")
    # 413 on an operation with a body.
    huge = client.post("/api/v1/accounts/citizens", content=b" " * (3 * 1024 * 1024),
                       headers={"Content-Type": "application/json"})
    assert_problem(huge, 413, "payload-too-large")
    assert "413" in spec["paths"]["/api/v1/accounts/citizens"]["post"]["responses"]


def test_a_bad_token_outside_the_api_is_a_problem_not_a_redirect_loop(client):
    # Found by tests/security/test_api_fuzz.py once a caller's token had been ended: the 401 of a
    # page was a redirect to /login, whose own 401 redirected to /login again, without end.
    for path in ("/healthz", "/login"):
        response = client.get(path, headers={"Authorization": "Bearer nonsense"}, follow_redirects=False)
        assert_problem(response, 401, "invalid-token")


def test_the_docs_page_offers_the_document_in_sections_that_add_up_to_it(client):
    """/docs opens one section (a tag's operations and the schemas they reach), not the whole 1 MB."""
    spec = client.get("/openapi.json").json()
    page = client.get("/docs")
    slugs = re.findall(r'<option value="([^"]+)" data-url="([^"]+)"', page.text)
    assert slugs[-1] == ("all", "/openapi.json")
    assert f'data-url="{slugs[0][1]}"' in page.text.split('id="swagger-ui"')[1][:80]  # the first section is open
    seen: dict[tuple[str, str], str] = {}
    for slug, url in slugs[:-1]:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) and url == f"/openapi/{slug}.json", slug
        section = client.get(url)
        assert section.status_code == 200, url
        document = section.json()
        assert document["openapi"] == spec["openapi"] and document["info"]["version"] == spec["info"]["version"]
        text = json.dumps(document)
        # Every reference resolves inside the section, and it carries no schema nobody refers to.
        referred = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
        assert referred == set(document["components"]["schemas"]), slug
        assert len(text) < len(json.dumps(spec)) / 3, slug
        tags = set()
        for path, method, operation in _operations(document):
            assert (path, method) not in seen, (path, method, seen.get((path, method)))
            seen[(path, method)] = slug
            assert operation == spec["paths"][path][method]
            tags.add(operation["tags"][0])
        assert len(tags) == 1 and next(iter(tags)) in document["info"]["title"], slug
    # Together the sections hold every operation of the whole document, each once.
    assert set(seen) == {(path, method) for path, method, _ in _operations(spec)}
    chosen = client.get(f"/docs?section={slugs[3][0]}").text
    assert f'<option value="{slugs[3][0]}" data-url="{slugs[3][1]}" selected>' in chosen
    assert_problem(client.get("/openapi/no-such-section.json", headers={"Accept": "application/json"}), 404, "not-found")
