"""A citizen browses the service guide by life event and by department, on a desktop and on a phone,
and a company founder's search offers the 一件事 with its form."""

from __future__ import annotations

import pytest

from web.conftest import screenshot

pytestmark = pytest.mark.browser


def _no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


@pytest.mark.parametrize("width", [1280, 390])
def test_browsing_by_life_event_and_department(browser, live_server, width):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 860})
    page = context.new_page()
    try:
        page.goto(f"{live_server}/services")
        assert page.get_by_role("heading", name="按主题办事").is_visible()
        _no_horizontal_scroll(page)
        screenshot(page, f"services-themes-{width}")

        page.locator(".chips.themes").get_by_role("link", name="出生", exact=True).click()
        page.wait_for_url("**/services?theme=**")
        assert "「出生」主题" in page.get_by_role("status").inner_text()
        titles = page.locator(".results .result-title").all_inner_texts()
        assert "出生登记（新生儿落户）" in titles and "出生医学证明首次签发" in titles
        _no_horizontal_scroll(page)
        screenshot(page, f"services-theme-birth-{width}")

        page.goto(f"{live_server}/services")
        page.locator(".chips.departments").get_by_role("link", name="上海市公安局浦东分局").click()
        page.wait_for_url("**/services?department=PD-GA")
        titles = page.locator(".results .result-title").all_inner_texts()
        assert len(titles) >= 15 and "居民身份证申领、换领、补领" in titles

        page.get_by_label("想办的事").fill("开公司要办哪些手续")
        page.get_by_label("部门").select_option("")
        page.get_by_role("button", name="查找", exact=True).click()
        page.wait_for_url("**/services?q=**")
        bundle = page.locator(".results.bundles").get_by_role("link", name="企业开办一件事")
        assert bundle.get_attribute("href") == "/apply/enterprise-setup"
        _no_horizontal_scroll(page)
        screenshot(page, f"services-bundle-{width}")
    finally:
        context.close()
