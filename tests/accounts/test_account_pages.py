"""The account pages a signed-in person refills after a refusal (a wrong current password, a
company they do not represent) keep the signed-in menu: a page showing 登录 to someone signed in
tells them their session ended when it did not."""

from __future__ import annotations

from identity_helpers import client_from, csrf_of, new_staff, sign_in_on_the_page


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
