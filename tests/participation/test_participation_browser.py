"""政民互动 in a real browser: the market regulator's staff create a survey on the drafting page and
publish it; a citizen answers it on a 390-px-wide phone; the staff end it, and the citizen reads
the results as HTML bars. Screenshots under test-artifacts/participation/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from browser_fixtures import ARTIFACTS, screenshot, signed_in, watch_errors

from tongban import demo
from tongban.core import clock

pytestmark = pytest.mark.browser

PHONE = 390


def _shot(page, name: str) -> None:
    (ARTIFACTS / "participation").mkdir(parents=True, exist_ok=True)
    screenshot(page, f"participation/{name}")



def _fits(page) -> None:
    """Nothing wider than the phone's screen: the page does not scroll sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE + 1


def test_staff_publish_a_survey_a_citizen_answers_on_a_phone_and_reads_the_results(browser, live_server):
    errors: list[str] = []
    staff_context, staff = signed_in(browser, live_server, "reviewer")
    watch_errors(staff, errors)
    staff.goto(f"{live_server}/staff")
    staff.locator('main a[href="/staff/participation"]').click()
    staff.wait_for_url(f"{live_server}/staff/participation")
    staff.locator("#new-survey").click()
    title = "社区菜场营业时间网上调查"
    staff.get_by_label("标题").fill(title)
    staff.get_by_label("调查说明").fill("为方便上班族买菜，拟调整社区菜场营业时间，请您参与调查。")
    closes = (clock.beijing_now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    staff.locator("#closes_at").fill(closes)
    staff.locator("#question_0_text").fill("您通常什么时间买菜？")
    staff.locator("#question_0_kind").select_option("single")
    staff.locator("#question_0_options").fill("早上七点前\n上午\n下班后")
    staff.locator("#question_1_text").fill("您希望菜场增加哪些服务？")
    staff.locator("#question_1_kind").select_option("multiple")
    staff.locator("#question_1_options").fill("线上下单\n送菜上门\n净菜加工")
    staff.locator("#question_2_text").fill("其他建议")
    staff.locator("#question_2_kind").select_option("text")
    staff.locator("#question_2_required").uncheck()
    _shot(staff, "01-staff-drafts-a-survey")
    staff.get_by_role("button", name="保存草稿").click()
    staff.wait_for_url(f"{live_server}/staff/participation/*")
    assert staff.locator("#topic-phase").inner_text() == "草稿"
    staff.locator("#publish").click()
    staff.wait_for_load_state()
    assert staff.locator("#topic-phase").inner_text() == "进行中"
    topic_url = staff.get_by_role("link", name="在门户查看").get_attribute("href")
    _shot(staff, "02-staff-published")

    phone_context, phone = signed_in(browser, live_server, demo.CITIZEN.username, width=PHONE)
    watch_errors(phone, errors)
    phone.goto(f"{live_server}/participation")
    phone.get_by_role("link", name=title).click()
    phone.wait_for_url(f"{live_server}{topic_url}")
    _fits(phone)
    phone.get_by_label("下班后").check()
    phone.get_by_label("线上下单").check()
    phone.get_by_label("送菜上门").check()
    phone.get_by_label("其他建议").fill("希望周末延长营业")
    _shot(phone, "03-citizen-answers-on-a-phone")
    phone.get_by_role("button", name="提交").click()
    phone.wait_for_load_state()
    assert "感谢您参加本次调查" in phone.locator("div.flash").inner_text()
    assert phone.locator("#answered").is_visible() and phone.locator("#survey-form").count() == 0

    staff.reload()
    staff.locator("#close").click()
    staff.wait_for_load_state()
    assert staff.locator("#topic-phase").inner_text() == "已结束"
    staff.locator("#results summary").click()
    assert "希望周末延长营业" in staff.locator("#results").inner_text()  # free text: staff only
    _shot(staff, "04-staff-closed-with-results")

    phone.reload()
    results = phone.locator("#results")
    assert "共 1 人参加" in results.inner_text()
    assert "下班后" in results.inner_text() and "1 票 · 100.0%" in results.inner_text()
    assert "希望周末延长营业" not in phone.content()
    assert phone.locator("#results meter").count() == 6
    _fits(phone)
    _shot(phone, "05-citizen-reads-the-results")

    # the list of the three kinds, and a draft's published adoption summary (the demo's), on the phone
    phone.goto(f"{live_server}/participation")
    assert phone.locator("#list-survey").is_visible() and phone.locator("#list-interview").is_visible()
    _fits(phone)
    _shot(phone, "06-the-list-on-a-phone")
    phone.get_by_role("link", name="《浦东新区早餐工程网点设置规范（征求意见稿）》").click()
    phone.wait_for_load_state()
    assert "意见采纳情况" in phone.locator("#outcome").inner_text() and "部分采纳" in phone.locator("#adoptions").inner_text()
    _fits(phone)
    _shot(phone, "07-an-adoption-summary-on-a-phone")
    staff_context.close()
    phone_context.close()
    assert not errors, errors
