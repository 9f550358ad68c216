"""Sessions that really end (finding 5): sign-out, password change and an admin's revocation end
the account's web sessions and bearer tokens at once; the cookie is an opaque id."""

from __future__ import annotations

import base64
import re

from sqlalchemy import select

from tongban.core.sessions import WebSession

from helpers import assert_problem, bearer
from identity_helpers import SESSION_COOKIE, admin_browser, STAFF_PASSWORD, client_from, csrf_of, new_staff, sign_in_on_the_page

def _staff_with_token_and_cookie(client, app):
    """A new staff member holding a bearer token and signed in on a page elsewhere:
    (username, id, a client from one address, its token, the other browser's cookie)."""
    username, user_id = new_staff(client)
    api = client_from(app)
    return username, user_id, api, bearer(api, username, STAFF_PASSWORD), sign_in_on_the_page(client_from(app), username)


def _signed_in(app, cookie: str) -> bool:
    """Whether a browser holding (a copy of) this cookie is signed in."""
    other = client_from(app)
    other.cookies.set(SESSION_COOKIE, cookie)
    return other.get("/staff", follow_redirects=False).status_code == 200


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(client, app):
    username, _ = new_staff(client)
    web = client_from(app)
    cookie = sign_in_on_the_page(web, username)
    assert _signed_in(app, cookie)
    out = web.post("/logout", data={"csrf_token": csrf_of(web.get("/staff").text)}, follow_redirects=False)
    assert out.status_code == 303
    assert not _signed_in(app, cookie)  # a copy kept from before is worth nothing


def test_the_cookie_is_an_opaque_id(client, app, db):
    # Was a check that the user's id ("75") and "user" do not occur in the cookie, which a random
    # id contains by chance now and then (CI, stop 35). Opaque means: 32 random bytes and nothing
    # else (no signed payload, no separator), a new one at every sign-in, and the id only in
    # digested form on the server.
    username, user_id = new_staff(client)
    cookie = sign_in_on_the_page(client_from(app), username)
    again = sign_in_on_the_page(client_from(app), username)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie), cookie
    assert len(base64.urlsafe_b64decode(cookie + "=")) == 32
    assert again != cookie and username not in cookie
    keys = set(db.scalars(select(WebSession.id).where(WebSession.user_id == user_id)))
    db.rollback()
    assert len(keys) == 2 and cookie not in keys and again not in keys


def test_sign_in_gives_a_new_session_id(client, app):
    username, _ = new_staff(client)
    web = client_from(app)
    page = web.get("/login")
    # The sign-in page makes no session (its CSRF token has a cookie of its own); an id an attacker
    # planted in the browser (fixation) is not taken over.
    assert SESSION_COOKIE not in web.cookies
    before = "planted-" + "x" * 40
    web.cookies.set(SESSION_COOKIE, before)
    signed_in = web.post("/login", data={"username": username, "password": STAFF_PASSWORD,
                                         "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    after = signed_in.cookies[SESSION_COOKIE]
    assert after != before and _signed_in(app, after) and not _signed_in(app, before)


def test_api_sign_out_ends_only_the_token_it_is_made_with(client, app):
    # Was test_sign_out_ends_bearer_tokens, which required one token's sign-out to end the
    # account's other tokens too; now sign-out ends this credential, "everywhere" ends them all.
    username, _ = new_staff(client)
    api = client_from(app)
    token, other_token = bearer(api, username, STAFF_PASSWORD), bearer(api, username, STAFF_PASSWORD)
    assert api.post("/api/v1/auth/logout", headers=token).status_code == 204
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert api.get("/api/v1/auth/me", headers=other_token).status_code == 200  # another script goes on
    assert api.get("/api/v1/auth/me", headers=bearer(api, username, STAFF_PASSWORD)).status_code == 200  # signs in again


def test_page_sign_out_ends_only_this_browsers_session(client, app):
    username, _ = new_staff(client)
    office, phone = client_from(app), client_from(app)
    office_cookie, phone_cookie = sign_in_on_the_page(office, username), sign_in_on_the_page(phone, username)
    token = bearer(client_from(app), username, STAFF_PASSWORD)
    out = office.post("/logout", data={"csrf_token": csrf_of(office.get("/staff").text)}, follow_redirects=False)
    assert out.status_code == 303
    assert 'Max-Age=0' in out.headers["set-cookie"]  # the cookie is cleared
    assert not _signed_in(app, office_cookie)
    assert _signed_in(app, phone_cookie)  # the phone stays signed in
    assert client_from(app).get("/api/v1/auth/me", headers=token).status_code == 200  # and the script too


def test_page_sign_out_deletes_the_session_row(client, app, db):
    from sqlalchemy import func, select

    from tongban.core.sessions import WebSession

    username, user_id = new_staff(client)
    web = client_from(app)
    sign_in_on_the_page(web, username)
    sign_in_on_the_page(client_from(app), username)
    def count() -> int:
        try:
            return db.scalar(select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id))
        finally:
            db.rollback()

    assert count() == 2
    web.post("/logout", data={"csrf_token": csrf_of(web.get("/staff").text)}, follow_redirects=False)
    assert count() == 1


def test_sign_out_everywhere_on_the_account_page_ends_every_session_and_token(client, app):
    username, _ = new_staff(client)
    web, phone = client_from(app), client_from(app)
    sign_in_on_the_page(web, username)
    phone_cookie = sign_in_on_the_page(phone, username)
    token = bearer(client_from(app), username, STAFF_PASSWORD)
    page = web.get("/me")
    assert page.status_code == 200 and "退出所有设备" in page.text
    response = web.post("/me/sessions/end", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert web.get("/staff", follow_redirects=False).status_code != 200
    assert not _signed_in(app, phone_cookie)
    assert_problem(client_from(app).get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert "已退出所有设备" in web.get("/login").text


def test_sign_out_everywhere_by_the_api(client, app):
    username, _ = new_staff(client)
    api = client_from(app)
    token, other_token = bearer(api, username, STAFF_PASSWORD), bearer(api, username, STAFF_PASSWORD)
    cookie = sign_in_on_the_page(client_from(app), username)
    assert api.post("/api/v1/auth/logout/everywhere", headers=token).status_code == 204
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert_problem(api.get("/api/v1/auth/me", headers=other_token), 401, "invalid-token")
    assert not _signed_in(app, cookie)


def _token(api, username) -> str:
    return bearer(api, username, STAFF_PASSWORD)["Authorization"].removeprefix("Bearer ")


def test_token_revocation_rfc7009_ends_that_token_only(client, app):
    username, _ = new_staff(client)
    api = client_from(app)
    token, other = _token(api, username), _token(api, username)
    revoked = api.post("/api/v1/auth/revoke", data={"token": token, "token_type_hint": "access_token"})
    assert revoked.status_code == 200 and revoked.content == b""
    assert_problem(api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid-token")
    assert api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    # Revoking again, or revoking garbage, is answered the same (RFC 7009 §2.2).
    assert api.post("/api/v1/auth/revoke", data={"token": token}).status_code == 200
    assert api.post("/api/v1/auth/revoke", data={"token": "not-a-token"}).status_code == 200


def test_a_revoked_token_is_refused_by_another_worker_process(client, app, database):
    """The deny-list lives in the database: an app that never saw the revocation refuses it."""
    from fastapi.testclient import TestClient

    from tongban.app import create_app

    username, _ = new_staff(client)
    token = _token(client_from(app), username)
    other_worker = create_app(database.settings)
    second = TestClient(other_worker)
    try:
        assert second.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert client_from(app).post("/api/v1/auth/revoke", data={"token": token}).status_code == 200
        assert_problem(second.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid-token")
    finally:
        other_worker.state.engine.dispose()


def test_password_change_needs_the_current_one_and_ends_sessions_and_tokens(client, app):
    username, _, api, token, cookie = _staff_with_token_and_cookie(client, app)
    wrong = api.post("/api/v1/auth/password", headers=token,
                     json={"current_password": "not-the-password", "new_password": "a-brand-new-password"})
    assert_problem(wrong, 401, "invalid-credentials")
    assert api.get("/api/v1/auth/me", headers=token).status_code == 200  # a refused change changes nothing
    changed = api.post("/api/v1/auth/password", headers=token,
                       json={"current_password": STAFF_PASSWORD, "new_password": "a-brand-new-password"})
    assert changed.status_code == 204, changed.text
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert not _signed_in(app, cookie)
    assert_problem(api.post("/api/v1/auth/token", data={"grant_type": "password", "username": username,
                                                        "password": STAFF_PASSWORD}), 401, "invalid-credentials")
    assert api.get("/api/v1/auth/me", headers=bearer(api, username, "a-brand-new-password")).status_code == 200


def test_password_change_on_the_page_keeps_this_session(client, app):
    username, _ = new_staff(client)
    web = client_from(app)
    token = bearer(web, username, STAFF_PASSWORD)
    sign_in_on_the_page(web, username)
    page = web.get("/me/password")
    assert page.status_code == 200 and "修改密码" in page.text
    response = web.post("/me/password", data={"csrf_token": csrf_of(page.text), "current_password": STAFF_PASSWORD,
                                               "new_password": "a-brand-new-password"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert web.get("/staff", follow_redirects=False).status_code == 200  # this browser stays signed in
    assert_problem(web.get("/api/v1/auth/me", headers=token), 401, "invalid-token")


def test_admin_ends_a_users_sessions(client, app):
    username, user_id, api, token, cookie = _staff_with_token_and_cookie(client, app)
    assert_problem(api.post(f"/api/v1/users/{user_id}/sessions/revoke", headers=token), 403, "permission-denied")
    revoked = client.post(f"/api/v1/users/{user_id}/sessions/revoke", headers=bearer(client, "admin"))
    assert revoked.status_code == 200, revoked.text
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert not _signed_in(app, cookie)


def test_admin_ends_sessions_from_the_staff_page(client, app):
    username, user_id = new_staff(client)
    cookie = sign_in_on_the_page(client_from(app), username)
    admin = admin_browser(app)
    page = admin.get("/staff/departments/PD-MZ")
    assert page.status_code == 200 and username in page.text and "结束会话" in page.text
    response = admin.post(f"/staff/users/{user_id}/sessions/revoke", data={"csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert response.status_code == 303, response.text
    assert not _signed_in(app, cookie)


def test_a_disabled_account_is_out_at_once(client, app, db):
    from sqlalchemy import update

    from tongban.accounts.models import User

    username, user_id, api, token, cookie = _staff_with_token_and_cookie(client, app)
    db.execute(update(User).where(User.id == user_id).values(is_active=False))
    db.commit()
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert not _signed_in(app, cookie)


def test_admin_disables_a_staff_account_which_ends_its_sessions_and_cannot_sign_in(client, app, db):
    from sqlalchemy import select

    from tongban.core.audit import AuditEvent

    username, user_id, api, token, cookie = _staff_with_token_and_cookie(client, app)
    assert_problem(api.post(f"/api/v1/users/{user_id}/disable", headers=token), 403, "permission-denied")
    disabled = client.post(f"/api/v1/users/{user_id}/disable", headers=bearer(client, "admin"))
    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["is_active"] is False
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")
    assert not _signed_in(app, cookie)
    refused = assert_problem(api.post("/api/v1/auth/token", data={"grant_type": "password", "username": username,
                                                                 "password": STAFF_PASSWORD}), 403, "account-disabled")
    assert "停用" in refused["detail"]
    page = client_from(app)
    login = page.post("/login", data={"username": username, "password": STAFF_PASSWORD,
                                      "csrf_token": csrf_of(page.get("/login").text)}, follow_redirects=False)
    assert login.status_code == 403 and "账户已停用" in login.text
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user_id))))
    db.rollback()
    assert "users.disable" in actions

    enabled = client.post(f"/api/v1/users/{user_id}/enable", headers=bearer(client, "admin"))
    assert enabled.status_code == 200 and enabled.json()["is_active"] is True
    assert_problem(api.get("/api/v1/auth/me", headers=token), 401, "invalid-token")  # old tokens stay ended
    assert api.get("/api/v1/auth/me", headers=bearer(api, username, STAFF_PASSWORD)).status_code == 200
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user_id))))
    db.rollback()
    assert "users.enable" in actions


def test_admin_disables_and_enables_from_the_staff_page(client, app):
    username, user_id = new_staff(client)
    cookie = sign_in_on_the_page(client_from(app), username)
    admin = admin_browser(app)
    page = admin.get("/staff/departments/PD-MZ")
    assert f'action="/staff/users/{user_id}/disable"' in page.text and "停用" in page.text
    response = admin.post(f"/staff/users/{user_id}/disable", data={"csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert response.status_code == 303, response.text
    assert not _signed_in(app, cookie)
    page = admin.get("/staff/departments/PD-MZ")
    assert "已停用" in page.text and f'action="/staff/users/{user_id}/enable"' in page.text
    assert_problem(client_from(app).post("/api/v1/auth/token", data={
        "grant_type": "password", "username": username, "password": STAFF_PASSWORD}), 403, "account-disabled")
    response = admin.post(f"/staff/users/{user_id}/enable", data={"csrf_token": csrf_of(page.text)},
                          follow_redirects=False)
    assert response.status_code == 303
    assert _signed_in(app, sign_in_on_the_page(client_from(app), username))


def test_an_admin_cannot_disable_themselves(client):
    admin = client.get("/api/v1/auth/me", headers=bearer(client, "admin")).json()
    assert_problem(client.post(f"/api/v1/users/{admin['id']}/disable", headers=bearer(client, "admin")), 409, "conflict")


def test_an_account_id_beyond_the_database_integer_is_refused_and_changes_nothing(client):
    admin = bearer(client, "admin")
    for action in ("disable", "enable", "password-reset"):
        assert_problem(client.post(f"/api/v1/users/{2**31}/{action}", headers=admin), 422, "validation-error")
    assert_problem(client.post(f"/api/v1/clients/{'x' * 65}/secret", headers=admin), 422, "validation-error")


def _session_rows(db) -> int:
    from sqlalchemy import func, select

    from tongban.core.sessions import WebSession

    count = db.scalar(select(func.count()).select_from(WebSession))
    db.rollback()
    return count


def test_anonymous_visits_write_no_session_row(client, app, db):
    before = _session_rows(db)
    web = client_from(app)
    for _ in range(100):
        web.cookies.clear()  # a new visitor each time, as crawlers and scanners come
        for path in ("/", "/login"):
            page = web.get(path)
            assert page.status_code == 200 and SESSION_COOKIE not in page.cookies
    again = web.get("/login")  # a returning visitor keeps the token its cookie carries
    assert csrf_of(again.text) == csrf_of(web.get("/login").text)
    assert _session_rows(db) == before


def _refused(page) -> None:
    assert page.status_code == 403 and "CSRF" in page.text, page.text
    assert SESSION_COOKIE not in page.cookies


def test_the_sign_in_form_still_refuses_a_missing_wrong_or_forged_token(client, app):
    username, _ = new_staff(client)
    web = client_from(app)
    token = csrf_of(web.get("/login").text)
    form = {"username": username, "password": STAFF_PASSWORD}
    _refused(web.post("/login", data=form, follow_redirects=False))
    _refused(web.post("/login", data={**form, "csrf_token": token[::-1]}, follow_redirects=False))
    # A cookie planted without the server's signature (a sibling host, an attacker's page) counts for nothing.
    forger = client_from(app)
    forger.cookies.set("tongban_csrf", "a-token-of-the-attackers-own-choosing.0000")
    _refused(forger.post("/login", data={**form, "csrf_token": "a-token-of-the-attackers-own-choosing"},
                         follow_redirects=False))
    assert web.post("/login", data={**form, "csrf_token": token}, follow_redirects=False).status_code == 303


def test_the_principal_rows_name_the_columns_of_their_statements_in_order():
    """``load_principal`` reads its rows by name: each row type's fields are the columns its
    statement selects, in the same order, so a column added to one and not the other fails here."""
    from tongban.accounts import service

    for row_type, statement in ((service._UserRow, service._USER_PRINCIPAL), (service._ClientRow, service._CLIENT_PRINCIPAL)):
        selected = [column.key for column in statement.statement.selected_columns]
        renamed = {"department_id": "id", "department_code": "code", "department_name": "name", "department_duty": "duty"}
        assert [renamed.get(field, field) for field in row_type._fields] == selected
