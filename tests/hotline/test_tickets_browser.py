"""A 12345 call in a real browser, each person on their own page: the agent (a 390-px-wide
screen) records the call, takes the proposed department while typing, dispatches; the
department's user signs and replies; the centre's follow-up closes it. Screenshots under
test-artifacts/hotline/."""

from __future__ import annotations

import re

import pytest
from browser_fixtures import ARTIFACTS, screenshot, signed_in, watch_errors

pytestmark = pytest.mark.browser

PHONE = 390


def _shot(page, name: str) -> None:
    (ARTIFACTS / "hotline").mkdir(parents=True, exist_ok=True)
    screenshot(page, f"hotline/{name}")



def test_a_call_from_the_agent_to_the_follow_up(browser, live_server):
    errors: list[str] = []
    context, agent = signed_in(browser, live_server, "hotline", width=PHONE)
    watch_errors(agent, errors)
    agent.goto(f"{live_server}/hotline/call")
    agent.get_by_label("来电号码").fill("13700007788")
    agent.get_by_label("来电人称呼（可不填）").fill("陈先生")
    agent.get_by_label("来电内容").fill("我在一家饭店打工，老板已经拖欠我三个月工资了，一直说没钱，我想讨回工资")
    agent.get_by_label("坐席摘要").fill("来电反映饭店拖欠三个月工资，要求督促支付")
    proposal = agent.locator("#proposals button.proposal").first
    proposal.wait_for(timeout=60000)  # the first proposal in a process waits for the classifier
    assert proposal.get_attribute("data-department") == "PD-RS"
    proposal.click()
    assert agent.locator("#category").input_value() == "H-RS01"
    assert agent.locator("#department_code").input_value() == "PD-RS"
    agent.locator("#earlier p").first.wait_for()
    _shot(agent, "call-page")
    agent.locator("#outcome-dispatched").click()
    agent.wait_for_url(re.compile(r".*/hotline/tickets/RX-"))
    number = agent.url.rsplit("/", 1)[-1]
    assert "已派单" in agent.locator(".flash").inner_text()
    assert "137****7788" in agent.locator("#caller-phone").inner_text()
    _shot(agent, "ticket-dispatched")
    context.close()

    context, department = signed_in(browser, live_server, "reviewer.rs", width=PHONE)
    watch_errors(department, errors)
    department.goto(f"{live_server}/hotline/tickets?queue=sign")
    department.get_by_role("link", name=number).click()
    department.locator("#form-sign button").click()
    department.locator("#form-reply").wait_for()
    department.get_by_label("办理结果和给来电人的答复").fill("已约谈饭店经营者，承诺本周内补发全部工资，劳动监察大队跟踪落实")
    _shot(department, "department-page")
    department.locator("#form-reply button").click()
    assert "已答复" in department.locator(".flash").inner_text()
    assert department.locator("#ticket-status").inner_text() == "已答复待回访"
    context.close()

    context, centre = signed_in(browser, live_server, "hotline", width=PHONE)
    watch_errors(centre, errors)
    centre.goto(f"{live_server}/hotline/tickets?queue=follow_up")
    centre.get_by_role("link", name=number).click()
    centre.get_by_label("满意", exact=True).check()
    centre.get_by_label("已解决，办结").check()
    centre.locator("#form-follow-up button").click()
    assert centre.locator("#ticket-status").inner_text() == "已办结"
    assert "回访办结" in centre.locator("#trail").inner_text()
    _shot(centre, "ticket-closed")
    context.close()
    assert not errors, errors
