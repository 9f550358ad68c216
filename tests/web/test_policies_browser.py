"""智能匹配 in a real browser: the demo enterprise signs in on a phone, reads which policies it
qualifies for and why, opens the claim (the form prefilled from the registries) and files it; the
人社局's staff saw it on the policy's list as told, and now see it as applied."""

from __future__ import annotations

import re

import pytest

from tongban import demo

from .conftest import screenshot, signed_in

pytestmark = pytest.mark.browser
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
POLICY = "小微企业稳岗补贴"


def _contact_of_the_demo_enterprise(page, live_server: str) -> str:
    page.goto(f"{live_server}/staff/policies")
    page.get_by_role("link", name=POLICY).click()
    row = page.locator("#matches tr", has_text=demo.ENTERPRISE.username)
    return row.locator("select[name=contact] option:checked").inner_text()


def test_an_enterprise_claims_a_policy_it_was_told_of(browser, live_server, database):
    staff_context, staff = signed_in(browser, live_server, "reviewer.rs")
    assert _contact_of_the_demo_enterprise(staff, live_server) == "已告知"
    screenshot(staff, f"policies-01-staff-list-{database.engine_name}")

    context, phone = signed_in(browser, live_server, demo.ENTERPRISE.username, width=390)
    phone.get_by_role("link", name="我可以享受的政策").first.click()
    card = phone.locator("article", has_text=POLICY)
    assert "符合" in card.locator(".po-verdict").inner_text()
    reasons = card.locator(".po-checks").inner_text()
    assert "从业人数" in reasons and "36 人" in reasons and "法人库（统计局）" in reasons
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= 391  # fits the phone
    screenshot(phone, f"policies-02-enterprise-mine-{database.engine_name}")
    card.get_by_role("link", name="在线申报（信息已预填）").click()
    phone.wait_for_url(re.compile(r".*/apply/\d{12}$"))
    assert phone.get_by_label("统一社会信用代码").input_value() == demo.ENTERPRISE.username  # prefilled
    for field in phone.locator("#apply-form input[required]:not([type=file]), #apply-form textarea[required]").all():
        if not field.input_value():
            field.fill("13800138000" if field.get_attribute("name") and "phone" in (field.get_attribute("name") or "") else "申请稳岗补贴")
    for upload in phone.locator("#apply-form input[type=file]").all():
        upload.set_input_files(files=[{"name": "材料.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    screenshot(phone, f"policies-03-claim-prefilled-{database.engine_name}")
    phone.get_by_role("button", name="提交申请").click()
    phone.wait_for_url("**/applications/BJ-*")
    context.close()

    assert _contact_of_the_demo_enterprise(staff, live_server) == "已申报"
    screenshot(staff, f"policies-04-staff-applied-{database.engine_name}")
    staff_context.close()
