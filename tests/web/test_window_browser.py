"""一窗受理 in a real browser: the demo clerk opens a submitted application, reads the form under
its Chinese labels and the uploaded files, accepts it and prints the 受理通知书; refuses another
with a chosen reason and prints the 不予受理通知书. At 1280 and 390 px wide."""

from __future__ import annotations

import io
import re
import uuid

import httpx
import pypdf
import pytest
from helpers import bearer

from tongban import demo

from .conftest import screenshot, signed_in

pytestmark = pytest.mark.browser

PDF_FILE = b"%PDF-1.7\n" + b"2" * 2048


def _submitted_with_a_file(live_server: str, name: str) -> str:
    """The demo citizen applies for 企业开办 through the API and uploads the application form."""
    with httpx.Client(base_url=live_server, timeout=30) as api:
        citizen = bearer(api, demo.CITIZEN.username)
        form = api.get("/api/v1/applications/forms", params={"bundle": "enterprise-setup"}, headers=citizen).json()
        values = {f["key"]: f["value"] for f in form["fields"] if f["value"]}
        values.update({"phone": "13812345678", "enterprise_name": name, "entity_type": "有限责任公司",
                       "registered_capital": "80", "registered_address": "上海市浦东新区张江路100号",
                       "business_scope": "软件开发", "seal_count": "2", "employees": "3", "housing_fund_rate": "7"})
        applied = api.post("/api/v1/applications", headers={**citizen, "Idempotency-Key": uuid.uuid4().hex}, json={
            "bundle": "enterprise-setup", "form": values,
            "materials": [m["name"] for m in form["materials"] if not m["exempt"]]})
        assert applied.status_code == 201, applied.text
        number = applied.json()["number"]
        uploaded = api.post(f"/api/v1/applications/{number}/attachments", headers=citizen,
                            data={"material": "企业登记申请书"}, files={"file": ("企业登记申请书（签字版）.pdf", PDF_FILE, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        return number


def _open_tasks(api: httpx.Client, headers: dict, number: str) -> list[dict]:
    """Every page of the queue: the session's database keeps the tasks of earlier tests."""
    found, cursor = [], None
    while True:
        queue = api.get("/api/v1/tasks", params={"cursor": cursor} if cursor else {}, headers=headers).json()
        found += [t for t in queue["items"] if t["application"] == number]
        if not (cursor := queue["next_cursor"]):
            return found


def _pdf_text(page, live_server: str, href: str) -> str:
    """Fetched with the browser's own session, as the clerk's click fetches it."""
    response = page.request.get(live_server + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.body())).pages))


def _no_horizontal_scroll(page) -> None:
    wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
        .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide


def test_the_clerk_reviews_accepts_and_refuses_at_the_window(browser, live_server, database):
    accepted_number = _submitted_with_a_file(live_server, f"上海窗口浏览器{uuid.uuid4().hex[:6]}有限公司")
    refused_number = _submitted_with_a_file(live_server, f"上海不予受理浏览器{uuid.uuid4().hex[:6]}有限公司")

    context, page = signed_in(browser, live_server, "clerk")

    page.goto(f"{live_server}/staff/window")
    page.locator(f"#case-{accepted_number}").get_by_role("link", name="审查申请表和材料").click()
    page.wait_for_url(f"{live_server}/staff/window/{accepted_number}")
    entries = page.locator("#form-entries").inner_text()
    for label in ("拟设立企业名称", "注册资本（万元）", "公积金缴存比例（%）", "经营范围"):
        assert label in entries
    assert not re.search(r"[a-z]+_[a-z_]+", page.inner_text("main"))  # no field key on the page
    file_link = page.get_by_role("link", name="企业登记申请书（签字版）.pdf")
    assert page.request.get(live_server + file_link.get_attribute("href")).body() == PDF_FILE
    screenshot(page, f"window-case-{database.engine_name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    _no_horizontal_scroll(page)
    screenshot(page, f"window-case-{database.engine_name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator("#accept-form").get_by_role("button", name="受理").click()
    page.wait_for_url(f"{live_server}/staff/window/{accepted_number}")
    assert "办理中" in page.locator(".flash").inner_text()
    receipt = page.get_by_role("link", name="打印受理通知书（PDF）")
    text = _pdf_text(page, live_server, receipt.get_attribute("href"))
    assert "受理通知书" in text and accepted_number in text and "企业开办一件事" in text and "北京时间" in text
    assert "企业登记申请书" in text and "受理窗口" in text
    screenshot(page, f"window-accepted-{database.engine_name}-1280")

    # Decided by the departments (through the API): the licence's public check, as a phone opens its QR code.
    with httpx.Client(base_url=live_server, timeout=30) as api:
        for reviewer in ("reviewer", "reviewer.ga", "reviewer.sw", "reviewer.rs", "reviewer.gjj"):
            headers = bearer(api, reviewer)
            for task in _open_tasks(api, headers, accepted_number):
                decided = api.post(f"/api/v1/tasks/{task['id']}/decision", headers=headers,
                                   json={"decision": "approve", "opinion": "同意", "version": task["version"]})
                assert decided.status_code == 200, decided.text
        [licence] = api.get(f"/api/v1/applications/{accepted_number}", headers=bearer(api, demo.CITIZEN.username)).json()["licences"]
    check = context.new_page()
    check.set_viewport_size({"width": 390, "height": 844})
    check.goto(f"{live_server}/verify/licences/{licence['number']}")
    assert "有效" in check.locator("#verdict").inner_text() and "张*" in check.inner_text("main")
    _no_horizontal_scroll(check)
    screenshot(check, f"licence-check-{database.engine_name}-390")
    check.close()

    page.goto(f"{live_server}/staff/window/{refused_number}")
    page.get_by_label("不予受理的理由").select_option("申请人不具备申请资格")
    page.get_by_label("具体说明（选「其他」时必填）").fill("拟任法定代表人已被列入严重违法失信名单")
    page.locator("#refuse-form").get_by_role("button", name="不予受理").click()
    page.wait_for_url(f"{live_server}/staff/window/{refused_number}")
    assert "不予受理" in page.locator("#status").inner_text()
    notice = page.get_by_role("link", name="打印不予受理通知书（PDF）")
    text = _pdf_text(page, live_server, notice.get_attribute("href"))
    assert "不予受理通知书" in text and refused_number in text and "严重违法失信名单" in text
    assert "行政复议" in text and "行政诉讼" in text and "60日内" in text
    page.set_viewport_size({"width": 390, "height": 844})
    _no_horizontal_scroll(page)
    screenshot(page, f"window-refused-{database.engine_name}-390")
    context.close()
