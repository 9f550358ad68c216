"""The pages of 政民互动 without a browser: the portal's list shows the demo's three kinds, a draft
policy takes a comment from a person who is not signed in (name and contact, never shown), a refused
form keeps what was typed, staff of another department are refused, and every label is Chinese."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from helpers import csrf_of

from tongban import demo

from .conftest import OTHER_STAFF, STAFF

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def signed_in(quiet_app):
    opened = []

    def sign_in(username: str | None) -> tuple[TestClient, str]:
        browser = TestClient(quiet_app)
        browser.__enter__()
        opened.append(browser)
        if username:
            browser.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                         "csrf_token": csrf_of(browser.get("/login").text)}, follow_redirects=False)
        return browser, csrf_of(browser.get("/" if username else "/login").text)
    yield sign_in
    for browser in opened:
        browser.__exit__(None, None, None)


def test_the_portal_lists_the_three_kinds_and_takes_an_anonymous_comment(signed_in):
    browser, csrf = signed_in(None)
    listing = browser.get("/participation")
    assert listing.status_code == 200
    text = visible(listing.text)
    for words in ("网上调查", "网上征求意见", "在线访谈", "农贸市场食品安全满意度网上调查", "校园周边食品安全在线访谈"):
        assert words in text
    assert not SNAKE.search(text), SNAKE.findall(text)
    draft = re.search(r'href="/participation/(\d+)"><strong>《浦东新区农贸市场管理办法', listing.text).group(1)

    refused = browser.post(f"/participation/{draft}/comments", data={"body": "建议增加夜间市场", "name": "孙先生", "contact": "x",
                                                                     "csrf_token": csrf})
    assert refused.status_code == 422 and "联系方式" in refused.text and "建议增加夜间市场" in refused.text
    done = browser.post(f"/participation/{draft}/comments", data={"body": "建议增加夜间市场", "name": "孙先生",
                                                                  "contact": "13700001234", "csrf_token": csrf}, follow_redirects=True)
    assert done.status_code == 200 and "感谢您的参与" in done.text
    assert "13700001234" not in done.text and "孙先生" not in done.text

    earlier = re.search(r'href="/participation/(\d+)"><strong>《浦东新区早餐工程网点设置规范', listing.text).group(1)
    summary = browser.get(f"/participation/{earlier}")
    assert "意见采纳情况" in summary.text and "部分采纳" in summary.text and "13900001111" not in summary.text
    assert "table-wrap" in summary.text


def test_staff_pages_are_chinese_and_department_scoped(signed_in):
    staff, csrf = signed_in(STAFF)
    listing = staff.get("/staff/participation")
    assert listing.status_code == 200
    text = visible(listing.text)
    assert "政民互动管理" in text and not SNAKE.search(text)
    first = re.search(r'href="/staff/participation/(\d+)"', listing.text).group(1)
    topic = staff.get(f"/staff/participation/{first}")
    assert topic.status_code == 200 and not SNAKE.search(visible(topic.text))
    for kind in ("survey", "solicitation", "interview"):
        form = staff.get(f"/staff/participation/new?kind={kind}")
        assert form.status_code == 200 and not SNAKE.search(visible(form.text))
    refused = staff.post("/staff/participation/new", data={"kind": "survey", "title": "空调查", "body": "说明文字",
                                                           "opens_at": "2026-12-01T09:00", "closes_at": "2026-12-31T17:00",
                                                           "csrf_token": csrf})
    assert refused.status_code == 422 and "至少要有 1 个问题" in refused.text and "空调查" in refused.text

    other, _ = signed_in(OTHER_STAFF)
    assert other.get(f"/staff/participation/{first}").status_code == 403
    assert signed_in(demo.CITIZEN.username)[0].get("/staff/participation").status_code == 403
