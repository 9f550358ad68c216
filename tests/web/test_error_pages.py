"""The pages' error renderer decides by the problem's slug (the stable contract), not by its status
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
