"""Sign-in: passwords, client credentials, lock-out, web sessions with CSRF."""

from __future__ import annotations

import re
import uuid

from helpers import assert_problem, bearer
from stdnum.cn import ric, uscc

from tongban import demo
from tongban.core.permissions import Role
from tongban.core import clock


def _new_staff(client, department="PD-MZ", roles=("reviewer",)) -> str:
    username = f"u{uuid.uuid4().hex[:10]}"
    response = client.post("/api/v1/users", headers=bearer(client, "admin"), json={
        "username": username, "display_name": "测试人员", "password": "correct-horse-battery",
        "department_code": department, "roles": list(roles)})
    assert response.status_code == 201, response.text
    return username


def _token(client, username, password):
    return client.post("/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password})


def test_every_demo_role_signs_in(client):
    for account in demo.STAFF + [demo.CITIZEN, demo.ENTERPRISE]:
        me = client.get("/api/v1/auth/me", headers=bearer(client, account.username)).json()
        assert me["roles"] == [account.role.value]


def test_tokens_expire_and_say_when(client):
    body = _token(client, "clerk", demo.DEMO_PASSWORD).json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 30 * 60
    assert body["expires_at"].endswith("Z") or "+00:00" in body["expires_at"]


def test_citizen_signs_in_with_a_lower_case_x(client):
    # Pudong's code 310115 exists from 1993 on: stdnum checks the region against the birth year.
    number = next(n for n in (f"31011519950101{k}" + ric.calc_check_digit(f"31011519950101{k}0") for k in range(100, 1000))
                  if n.endswith("X"))
    response = client.post("/api/v1/accounts/citizens", json={"resident_id": number.lower(), "name": "钱七", "password": "a-long-password-1"})
    if response.status_code == 409:  # shared database: registered by an earlier run of this test
        pass
    else:
        assert response.status_code == 201, response.text
        assert response.json()["username"] == number  # stored upper-case
    assert _token(client, number.lower(), "a-long-password-1").status_code == 200


def test_duplicate_registration_is_409(client):
    stem = "91310115MA1FL0099"
    code = stem + uscc.calc_check_digit(stem)
    first = client.post("/api/v1/accounts/enterprises", json={"credit_code": code, "name": "重复公司", "password": "a-long-password-1"})
    assert first.status_code in (201, 409)
    again = client.post("/api/v1/accounts/enterprises", json={"credit_code": code, "name": "重复公司", "password": "a-long-password-1"})
    assert_problem(again, 409, "conflict")


def test_lock_out_after_repeated_failures(client):
    username = _new_staff(client)
    for _ in range(5):
        assert_problem(_token(client, username, "wrong-password!"), 401, "invalid-credentials")
    locked = assert_problem(_token(client, username, "correct-horse-battery"), 429, "account-locked")
    assert "锁定" in locked["detail"]
    response = _token(client, username, "correct-horse-battery")
    assert int(response.headers["retry-after"]) > 0


def test_lock_out_backs_off(fresh_database):
    # The lock is kept per (account, client address) now, not on the account (finding 7).
    from datetime import timedelta

    from sqlalchemy import select

    from tongban.accounts import service
    from tongban.accounts.models import User
    from tongban.core.db.session import session_scope
    from tongban.core.errors import Problem
    from tongban.core.throttle import Throttle

    settings = fresh_database.settings
    lock_minutes = []
    with session_scope(fresh_database.sessionmaker()) as db:
        user_id = db.scalar(select(User.id).where(User.username == "grid"))
        key = f"sign-in:{user_id}@203.0.113.9"
        for _ in range(7):
            row = db.get(Throttle, key)
            if row is not None:
                row.locked_until = None  # as if the lock had run out
            try:
                service.authenticate_user(db, settings, username="grid", password="wrong", address="203.0.113.9")
            except Problem:
                pass
            row = db.get(Throttle, key)
            if row.locked_until:
                lock_minutes.append(round((row.locked_until - clock.now()) / timedelta(minutes=1)))
    assert lock_minutes == [15, 30, 60]


def test_success_resets_the_failure_count(client):
    username = _new_staff(client)
    for _ in range(4):
        _token(client, username, "wrong-password!")
    assert _token(client, username, "correct-horse-battery").status_code == 200
    for _ in range(4):
        _token(client, username, "wrong-password!")
    assert _token(client, username, "correct-horse-battery").status_code == 200


def test_client_credentials(client):
    response = client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": demo.CLIENT_ID, "client_secret": demo.DEMO_CLIENT_SECRET})
    assert response.status_code == 200, response.text
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}).json()
    assert me == {**me, "actor_type": "client", "department_code": "PD-GA", "roles": [Role.DEPARTMENT_SYSTEM.value]}


def test_client_credentials_over_http_basic(client):
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials"},
                           auth=(demo.CLIENT_ID, demo.DEMO_CLIENT_SECRET))
    assert response.status_code == 200


def test_wrong_client_secret(client):
    response = client.post("/api/v1/auth/token", data={
        "grant_type": "client_credentials", "client_id": demo.CLIENT_ID, "client_secret": "nope"})
    body = assert_problem(response, 401, "invalid-client")
    assert body["error"] == "invalid_client"


def test_unsupported_grant(client):
    body = assert_problem(client.post("/api/v1/auth/token", data={"grant_type": "implicit"}), 400, "unsupported-grant-type")
    assert body["error"] == "unsupported_grant_type"


def test_new_client_gets_its_secret_once(client, as_role):
    response = client.post("/api/v1/clients", json={"name": "民政局婚姻登记系统", "department_code": "PD-MZ"}, headers=as_role("admin"))
    assert response.status_code == 201
    created = response.json()
    token = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": created["client_id"],
                                                    "client_secret": created["client_secret"]})
    assert token.status_code == 200


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_web_sign_in_and_out(client):
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.text
    response = client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD,
                                           "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    workbench = client.get("/staff")
    assert workbench.status_code == 200 and "王晓燕" in workbench.text
    out = client.post("/logout", data={"csrf_token": _csrf(workbench.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/staff", follow_redirects=False).headers["location"].startswith("/login")


def test_sign_in_form_without_csrf_token_is_refused(client):
    client.get("/login")
    response = client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403 and "CSRF" in response.text
    assert client.get("/staff", follow_redirects=False).status_code == 303


def test_wrong_password_on_the_page_says_so_in_chinese(client):
    page = client.get("/login")
    response = client.post("/login", data={"username": "clerk", "password": "wrong", "csrf_token": _csrf(page.text)})
    assert response.status_code == 401 and "用户名或密码错误" in response.text


def test_cookie_session_api_writes_need_the_csrf_header(client):
    page = client.get("/login")
    client.post("/login", data={"username": "admin", "password": demo.DEMO_PASSWORD, "csrf_token": _csrf(page.text)})
    body = {"name": "卫健委信息系统", "department_code": "PD-WJW"}
    assert_problem(client.post("/api/v1/clients", json=body), 403, "csrf-failed")
    token = _csrf(client.get("/staff").text)
    assert client.post("/api/v1/clients", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_next_only_goes_to_local_pages(client):
    page = client.get("/login?next=https://evil.example/")
    response = client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD, "csrf_token": _csrf(page.text),
                                           "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/staff"


def test_next_with_whitespace_is_not_kept(client):
    """Browsers drop tabs and line breaks from a URL: "/<tab>/evil.example" is "//evil.example" to
    them. The sign-in page keeps only what core.urls.local_path accepts, as links do (safe_href)."""
    page = client.get("/login", params={"next": "/\t/evil.example/"})
    assert 'name="next" value=""' in page.text
    response = client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD,
                                           "csrf_token": _csrf(page.text), "next": "/\n/evil.example/"},
                           follow_redirects=False)
    assert response.headers["location"] == "/staff"


def test_citizen_has_no_workbench(client):
    headers = bearer(client, demo.CITIZEN.username)
    assert_problem(client.get("/api/v1/audit/events", headers=headers), 403, "permission-denied")
