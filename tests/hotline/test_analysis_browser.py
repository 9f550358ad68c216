"""热线分析 in a real browser on a phone (390 px): the centre opens the page after a caller rang
four times; the charts scroll inside their boxes, the page itself does not. Screenshots under
test-artifacts/hotline/."""

from __future__ import annotations

import httpx
import pytest
from browser_fixtures import ARTIFACTS, screenshot, signed_in
from helpers import bearer

pytestmark = pytest.mark.browser

PHONE = 390
CALLER = "13600009999"


def test_the_analysis_page_on_a_phone(browser, live_server):
    with httpx.Client(base_url=live_server, timeout=30) as api:
        agent = bearer(api, "hotline")
        calls = [("H-RS01", "dispatched", "公司拖欠我两个月工资"), ("H-RS01", "dispatched", "工资还是没有发，再次反映"),
                 ("H-ZW01", "answered", "想问一下居住证怎么办理"), ("H-ZW01", "answered", "居住证续签需要什么材料")]
        for category, outcome, said in calls:
            body = {"caller_phone": CALLER, "said": said, "summary": said, "category": category, "outcome": outcome}
            if outcome == "answered":
                body["knowledge_text"] = "带身份证和租房合同到社区事务受理中心办理"
            api.post("/api/v1/hotline/tickets", json=body, headers=agent).raise_for_status()

    context, centre = signed_in(browser, live_server, "hotline", width=PHONE)
    errors: list[str] = []
    centre.on("pageerror", lambda error: errors.append(str(error)))
    centre.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    centre.goto(f"{live_server}/staff")
    centre.get_by_role("link", name="热线分析").click()
    centre.wait_for_url(f"{live_server}/hotline/analysis")
    assert centre.locator("h1").inner_text() == "热线分析"
    assert "136****9999" in centre.locator("#repeat-callers").inner_text()
    assert CALLER not in centre.content()
    assert centre.locator("#chart-categories").is_visible() and centre.locator("#chart-weeks").count() == 1
    assert centre.evaluate("document.documentElement.scrollWidth") <= PHONE
    (ARTIFACTS / "hotline").mkdir(parents=True, exist_ok=True)
    screenshot(centre, "hotline/analysis-phone")
    context.close()

    context, inspector = signed_in(browser, live_server, "inspector")
    inspector.goto(f"{live_server}/hotline/analysis")
    assert "热点分类" in inspector.locator("main").inner_text()
    screenshot(inspector, "hotline/analysis-desktop")
    context.close()
    assert not errors, errors
