"""实名核验 in a real browser at phone width: register, enter the code the registry's phone got,
see the form prefilled; signing out ends the session for every copy of its cookie."""

from __future__ import annotations

import json
import random
import re

import httpx
import pytest
from helpers import fresh_resident_id

from tongban import demo

from .conftest import screenshot

pytestmark = pytest.mark.browser

PASSWORD = "my-browser-password-1"


def _code_sent_to(database, phone: str) -> str:
    path = database.settings.data_dir / "sms-outbox.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return re.search(r"\b(\d{6})\b", [m for m in lines if m["phone"] == phone][-1]["message"]).group(1)


def _person_in_registry(live_server: str, name: str, phone: str) -> str:
    token = httpx.post(f"{live_server}/api/v1/auth/token", data={
        "grant_type": "password", "username": "steward", "password": demo.DEMO_PASSWORD}).json()["access_token"]
    number = fresh_resident_id()
    response = httpx.post(f"{live_server}/api/v1/registries/persons", headers={"Authorization": f"Bearer {token}"}, json={
        "values": {"id_number": number, "name": name, "ethnicity": "汉族", "residence_status": "户籍", "phone": phone,
                   "household_address": "上海市浦东新区花木路200弄2号202室"},
        "reason": "户籍登记"})
    assert response.status_code == 201, response.text
    return number


def test_register_verify_then_the_form_is_prefilled_and_sign_out_ends_the_session(browser, live_server, database):
    name, phone = "陈浏览", "137" + "".join(random.choice("0123456789") for _ in range(8))
    number = _person_in_registry(live_server, name, phone)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_role("link", name="个人注册").click()
    page.get_by_label("公民身份号码").fill(number)
    page.get_by_label("姓名").fill(name)
    page.get_by_label("密码（至少 10 个字符）").fill(PASSWORD)
    page.get_by_role("button", name="注册并获取验证码").click()
    page.wait_for_url(f"{live_server}/verify")  # the ID number stays out of the address
    assert "验证码已发送" in page.locator(".flash").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("短信验证码").fill(_code_sent_to(database, phone))
    page.get_by_role("button", name="提交核验").click()
    page.wait_for_url(f"{live_server}/login")
    assert "实名核验已完成" in page.locator(".flash").inner_text()
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill(number)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/me")
    assert "已核验" in page.locator("#verification-status").inner_text()
    page.goto(f"{live_server}/apply/enterprise-setup")
    assert page.locator("#field_applicant_name").input_value() == name
    assert page.locator("#field_phone").input_value() == phone
    screenshot(page, f"identity-prefilled-{database.engine_name}")
    kept = context.cookies()  # a copy of the signed-in cookie, as a thief would keep it
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{live_server}/")
    context.close()
    thief = browser.new_context(locale="zh-CN")
    thief.add_cookies(kept)
    stolen = thief.new_page()
    stolen.goto(f"{live_server}/me")
    assert stolen.url.startswith(f"{live_server}/login")
    thief.close()


def test_an_unverified_account_is_told_to_verify(browser, live_server):
    number = fresh_resident_id()
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server}/register")
    page.get_by_label("公民身份号码").fill(number)
    page.get_by_label("姓名").fill("无此人")
    page.get_by_label("密码（至少 10 个字符）").fill(PASSWORD)
    page.get_by_role("button", name="注册并获取验证码").click()
    page.wait_for_url(f"{live_server}/verify")  # the ID number stays out of the address
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill(number)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/me")
    assert "未核验" in page.locator("#verification-status").inner_text()
    response = page.goto(f"{live_server}/apply/enterprise-setup")
    assert response.status == 403 and "实名核验" in page.inner_text("main")
    context.close()


def _sign_in(context, live_server: str, username: str, password: str):
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def test_sign_out_everywhere_and_the_admin_pages_at_phone_width(browser, live_server, database):
    phone_size = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "locale": "zh-CN"}
    admin = browser.new_context(**phone_size)
    admin_page = _sign_in(admin, live_server, "admin", demo.DEMO_PASSWORD)
    for path in ("/staff/departments/PD-MZ", "/staff/clients"):
        admin_page.goto(f"{live_server}{path}")
        assert admin_page.evaluate("document.documentElement.scrollWidth") <= 390, path
        for button in admin_page.locator("td.actions button").all():  # each row a card: buttons on screen
            box = button.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (path, button.inner_text())
    assert admin_page.get_by_role("button", name="更换密钥").count() >= 1
    screenshot(admin_page, f"identity-clients-{database.engine_name}")
    admin.close()

    # A staff member of their own: the demo accounts' sessions stay as other tests left them.
    token = httpx.post(f"{live_server}/api/v1/auth/token", data={
        "grant_type": "password", "username": "admin", "password": demo.DEMO_PASSWORD}).json()["access_token"]
    username = f"b{random.randrange(10**9):09d}"
    made = httpx.post(f"{live_server}/api/v1/users", headers={"Authorization": f"Bearer {token}"}, json={
        "username": username, "display_name": "浏览器测试", "password": PASSWORD, "department_code": "PD-MZ",
        "roles": ["reviewer"]})
    assert made.status_code == 201, made.text
    office, phone = browser.new_context(**phone_size), browser.new_context(**phone_size)
    office_page = _sign_in(office, live_server, username, PASSWORD)
    phone_page = _sign_in(phone, live_server, username, PASSWORD)
    office_page.goto(f"{live_server}/me")
    assert office_page.evaluate("document.documentElement.scrollWidth") <= 390
    office_page.get_by_role("button", name="退出所有设备").click()
    office_page.wait_for_url(f"{live_server}/login")
    assert "已退出所有设备" in office_page.locator(".flash").inner_text()
    phone_page.goto(f"{live_server}/me")
    assert phone_page.url.startswith(f"{live_server}/login")  # the other device is signed out too
    office.close()
    phone.close()


def test_the_staff_list_names_roles_in_chinese_and_keeps_its_buttons_whole_at_phone_width(browser, live_server,
                                                                                         database):
    admin = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN")
    page = _sign_in(admin, live_server, "admin", demo.DEMO_PASSWORD)
    page.goto(f"{live_server}/staff/departments/PD-EGOV")
    own_row = page.locator("tbody tr", has_text="admin")
    assert "电子政务办管理员" in own_row.inner_text() and "egov_admin" not in page.inner_text("main")
    assert own_row.get_by_role("button").count() == 0  # no one disables or resets themselves
    page.goto(f"{live_server}/staff/departments/PD-MZ")
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", page.locator("tbody").inner_text().replace("steward.mz", ""))
    # 结束会话 on one line, as tall as 停用; on a phone each person is a card: every button on screen
    long, short = page.get_by_role("button", name="结束会话").first, page.get_by_role("button", name="停用").first
    assert long.bounding_box()["height"] == short.bounding_box()["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for button in page.locator("td.actions button").all():
        box = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, button.inner_text()
    screenshot(page, f"identity-staff-list-{database.engine_name}")
    admin.close()
