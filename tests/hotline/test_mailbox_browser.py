"""领导信箱 in a real browser, each person on their own 390-px phone page: the citizen writes a
letter with consent from the portal; the letters office assigns it to 城管执法局; the department
replies; the office sends the reply and publishes the letter; the citizen reads the reply in
「我的来信」 and the published letter, without their name or phone, in 「信件选登」.
Screenshots under test-artifacts/mailbox/."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import ARTIFACTS, screenshot, signed_in

from tongban import demo

pytestmark = pytest.mark.browser

PHONE = 390
OWN_PHONE = "13812345678"
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def _shot(page, name: str) -> None:
    (ARTIFACTS / "mailbox").mkdir(parents=True, exist_ok=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE, name
    screenshot(page, f"mailbox/{name}")


def _watch(page, errors: list[str]) -> None:
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Failed to load resource" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))


def test_a_citizen_writes_the_office_assigns_the_department_replies_and_the_letter_is_published(browser, live_server):
    errors: list[str] = []
    citizen_context, citizen = signed_in(browser, live_server, demo.CITIZEN.username, width=PHONE)
    _watch(citizen, errors)

    # 写信, from the portal's home
    citizen.goto(f"{live_server}/")
    citizen.get_by_role("link", name="领导信箱").first.click()
    citizen.wait_for_url(f"{live_server}/mailbox")
    assert "张伟" in citizen.locator("#writer-signed-in").inner_text()
    citizen.get_by_label("联系电话").fill(OWN_PHONE)
    citizen.get_by_label("信件标题").fill("建议在世纪公园增设夜跑照明")
    citizen.get_by_label("信件内容").fill(f"我是张伟，经常晚上在世纪公园周边夜跑，部分路段没有路灯，存在安全隐患。"
                                       f"建议增设照明。联系电话 {OWN_PHONE}。")
    citizen.get_by_label("同意：来信和答复可在「信件选登」中公开", exact=False).check()
    _shot(citizen, "01-write")
    citizen.get_by_role("button", name="提交来信").click()
    citizen.locator("#letter-number").wait_for()
    number = citizen.locator("#letter-number").inner_text().strip()
    assert re.fullmatch(r"XF-\d{8}-\w+", number) and len(citizen.locator("#query-code").inner_text().strip()) == 8
    _shot(citizen, "02-written")

    # the letters office: the queue, the letter, 交办 城管执法局
    office_context, office = signed_in(browser, live_server, "xinfang", width=PHONE)
    _watch(office, errors)
    office.goto(f"{live_server}/staff")
    office.locator("#mailbox-links").get_by_role("link", name="领导信箱").click()
    office.wait_for_url(f"{live_server}/staff/mailbox")
    assert number in office.locator("#mailbox-letters").inner_text()
    _shot(office, "03-office-queue")
    office.locator("#mailbox-letters").get_by_role("link", name=number).click()
    office.wait_for_url(f"{live_server}/staff/mailbox/{number}")
    assert OWN_PHONE in office.content()  # the office reads the contact (audited) to answer
    office.select_option("#assign-department", "PD-CGZF")
    office.get_by_label("办理期限（工作日）").fill("5")
    office.get_by_label("交办意见（可不填）").fill("请实地查看后答复")
    _shot(office, "04-office-assigns")
    office.get_by_role("button", name="交办").click()
    office.locator(".flash", has_text="已交办").wait_for()
    assert "部门办理中" in office.locator("#letter-status").inner_text()

    # the department: its letters, the reply
    department_context, department = signed_in(browser, live_server, "reviewer.cgzf", width=PHONE)
    _watch(department, errors)
    department.goto(f"{live_server}/staff/mailbox")
    department.locator("#mailbox-letters").get_by_role("link", name=number).click()
    department.get_by_label("答复内容").fill("经实地查看，已协调公园管理方在东侧夜跑路段增设 12 盏路灯，本月底前完成。")
    _shot(department, "05-department-replies")
    department.get_by_role("button", name="提交答复").click()
    department.locator(".flash", has_text="报信访办审核").wait_for()
    assert "待审核" in department.locator("#letter-status").inner_text()

    # the office sends the reply and publishes the letter (its preview without the writer's data)
    office.goto(f"{live_server}/staff/mailbox/{number}")
    assert "12 盏路灯" in office.get_by_label("发送来信人的答复（可修改）").input_value()
    office.get_by_role("button", name="审核通过，发送来信人").click()
    office.locator(".flash", has_text="已发送来信人").wait_for()
    preview = office.locator("#publish-preview").inner_text()
    assert "张伟" not in preview and OWN_PHONE not in preview and "[电话号码已隐去]" in preview
    _shot(office, "06-office-publishes")
    office.get_by_role("button", name="选登公开").click()
    office.locator(".flash", has_text="已选登公开").wait_for()
    assert "已答复并选登" in office.locator("#letter-status").inner_text()
    assert not SNAKE.search(office.inner_text("body"))  # every label in Chinese, no code

    # the citizen reads the reply in 我的来信, and the published letter on the portal
    citizen.goto(f"{live_server}/")
    citizen.get_by_role("link", name="我的来信").first.click()
    citizen.wait_for_url(f"{live_server}/mailbox/mine")
    row = citizen.locator("#my-letters tbody tr", has_text=number)
    assert "已答复" in row.inner_text() and "已选登" in row.inner_text()
    _shot(citizen, "07-my-letters")
    row.get_by_role("link", name=number).click()
    assert "12 盏路灯" in citizen.locator("#letter-reply").inner_text()
    _shot(citizen, "08-my-letter-reply")
    citizen.get_by_role("link", name="信件选登").click()
    citizen.wait_for_url(f"{live_server}/mailbox/published/{number}")
    text = citizen.locator("main").inner_text()
    assert "夜跑" in text and "12 盏路灯" in text and "张伟" not in text and OWN_PHONE not in text
    _shot(citizen, "09-published-letter")
    citizen.goto(f"{live_server}/mailbox/published")
    assert "夜跑照明" in citizen.locator("#published-letters").inner_text()
    _shot(citizen, "10-published-list")

    assert not errors, errors
    for context in (citizen_context, office_context, department_context):
        context.close()
