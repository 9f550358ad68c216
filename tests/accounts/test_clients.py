"""Department systems (OAuth2 clients): their tokens carry the credential generation, so rotating
the secret or disabling the system ends every token it holds at once; an administrator does
both by the API and on the 部门业务系统 page."""

from __future__ import annotations

import re

from helpers import assert_problem, bearer
from identity_helpers import admin_browser, client_from, csrf_of


def _new_client(client) -> tuple[str, str]:
    response = client.post("/api/v1/clients", headers=bearer(client, "admin"),
                           json={"name": "民政局测试系统", "department_code": "PD-MZ"})
    assert response.status_code == 201, response.text
    return response.json()["client_id"], response.json()["client_secret"]


def _token(api, client_id: str, secret: str):
    return api.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                "client_secret": secret})


def _headers(response) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_rotating_a_clients_secret_ends_its_tokens_and_old_secret(client, app):
    client_id, secret = _new_client(client)
    api = client_from(app)
    token = _headers(_token(api, client_id, secret))
    assert api.get("/api/v1/auth/me", headers=token).status_code == 200
    assert_problem(api.post(f"/api/v1/clients/{client_id}/secret", headers=bearer(api, "steward")), 403,
                   "permission-denied")
    rotated = client.post(f"/api/v1/clients/{client_id}/secret", headers=bearer(client, "admin"))
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != secret
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert_problem(_token(api, client_id, secret), 401, "invalid-client")
    assert api.get("/api/v1/auth/me", headers=_headers(_token(api, client_id, new_secret))).status_code == 200


def test_disabling_a_client_ends_its_tokens_at_once(client, app):
    client_id, secret = _new_client(client)
    api = client_from(app)
    token = _headers(_token(api, client_id, secret))
    disabled = client.post(f"/api/v1/clients/{client_id}/disable", headers=bearer(client, "admin"))
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert_problem(_token(api, client_id, secret), 401, "invalid-client")
    enabled = client.post(f"/api/v1/clients/{client_id}/enable", headers=bearer(client, "admin"))
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")  # stays ended
    assert api.get("/api/v1/auth/me", headers=_headers(_token(api, client_id, secret))).status_code == 200


def test_client_list_for_the_administrator(client):
    client_id, _ = _new_client(client)
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/clients", headers=bearer(client, "admin"),
                          params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert client_id in {c["client_id"] for c in seen}
    assert all("secret" not in key for c in seen for key in c)
    assert_problem(client.get("/api/v1/clients", headers=bearer(client, "head")), 403, "permission-denied")


def test_the_clients_page_rotates_a_secret_shown_once_and_disables(client, app):
    client_id, secret = _new_client(client)
    api = client_from(app)
    token = _headers(_token(api, client_id, secret))
    admin = admin_browser(app)
    assert "/staff/clients" in admin.get("/staff").text
    page = admin.get("/staff/clients")
    assert page.status_code == 200 and client_id in page.text and "更换密钥" in page.text
    rotated = admin.post(f"/staff/clients/{client_id}/secret", data={"csrf_token": csrf_of(page.text)})
    assert rotated.status_code == 200 and rotated.headers["cache-control"] == "no-store"
    new_secret = re.search(r'id="client-secret"[^>]*>([^<]+)<', rotated.text).group(1)
    assert new_secret not in admin.get("/staff/clients").text  # shown once
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert _token(api, client_id, new_secret).status_code == 200
    disabled = admin.post(f"/staff/clients/{client_id}/disable", data={"csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert disabled.status_code == 303
    assert_problem(_token(api, client_id, new_secret), 401, "invalid-client")
    assert f'action="/staff/clients/{client_id}/enable"' in admin.get("/staff/clients").text


def test_the_clients_page_registers_a_system(client, app):
    admin = admin_browser(app)
    page = admin.get("/staff/clients")
    made = admin.post("/staff/clients", data={"csrf_token": csrf_of(page.text), "name": "页面登记系统",
                                              "department_code": "PD-MZ"})
    assert made.status_code == 200 and "页面登记系统" in made.text
    client_id = re.search(r"客户端标识</dt><dd><code>([^<]+)<", made.text).group(1)
    secret = re.search(r'id="client-secret"[^>]*>([^<]+)<', made.text).group(1)
    assert _token(client_from(app), client_id, secret).status_code == 200
    refused = admin.post("/staff/clients", data={"csrf_token": csrf_of(page.text), "name": "x",
                                                 "department_code": "PD-MZ"})
    assert refused.status_code == 422 and "系统名称" in refused.text


def test_a_system_revokes_its_own_token_rfc7009(client, app):
    client_id, secret = _new_client(client)
    api = client_from(app)
    issued, other = _token(api, client_id, secret), _token(api, client_id, secret)
    assert api.post("/api/v1/auth/revoke", data={"token": issued.json()["access_token"]}).status_code == 200
    assert_problem(api.get("/api/v1/auth/me", headers=_headers(issued)), 401, "invalid-token")
    assert api.get("/api/v1/auth/me", headers=_headers(other)).status_code == 200
