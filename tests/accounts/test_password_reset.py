"""An administrator resets a staff member's password: a temporary password shown once, which
serves only to choose a new one (pages redirect to 修改密码, the API answers 403
password-change-required everywhere but the change-password route)."""

from __future__ import annotations

import re

from helpers import assert_problem, bearer
from identity_helpers import STAFF_PASSWORD, admin_browser, client_from, csrf_of, new_staff

def _sign_in(web, username, password):
    return web.post("/login", data={"username": username, "password": password,
                                    "csrf_token": csrf_of(web.get("/login").text)}, follow_redirects=False)


def test_admin_reset_gives_a_temporary_password_that_must_be_changed(client, app):
    username, user_id = new_staff(client, display_name="重置测试")
    api = client_from(app)
    old_token = bearer(api, username, STAFF_PASSWORD)
    assert_problem(api.post(f"/api/v1/users/{user_id}/password-reset", headers=bearer(api, "head")), 403,
                   "permission-denied")
    reset = client.post(f"/api/v1/users/{user_id}/password-reset", headers=bearer(client, "admin"))
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    assert_problem(api.get("/api/v1/auth/me", headers=old_token), 401, "invalid-token")
    assert_problem(api.post("/api/v1/auth/token", data={"grant_type": "password", "username": username,
                                                        "password": STAFF_PASSWORD}), 401, "invalid-credentials")
    token = bearer(api, username, temporary)
    assert_problem(api.get("/api/v1/auth/me", headers=token), 403, "password-change-required")
    assert_problem(api.get("/api/v1/departments/PD-MZ/staff", headers=token), 403, "password-change-required")
    changed = api.post("/api/v1/auth/password", headers=token,
                       json={"current_password": temporary, "new_password": "my-own-new-password"})
    assert changed.status_code == 204, changed.text
    assert api.get("/api/v1/auth/me", headers=bearer(api, username, "my-own-new-password")).status_code == 200


def test_signing_out_is_not_refused_before_the_password_is_changed(client, app):
    """Ending a credential is always allowed: a token taken with the temporary password (on a
    borrowed machine, say) can be signed out, or every device at once, before the new password."""
    username, user_id = new_staff(client, display_name="重置退出测试")
    api = client_from(app)
    temporary = client.post(f"/api/v1/users/{user_id}/password-reset",
                            headers=bearer(client, "admin")).json()["temporary_password"]
    token = bearer(api, username, temporary)
    assert api.post("/api/v1/auth/logout", headers=token).status_code == 204
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    token = bearer(api, username, temporary)
    assert api.post("/api/v1/auth/logout/everywhere", headers=token).status_code == 204
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")


def test_only_staff_passwords_are_reset_by_an_administrator(client):
    citizen = client.get("/api/v1/auth/me", headers=bearer(client, "310115199306151236")).json()
    assert_problem(client.post(f"/api/v1/users/{citizen['id']}/password-reset", headers=bearer(client, "admin")),
                   403, "permission-denied")


def test_reset_on_the_staff_page_and_the_pages_send_to_the_change_password_page(client, app):
    username, user_id = new_staff(client, display_name="重置测试")
    admin = admin_browser(app)
    page = admin.get("/staff/departments/PD-MZ")
    assert f'action="/staff/users/{user_id}/password-reset"' in page.text and "重置密码" in page.text
    shown = admin.post(f"/staff/users/{user_id}/password-reset", data={"csrf_token": csrf_of(page.text)})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    temporary = re.search(r'id="temporary-password"[^>]*>([^<]+)<', shown.text).group(1)

    web = client_from(app)
    signed_in = _sign_in(web, username, temporary)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/me/password"
    for path in ("/staff", "/me"):
        response = web.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/me/password", path
    form = web.get("/me/password")
    assert form.status_code == 200 and "管理员已重置您的密码" in form.text
    changed = web.post("/me/password", data={"csrf_token": csrf_of(form.text), "current_password": temporary,
                                              "new_password": "my-own-new-password"}, follow_redirects=False)
    assert changed.status_code == 303, changed.text
    assert web.get("/staff", follow_redirects=False).status_code == 200
