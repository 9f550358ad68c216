"""Sessions that really end (finding 5): sign-out, password change and an admin's revocation end
the account's web sessions and bearer tokens at once; the cookie is an opaque id."""

from __future__ import annotations

import re
import uuid

from helpers import assert_problem, bearer
from identity_helpers import client_from

COOKIE = "tongban_session"

PASSWORD = "correct-horse-battery"


def _new_staff(client) -> tuple[str, int]:
    username = f"s{uuid.uuid4().hex[:10]}"
    response = client.post("/api/v1/users", headers=bearer(client, "admin"), json={
        "username": username, "display_name": "会话测试", "password": PASSWORD,
        "department_code": "PD-MZ", "roles": ["reviewer"]})
    assert response.status_code == 201, response.text
    return username, response.json()["id"]


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in_on_the_page(web, username, password=PASSWORD) -> str:
    page = web.get("/login")
    response = web.post("/login", data={"username": username, "password": password, "csrf_token": _csrf(page.text)},
                        follow_redirects=False)
    assert response.status_code == 303, response.text
    return web.cookies[COOKIE]


def _signed_in(app, cookie: str) -> bool:
    """Whether a browser holding (a copy of) this cookie is signed in."""
    other = client_from(app)
    other.cookies.set(COOKIE, cookie)
    return other.get("/staff", follow_redirects=False).status_code == 200


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(client, app):
    username, _ = _new_staff(client)
    web = client_from(app)
    cookie = _sign_in_on_the_page(web, username)
    assert _signed_in(app, cookie)
    out = web.post("/logout", data={"csrf_token": _csrf(web.get("/staff").text)}, follow_redirects=False)
    assert out.status_code == 303
    assert not _signed_in(app, cookie)  # a copy kept from before is worth nothing


def test_the_cookie_is_an_opaque_id(client, app):
    username, user_id = _new_staff(client)
    cookie = _sign_in_on_the_page(client_from(app), username)
    assert "user" not in cookie and str(user_id) not in cookie.split(".")[0] and "." not in cookie


def test_sign_in_gives_a_new_session_id(client, app):
    username, _ = _new_staff(client)
    web = client_from(app)
    web.get("/login")
    before = web.cookies[COOKIE]  # an id an attacker could have planted (fixation)
    after = _sign_in_on_the_page(web, username)
    assert after != before and not _signed_in(app, before)


def test_sign_out_ends_bearer_tokens(client, app):
    username, _ = _new_staff(client)
    api = client_from(app)
    token, other_token = bearer(api, username, PASSWORD), bearer(api, username, PASSWORD)
    assert api.post("/api/v1/auth/logout", headers=token).status_code == 204
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert_problem(api.get("/api/v1/auth/me", headers=other_token), 401, "invalid-token")
    assert api.get("/api/v1/auth/me", headers=bearer(api, username, PASSWORD)).status_code == 200  # signs in again


def test_password_change_needs_the_current_one_and_ends_sessions_and_tokens(client, app):
    username, _ = _new_staff(client)
    api = client_from(app)
    token = bearer(api, username, PASSWORD)
    cookie = _sign_in_on_the_page(client_from(app), username)
    wrong = api.post("/api/v1/auth/password", headers=token,
                     json={"current_password": "not-the-password", "new_password": "a-brand-new-password"})
    assert_problem(wrong, 401, "invalid-credentials")
    assert api.get("/api/v1/auth/me", headers=token).status_code == 200  # a refused change changes nothing
    changed = api.post("/api/v1/auth/password", headers=token,
                       json={"current_password": PASSWORD, "new_password": "a-brand-new-password"})
    assert changed.status_code == 204, changed.text
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert not _signed_in(app, cookie)
    assert_problem(api.post("/api/v1/auth/token", data={"grant_type": "password", "username": username,
                                                        "password": PASSWORD}), 401, "invalid-credentials")
    assert api.get("/api/v1/auth/me", headers=bearer(api, username, "a-brand-new-password")).status_code == 200


def test_password_change_on_the_page_keeps_this_session(client, app):
    username, _ = _new_staff(client)
    web = client_from(app)
    token = bearer(web, username, PASSWORD)
    _sign_in_on_the_page(web, username)
    page = web.get("/me/password")
    assert page.status_code == 200 and "修改密码" in page.text
    response = web.post("/me/password", data={"csrf_token": _csrf(page.text), "current_password": PASSWORD,
                                               "new_password": "a-brand-new-password"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert web.get("/staff", follow_redirects=False).status_code == 200  # this browser stays signed in
    assert_problem(web.get("/api/v1/auth/me", headers=token), 401, "invalid-token")


def test_admin_ends_a_users_sessions(client, app):
    username, user_id = _new_staff(client)
    api = client_from(app)
    token = bearer(api, username, PASSWORD)
    cookie = _sign_in_on_the_page(client_from(app), username)
    assert_problem(api.post(f"/api/v1/users/{user_id}/sessions/revoke", headers=token), 403, "permission-denied")
    revoked = client.post(f"/api/v1/users/{user_id}/sessions/revoke", headers=bearer(client, "admin"))
    assert revoked.status_code == 200, revoked.text
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert not _signed_in(app, cookie)


def test_admin_ends_sessions_from_the_staff_page(client, app):
    username, user_id = _new_staff(client)
    cookie = _sign_in_on_the_page(client_from(app), username)
    admin = client_from(app)
    _sign_in_on_the_page(admin, "admin", "tongban-demo-2026")
    page = admin.get("/staff/departments/PD-MZ")
    assert page.status_code == 200 and username in page.text and "结束会话" in page.text
    response = admin.post(f"/staff/users/{user_id}/sessions/revoke", data={"csrf_token": _csrf(page.text)},
                          follow_redirects=False)
    assert response.status_code == 303, response.text
    assert not _signed_in(app, cookie)


def test_a_disabled_account_is_out_at_once(client, app, db):
    from sqlalchemy import update

    from tongban.accounts.models import User

    username, user_id = _new_staff(client)
    api = client_from(app)
    token = bearer(api, username, PASSWORD)
    cookie = _sign_in_on_the_page(client_from(app), username)
    db.execute(update(User).where(User.id == user_id).values(is_active=False))
    db.commit()
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert not _signed_in(app, cookie)
