"""401 / 403 / 422 answers are problem+json with a stable type and a Chinese detail."""

from __future__ import annotations

from datetime import timedelta

from helpers import assert_problem

from tongban.core.security import issue_token
from tongban.core import clock


def test_wrong_password_is_401(client):
    response = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "clerk", "password": "not-the-password"})
    body = assert_problem(response, 401, "invalid-credentials")
    assert "用户名或密码错误" in body["detail"]


def test_unknown_user_is_the_same_401(client):
    response = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": "nobody-here", "password": "whatever-123"})
    assert_problem(response, 401, "invalid-credentials")


def test_expired_token_is_401(client, app):
    # Issued with the platform's key, but two hours ago with a 30-minute life.
    token = issue_token(subject="user:1", secret_key=app.state.settings.secret_key, ttl_minutes=30,
                        now=clock.now() - timedelta(hours=2)).access_token
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 401, "token-expired")
    assert "过期" in body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_forged_token_is_401(client):
    forged = issue_token(subject="user:1", secret_key="somebody-elses-key-" + "x" * 20, ttl_minutes=30).access_token
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"}), 401, "invalid-token")


def test_garbled_token_is_401(client):
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": "Bearer abc.def.ghi"}), 401, "invalid-token")
    assert_problem(client.get("/api/v1/auth/me", headers={"Authorization": "Token abc"}), 401, "invalid-token")


def test_tampered_claims_are_401(client, as_role):
    headers = as_role("clerk")
    header, payload, signature = headers["Authorization"].removeprefix("Bearer ").split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "user:5"  # try to become the e-government administrator
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {header}.{payload}.{signature}"})
    assert_problem(response, 401, "invalid-token")


def test_no_credentials_is_401(client):
    assert_problem(client.get("/api/v1/audit/events"), 401, "not-authenticated")


def test_missing_permission_is_403(client, as_role):
    body = assert_problem(client.get("/api/v1/audit/events", headers=as_role("clerk")), 403, "permission-denied")
    # The permission named in Chinese for people, its code for programs.
    assert "“查看审计日志”" in body["detail"] and body["required_permissions"] == ["audit:read"]


def test_another_departments_data_is_403(client, as_role):
    # The head of 人社局 may list the staff of 人社局 but not of 公安分局.
    headers = as_role("head")
    own = client.get("/api/v1/departments/PD-RS/staff", headers=headers)
    assert own.status_code == 200
    assert {u["username"] for u in own.json()} == {"head", "steward.rs", "reviewer.rs"}
    body = assert_problem(client.get("/api/v1/departments/PD-GA/staff", headers=headers), 403, "department-scope")
    assert "公安" in body["detail"]
    assert "steward" not in body["detail"]


def test_inspector_sees_every_department(client, as_role):
    response = client.get("/api/v1/departments/PD-GA/staff", headers=as_role("inspector"))
    assert response.status_code == 200
    assert "steward" in [u["username"] for u in response.json()]


def test_malformed_json_is_422(client):
    response = client.post("/api/v1/accounts/citizens", content=b'{"resident_id": "3101', headers={"Content-Type": "application/json"})
    body = assert_problem(response, 422, "malformed-json")
    assert "JSON" in body["detail"]


def test_invalid_resident_id_is_422_naming_the_field(client):
    response = client.post("/api/v1/accounts/citizens", json={
        "resident_id": "310115198806151239",  # last digit wrong: the check digit is 8
        "name": "张三", "password": "a-long-password-1"})
    body = assert_problem(response, 422, "validation-error")
    [error] = body["errors"]
    assert error["field"] == "body.resident_id"
    assert error["code"] == "invalid_resident_id"
    assert "校验位" in error["message"]


def test_resident_id_with_impossible_birth_date_is_422(client):
    from stdnum.cn import ric

    stem = "31011519881332123"  # 13th month
    number = stem + ric.calc_check_digit(stem + "0")
    response = client.post("/api/v1/accounts/citizens", json={"resident_id": number, "name": "张三", "password": "a-long-password-1"})
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["code"] == "invalid_resident_id"


def test_invalid_credit_code_is_422(client):
    response = client.post("/api/v1/accounts/enterprises", json={
        "credit_code": "91310115MA1FL0001X", "name": "某某公司", "password": "a-long-password-1"})
    body = assert_problem(response, 422, "validation-error")
    [error] = body["errors"]
    assert (error["field"], error["code"]) == ("body.credit_code", "invalid_credit_code")


def test_credit_code_with_unknown_region_is_422(client):
    from stdnum.cn import uscc

    stem = "91990000MA1FL0001"
    response = client.post("/api/v1/accounts/enterprises", json={
        "credit_code": stem + uscc.calc_check_digit(stem), "name": "某某公司", "password": "a-long-password-1"})
    body = assert_problem(response, 422, "validation-error")
    assert "行政区划" in body["errors"][0]["message"]


def test_every_bad_field_is_listed(client):
    response = client.post("/api/v1/accounts/citizens", json={"resident_id": "123", "password": "short"})
    body = assert_problem(response, 422, "validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.resident_id", "body.name", "body.password"}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e["message"]) for e in body["errors"])


def test_unknown_route_is_problem_json(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404, "not-found")


def test_unexpected_error_hides_the_stack_trace(database):
    from fastapi.testclient import TestClient

    from tongban.app import create_app
    from tongban.core.auth import require
    from tongban.core.permissions import Permission

    app = create_app(database.settings)

    @app.get("/api/v1/boom", dependencies=[require(Permission.PUBLIC)])
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


def test_denials_are_audited(client, as_role, db):
    from sqlalchemy import select

    from tongban.core.audit import AuditEvent

    response = client.get("/api/v1/departments/PD-GA/staff", headers=as_role("head"))
    request_id = response.headers["x-request-id"]
    entry = db.scalar(select(AuditEvent).where(AuditEvent.request_id == request_id))
    assert entry is not None
    assert (entry.outcome, entry.actor_name, entry.object_id) == ("denied", "赵立新", "PD-GA")
