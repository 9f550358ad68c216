"""A request for disclosure in a real browser: a citizen files it on the portal (the fee shown
first), the disclosure office answers it with a partial disclosure from its queue, the citizen
follows it under 我的申请 and downloads the reply letter; every page fits a phone."""

from __future__ import annotations

import io

import pypdf
import pytest

from conftest import ARTIFACTS
from tongban import demo
from web.conftest import screenshot

pytestmark = pytest.mark.browser


def _signed_in(browser, live_server: str, username: str, width: int = 390):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 844}, is_mobile=width < 500)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名 / 身份证号 / 统一社会信用代码").fill(username)
    page.get_by_label("密码").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return context, page


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_citizen_files_a_request_the_office_answers_in_part_and_the_letter_is_downloaded(browser, live_server):
    citizen_context, citizen = _signed_in(browser, live_server, demo.CITIZEN.username)
    citizen.goto(f"{live_server}/")
    citizen.get_by_role("link", name="依申请公开").click()
    citizen.wait_for_url("**/disclosure/requests/new**")
    assert "信息处理费" in citizen.locator("#fee-preview").inner_text()
    citizen.get_by_label("受理申请的行政机关").select_option(label="浦东新区规划和自然资源局")
    citizen.get_by_label("所需政府信息的名称、文号或便于查询的其他特征性描述（必填）").fill(
        "花木街道锦绣路某地块2026年控制性详细规划调整的批复及公示意见汇总")
    citizen.get_by_label("申请用途（选填）").fill("了解住所周边规划调整情况")
    citizen.get_by_label("网上获取（在本平台下载）").check()
    _fits(citizen)
    screenshot(citizen, "disclosure-request-form")
    citizen.get_by_role("button", name="提交申请").click()
    citizen.wait_for_url("**/disclosure/requests/GK-*")
    number = citizen.url.rsplit("/", 1)[-1]
    body = citizen.locator("main").inner_text()
    assert "办理中" in body and "剩余 20 个工作日" in body

    office_context, office = _signed_in(browser, live_server, "gongkai.gh", width=1280)
    office.goto(f"{live_server}/staff")
    office.get_by_role("link", name="政府信息公开申请").click()
    office.wait_for_url("**/staff/disclosure/requests")
    queue = office.locator("main").inner_text()
    assert "答复期限" in queue and "待申请人补正" in queue and "逾期" in queue  # the demo's requests in their states
    screenshot(office, "disclosure-request-queue")
    office.get_by_role("link", name=number).click()
    office.wait_for_url(f"**/staff/disclosure/requests/{number}")
    office.get_by_label("答复类型").select_option(label="部分公开")
    office.get_by_label("公开的内容，或获取的方式、途径（已主动公开的写明网址、栏目）").fill("控制性详细规划调整批复全文，随本告知书提供。")
    office.get_by_label("部分公开：不予公开的部分").fill("公示意见汇总中提出意见的居民姓名和联系方式")
    office.get_by_label("不予公开的理由 / 不作为申请处理的情形").select_option(label="保护第三方合法权益（第十五条）")
    office.get_by_role("button", name="作出答复并生成告知书").click()
    office.wait_for_load_state()
    assert "已作出答复" in office.locator("main").inner_text()
    screenshot(office, "disclosure-request-office")
    office_context.close()

    citizen.goto(f"{live_server}/disclosure/requests")
    citizen.get_by_role("link", name=number).click()
    citizen.wait_for_url(f"**/disclosure/requests/{number}")
    body = citizen.locator("main").inner_text()
    assert "已答复" in body and "部分公开" in body
    _fits(citizen)
    screenshot(citizen, "disclosure-request-answered")
    href = citizen.get_by_role("link", name="政府信息公开申请答复告知书").get_attribute("href")
    letter = citizen.request.get(f"{live_server}{href}")
    assert letter.ok and letter.headers["content-type"] == "application/pdf"
    (ARTIFACTS / "disclosure-reply-letter.pdf").write_bytes(letter.body())
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(letter.body())).pages).replace("\n", "")
    for expected in (number, "浦东新区规划和自然资源局", "第三十七条", "公示意见汇总中提出意见的居民姓名和联系方式",
                     "保护第三方合法权益", "行政复议", "行政诉讼", "北京时间"):
        assert expected in text, expected
    citizen_context.close()
