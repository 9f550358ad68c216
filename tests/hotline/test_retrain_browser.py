"""分类模型 in a real browser on a phone (390 px): the centre opens it from 热线工单; the page reads
in Chinese and does not scroll sideways. (Retraining itself is exercised through the API in
test_retrain.py: a retraining here would change the live server's model for the other browser tests.)
Screenshot under test-artifacts/hotline/."""

from __future__ import annotations

import pytest
from browser_fixtures import ARTIFACTS, screenshot, signed_in

pytestmark = pytest.mark.browser

PHONE = 390


def test_the_classifier_page_on_a_phone(browser, live_server):
    context, centre = signed_in(browser, live_server, "hotline", width=PHONE)
    errors: list[str] = []
    centre.on("pageerror", lambda error: errors.append(str(error)))
    centre.goto(f"{live_server}/hotline/tickets")
    centre.locator("#classifier-link").click()
    centre.wait_for_url(f"{live_server}/hotline/classifier")
    assert centre.locator("h1").inner_text() == "来电分类模型"
    assert "演示模型" in centre.locator("#model-description").inner_text()
    assert centre.get_by_role("button", name="重新训练分类模型").is_visible()
    assert centre.evaluate("document.documentElement.scrollWidth") <= PHONE
    (ARTIFACTS / "hotline").mkdir(parents=True, exist_ok=True)
    screenshot(centre, "hotline/classifier-phone")
    context.close()
    assert not errors, errors
