"""Pages in a real browser: sign in through the page and reach the workbench."""

from __future__ import annotations

import pytest

from tongban import demo

from .conftest import screenshot

pytestmark = pytest.mark.browser


def test_window_clerk_signs_in_and_reaches_the_workbench(page, live_server, database):
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="登录").click()
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill("clerk")
    page.get_by_label("密码").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/staff")
    assert page.get_by_role("heading", name="工作台").is_visible()
    assert "王晓燕" in page.content()
    assert "窗口受理人员" in page.inner_text("main")
    assert "浦东新区市场监督管理局" in page.inner_text("main")
    shot = screenshot(page, f"workbench-clerk-{database.engine_name}")
    assert shot.stat().st_size > 10_000


def test_wrong_password_stays_on_the_sign_in_page(page, live_server):
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill("clerk")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").inner_text() == "用户名或密码错误"


def test_sign_in_works_from_the_keyboard_on_a_phone(browser, live_server, database):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent") == "跳到主要内容"
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").focus()
    page.keyboard.type("inspector")
    page.keyboard.press("Tab")
    page.keyboard.type(demo.DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/staff")
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, f"workbench-phone-{database.engine_name}")
    context.close()


def test_deadline_calculator_on_the_portal(page, live_server):
    page.goto(f"{live_server}/")
    page.get_by_label("起算日期（受理日）").fill("2025-09-30")
    page.get_by_label("期限（工作日）").fill("3")
    page.get_by_role("button", name="计算截止日期").click()
    assert page.locator(".due").inner_text() == "2025-10-11"
