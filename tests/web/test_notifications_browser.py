"""In a real browser: 公安分局's data steward is told of a sharing request (made through the API
by 民政局's steward), sees the bell's count in the header, opens the notification centre, marks
the notice read and sees the count drop; the workbench opens with what waits. At 1280 and 390 px
wide, with no horizontal scroll."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest

from tongban.core import clock
from helpers import bearer
from web.conftest import screenshot, sign_in


def _bell(page) -> int:
    label = page.locator("a.bell").get_attribute("aria-label")
    return int(re.search(r"未读 (\d+) 条", label).group(1))


@pytest.mark.browser
def test_the_steward_is_told_of_a_sharing_request_and_marks_it_read(browser, live_server, database):
    engine = database.engine_name
    today = clock.today()
    with httpx.Client(base_url=live_server) as api:
        asked = api.post("/api/v1/sharing/requests", headers=bearer(api, "steward.mz"), json={
            "resource": "persons", "items": ["gender"], "duty": "最低生活保障家庭户籍核对",
            "basis": "《社会救助暂行办法》第十一条", "purpose": "低保审核", "valid_from": today.isoformat(),
            "valid_to": (today + timedelta(days=180)).isoformat()})
        assert asked.status_code == 201, asked.text
        request_number = asked.json()["number"]

    for width in (1280, 390):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 860})
        page = context.new_page()
        sign_in(page, live_server, "steward", landing="/staff")
        assert page.get_by_role("heading", name="等您处理").is_visible()
        waiting = page.locator(".waiting a", has_text="待答复的共享申请")
        assert int(waiting.locator("strong").inner_text()) >= 1
        screenshot(page, f"notifications-workbench-{width}-{engine}")
        assert page.evaluate("document.documentElement.scrollWidth") <= width

        if width == 1280:  # the first pass reads and marks; the second finds them read
            unread = _bell(page)
            assert unread >= 1
            assert page.locator("a.bell .badge").inner_text() == str(min(unread, 99)) if unread < 100 else "99+"
            page.locator("a.bell").click()
            page.wait_for_url(f"{live_server}/notifications")
            assert page.get_by_role("heading", name="我的通知").is_visible()
            notice = page.locator("li.notice.unread", has_text=request_number).first
            assert notice.is_visible() and "北京时间" in notice.inner_text()
            screenshot(page, f"notifications-list-{width}-{engine}")
            notice.get_by_role("button", name="标为已读").click()
            page.wait_for_url(f"{live_server}/notifications")
            assert _bell(page) == unread - 1
            assert page.locator("li.notice.read", has_text=request_number).first.is_visible()
            page.get_by_role("link", name="只看未读").click()
            if unread - 1:
                page.get_by_role("button", name="全部标为已读").click()
                page.wait_for_url(f"{live_server}/notifications?unread=1")
                assert page.get_by_role("status").inner_text().startswith("已将")
            assert _bell(page) == 0 and page.get_by_text("没有未读的通知").is_visible()
            # The notice leads to the request it is about.
            page.goto(f"{live_server}/notifications")
            page.locator("li.notice", has_text=request_number).first.get_by_role("link").click()
            page.wait_for_url(re.compile(r".*/sharing/requests/\d+$"))
            assert request_number in page.content()
        else:
            page.goto(f"{live_server}/notifications")
            assert _bell(page) == 0
            screenshot(page, f"notifications-list-{width}-{engine}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        context.close()
