"""In a real browser (issue 25): a department's reviewer finds on the workbench how many of the
department's steps are overdue or due soon, and each count leads to the task queue filtered to
exactly those, said as 逾期 N 个工作日 (the demo's open cases are the department's real tasks); and
the applicant of an item whose result is no licence (社会保障卡申领) downloads the 办结通知书 from
the application page, which the clerk prints from the case file too. PDFs read back with pypdf."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from .conftest import screenshot, signed_in
from .test_single_item_browser import _accept, _approve, _fill_and_submit

pytestmark = pytest.mark.browser
SOCIAL_CARD = "000112007000"  # 社会保障卡申领 (人社局)


def _pdf_text(page, live_server: str, href: str) -> str:
    """Fetched with the page's own session, as a click on the link fetches it."""
    response = page.request.get(live_server + href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(response.body())).pages))


def test_a_reviewer_follows_the_overdue_count_to_exactly_those_tasks(browser, live_server, database):
    context, page = signed_in(browser, live_server, "reviewer.ga", width=390)
    try:
        page.goto(f"{live_server}/staff")
        for label, due in (("已逾期的待办", "overdue"), ("即将到期的待办", "soon")):
            page.goto(f"{live_server}/staff")
            link = page.locator("ul.waiting a", has_text=label)
            count = int(link.locator("strong").inner_text())
            link.click()
            page.wait_for_url(f"{live_server}/staff/tasks?due={due}")
            rows = page.locator("#tasks tbody a[href^='/staff/tasks/']")
            assert rows.count() == count, (label, count, rows.count())
            assert page.locator("#due-filters [aria-current=page]").inner_text() == label.removesuffix("的待办")
            if due == "overdue":
                assert count >= 1  # the demo's red case of 公安分局, on its reviewer's queue
                assert all(re.search(r"逾期 \d+ 个工作日", row) for row in page.locator("#tasks tbody tr").all_inner_texts())
                screenshot(page, f"tasks-overdue-390-{database.engine_name}")
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        # The overdue case opens like any task: its form, its decision buttons.
        page.goto(f"{live_server}/staff/tasks?due=overdue")
        page.locator("#tasks tbody a[href^='/staff/tasks/']").first.click()
        assert page.get_by_role("button", name="同意").is_visible()
    finally:
        context.close()


def test_the_applicant_downloads_the_result_notice_of_an_item_without_a_licence(browser, live_server, database):
    context, citizen = signed_in(browser, live_server, "310115199306151236")
    try:
        citizen.goto(f"{live_server}/apply/{SOCIAL_CARD}")
        number = _fill_and_submit(citizen)
        _accept(browser, live_server, number)
        _approve(browser, live_server, "reviewer.rs", number)
        citizen.goto(f"{live_server}/applications/{number}")
        link = citizen.locator("#documents a", has_text="办结通知书（PDF）")
        text = _pdf_text(citizen, live_server, link.get_attribute("href"))
        assert "办结通知书" in text and number in text and "张伟" in text and "社会保障卡" in text
        assert "北京时间" in text and "浦东新区人力资源和社会保障局" in text
        assert "/progress" in text  # where the applicant checks the case again
        screenshot(citizen, f"result-notice-link-{database.engine_name}")
    finally:
        context.close()
    context, clerk = signed_in(browser, live_server, "clerk")
    try:
        clerk.goto(f"{live_server}/staff/window/{number}")
        printed = clerk.get_by_role("link", name="打印办结通知书（PDF）")
        assert number in _pdf_text(clerk, live_server, printed.get_attribute("href"))
    finally:
        context.close()
