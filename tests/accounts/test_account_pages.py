"""The account pages a signed-in person refills after a refusal (a wrong current password, a
company they do not represent) keep the signed-in menu: a page showing 登录 to someone signed in
tells them their session ended when it did not."""

from __future__ import annotations

from tongban import demo
from identity_helpers import admin_browser, client_from, csrf_of, new_staff, person_in_registry, sign_in_on_the_page


def _signed_in_menu(html: str, name: str) -> bool:
    return 'action="/logout"' in html and name in html and 'href="/login"' not in html.split("</nav>")[0]


def test_a_refused_form_keeps_the_signed_in_menu(client, app):
    username, _ = new_staff(client, display_name="菜单测试")
    web = client_from(app)
    sign_in_on_the_page(web, username)
    page = web.get("/me/password")
    refused = web.post("/me/password", data={"current_password": "not-my-password", "new_password": "a-new-password-1",
                                             "csrf_token": csrf_of(page.text)})
    assert refused.status_code >= 400 and 'id="form-error"' in refused.text
    assert _signed_in_menu(refused.text, "菜单测试")
    verify = web.get("/verify")  # reached from 我的账户 by 「已有验证码，去输入」
    assert _signed_in_menu(verify.text, "菜单测试")


def test_the_verify_page_says_how_to_get_a_new_code(client, app):
    """A code that never came or ran out: the page names the way to a new one (signed in, a button
    that sends it; signed out, sign in first), not 找回账户, which asks for a new password."""
    anonymous = client_from(app).get("/verify").text
    assert 'href="/login"' in anonymous.split("</nav>")[1] and "重新发送验证码" in anonymous
    number, name, _ = person_in_registry(client, name="核验页面")
    web = client_from(app)
    made = web.post("/api/v1/accounts/citizens", json={"resident_id": number, "name": name, "password": "my-password-123"})
    assert made.status_code in (200, 201, 202), made.text
    sign_in_on_the_page(web, number, "my-password-123")
    signed_in = web.get("/verify").text
    assert 'action="/me/verification-code"' in signed_in


def test_a_secret_or_temporary_password_shown_once_is_not_styled_as_an_error(client, app):
    """.alert is the error style (red): the page that shows a new secret succeeded, and says so."""
    admin = admin_browser(app)
    page = admin.get("/staff/clients")
    made = admin.post("/staff/clients", data={"csrf_token": csrf_of(page.text), "name": "样式测试系统",
                                              "department_code": "PD-MZ"})
    assert made.status_code == 200 and 'id="client-secret"' in made.text
    assert 'class="alert"' not in made.text
    _, user_id = new_staff(client, display_name="样式测试")
    staff = admin.get("/staff/departments/PD-MZ")
    shown = admin.post(f"/staff/users/{user_id}/password-reset", data={"csrf_token": csrf_of(staff.text)})
    assert shown.status_code == 200 and 'id="temporary-password"' in shown.text
    assert 'class="alert"' not in shown.text


def test_error_pages_keep_the_signed_in_menu(client, app):
    username, _ = new_staff(client, display_name="错误页测试")
    web = client_from(app)
    sign_in_on_the_page(web, username)
    missing = web.get("/no-such-page")
    assert missing.status_code == 404 and _signed_in_menu(missing.text, "错误页测试")
    refused = web.get("/staff/clients")  # a reviewer may not manage department systems
    assert refused.status_code == 403 and _signed_in_menu(refused.text, "错误页测试")
    anonymous = client_from(app).get("/no-such-page")
    assert anonymous.status_code == 404 and 'href="/login"' in anonymous.text


def test_a_refusal_names_the_permission_in_chinese(client, app):
    from tongban.core.permissions import PERMISSION_LABELS, Permission

    assert set(PERMISSION_LABELS) == set(Permission)  # a new permission gets its Chinese name too
    username, _ = new_staff(client, display_name="权限名称")
    web = client_from(app)
    sign_in_on_the_page(web, username)
    refused = web.get("/staff/clients")
    assert refused.status_code == 403 and "没有“管理部门业务系统”权限" in refused.text


def test_a_refusal_names_the_permission_in_chinese_on_the_page_and_its_code_for_programs(client, as_role):
    api = client.get("/api/v1/supervision/clocks", headers=as_role(demo.CITIZEN.username))
    assert api.status_code == 403 and api.json()["type"] == "/problems/permission-denied"
    assert api.json()["required_permissions"] == ["supervision:read"]
    assert ":" not in api.json()["detail"]  # the detail is a sentence for people, no permission codes
