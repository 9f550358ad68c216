"""Error pages tell a person what to do next in Chinese; a parameter check's program names
(query.start) are folded under 技术信息, not the message. Pages name their icon (no /favicon.ico 404).
The pages' error renderer decides by the problem's slug (the stable contract), not by its status
and title, which may be improved or shared by another problem."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tongban.app import create_app
from tongban.core.errors import PROBLEM_TYPES, Problem

_STATUS, _TITLE = PROBLEM_TYPES["password-change-required"]


def _app_raising(database):
    app = create_app(database.settings.model_copy(update={"relay_enabled": False}))

    @app.get("/probe/reset-password")
    def reset_password():  # the title improved one day: the slug still says what it is
        raise Problem("password-change-required", "请先修改密码", title="管理员已重置密码，请先设置新密码")

    @app.get("/probe/look-alike")
    def look_alike():  # another problem that happens to share the status and the title
        raise Problem("forbidden", "此页面暂不开放", status=_STATUS, title=_TITLE)

    return app


def test_the_change_password_redirect_is_decided_by_the_slug(database):
    with TestClient(_app_raising(database)) as browser:
        redirected = browser.get("/probe/reset-password", follow_redirects=False)
        assert redirected.status_code == 303 and redirected.headers["location"] == "/me/password"
        page = browser.get("/probe/look-alike", follow_redirects=False)
        assert page.status_code == _STATUS and "此页面暂不开放" in page.text


def test_a_page_missing_its_parameters_says_how_to_fix_it(client):
    page = client.get("/deadline", headers={"Accept": "text/html"})
    assert page.status_code == 422
    message = page.text.split("<h1>", 1)[1].split("<details>", 1)[0]
    assert "请返回上一页" in message and "query." not in message
    assert "技术信息" in page.text  # the fields are still there for whoever investigates


def test_a_missing_page_says_where_to_go(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "请检查网址是否正确" in page.text


def test_pages_name_their_icon_so_browsers_do_not_ask_for_a_missing_favicon(client):
    page = client.get("/")
    assert '<link rel="icon" href="/static/favicon.svg"' in page.text
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
