"""The disclosure pages: the public guide, catalog (by department and 主题, paginated), a document's
page; the staff's forms go through the real services (Post/Redirect/Get, refusals on the page in
Chinese); nothing unpublished shows on a public page; no code on a page."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from helpers import csrf_of
from sqlalchemy import select

from tongban import demo
from tongban.disclosure.models import DisclosureDocument

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # a code (in_force, on_request …) where a label belongs


def _sign_in(client: TestClient, username: str) -> str:
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                           "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/disclosure").text)


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S))


def test_public_pages(client):
    guide = client.get("/disclosure")
    assert guide.status_code == 200 and "公开指南" in guide.text and 'href="/disclosure/catalog"' in guide.text
    assert 'href="/disclosure/search"' in guide.text and 'href="/disclosure/requests"' in guide.text
    catalog = client.get("/disclosure/catalog")
    assert "按部门" in catalog.text and "按主题" in catalog.text and "浦东新区财政局" in catalog.text
    first = client.get("/disclosure/catalog/department/PD-CZ")
    assert first.status_code == 200 and "Atom 订阅源" in first.text
    next_url = re.search(r'href="(/disclosure/catalog/department/PD-CZ\?cursor=[^"]+)"', first.text)
    assert next_url, "财政局 has more than a page of documents"
    second = client.get(next_url.group(1).replace("&amp;", "&"))
    first_rows = set(re.findall(r'href="/disclosure/documents/([^"]+)"', first.text))
    second_rows = set(re.findall(r'href="/disclosure/documents/([^"]+)"', second.text))
    assert second.status_code == 200 and second_rows and not first_rows & second_rows
    theme = client.get("/disclosure/catalog/theme/finance")
    assert theme.status_code == 200 and "主题：财政、金融、审计" in theme.text
    assert client.get("/disclosure/catalog/theme/weather").status_code == 404
    assert client.get("/disclosure/catalog/department/NOPE").status_code == 404
    for page in (guide, catalog, first, theme):
        assert not SNAKE.search(_visible_text(page.text)), SNAKE.search(_visible_text(page.text))


def test_demo_document_pages_show_validity_and_replacement(client, db):
    # The one the demo walked through: 废止 and replaced by its revision (the history's 废止 ones have none).
    repealed = db.scalar(select(DisclosureDocument).where(DisclosureDocument.validity == "repealed",
                                                          DisclosureDocument.replaced_by_id.is_not(None)))
    assert repealed is not None and repealed.replaced_by is not None
    old, new = repealed.index_number, repealed.replaced_by.index_number
    db.rollback()
    page = client.get(f"/disclosure/documents/{old}").text
    for label in ("索引号", "文号", "发布机构", "成文日期", "发布日期", "主题分类", "体裁分类", "公开方式", "有效性", "废止"):
        assert label in page, label
    assert f'href="/disclosure/documents/{new}"' in page
    revised = client.get(f"/disclosure/documents/{new}").text
    attachment = re.search(r'href="(/disclosure/documents/[^"]+/attachments/\d+)"', revised)
    assert attachment and "区级专项资金分配表.xlsx" in revised
    download = client.get(attachment.group(1))
    assert download.status_code == 200 and download.content.startswith(b"PK\x03\x04")
    assert "spreadsheetml" in download.headers["content-type"]


def test_staff_draft_review_and_publish_through_the_pages(app):
    title = f"关于区级预算公开的通知{uuid.uuid4().hex[:6]}"
    with TestClient(app) as drafter, TestClient(app) as reviewer, TestClient(app) as outsider:
        token = _sign_in(drafter, "gk.drafter")
        form = drafter.get("/disclosure/manage/new")
        assert form.status_code == 200 and "成文日期" in form.text and "保存草稿" in form.text
        # A mistake comes back on the form, in Chinese, with what was typed.
        refused = drafter.post("/disclosure/manage/new", data={
            "csrf_token": token, "title": title, "issued_on": "2026-11-20", "theme": "finance", "genre": "notice",
            "openness": "withheld", "body": "正文"})
        assert refused.status_code == 422 and "法定依据" in refused.text and title in refused.text
        created = drafter.post("/disclosure/manage/new", follow_redirects=False, data={
            "csrf_token": token, "title": title, "document_number": "浦财〔2026〕120号", "issued_on": "2026-11-20",
            "theme": "finance", "genre": "budget", "openness": "proactive", "body": "区级预算如下。"},
            files={"files": ("预算表.pdf", b"not a pdf at all", "application/pdf")})
        assert created.status_code == 422 and "文件内容与声明的类型不符" in created.text  # nothing kept
        created = drafter.post("/disclosure/manage/new", follow_redirects=False, data={
            "csrf_token": token, "title": title, "document_number": "浦财〔2026〕120号", "issued_on": "2026-11-20",
            "theme": "finance", "genre": "budget", "openness": "proactive", "body": "区级预算如下。"})
        assert created.status_code == 303
        manage_url = created.headers["location"]
        index_number = manage_url.rsplit("/", 1)[1]
        detail = drafter.get(manage_url)
        assert "提交保密审查" in detail.text and "公开期限" in detail.text and "版本记录" in detail.text
        assert drafter.post(f"{manage_url}/submit", data={"csrf_token": token}).status_code == 200
        mine = drafter.get("/disclosure/manage?view=mine").text
        assert index_number in mine and "待保密审查" in mine

        # Another department's staff: not there, neither in lists nor by address.
        other_token = _sign_in(outsider, "gk.drafter.tj")
        assert index_number not in outsider.get("/disclosure/manage?view=all").text
        assert outsider.get(manage_url).status_code == 404
        assert outsider.post(f"{manage_url}/submit", data={"csrf_token": other_token}).status_code == 404
        assert outsider.get(f"/disclosure/documents/{index_number}").status_code == 404

        review_token = _sign_in(reviewer, "gk.reviewer")
        queue = reviewer.get("/disclosure/manage?view=review").text
        assert index_number in queue
        no_ground = reviewer.post(f"{manage_url}/review", data={"csrf_token": review_token, "decision": "approve",
                                                                "ground": ""})
        assert no_ground.status_code == 422 and "审查意见及依据" in no_ground.text
        approved = reviewer.post(f"{manage_url}/review", data={"csrf_token": review_token, "decision": "approve",
                                                               "ground": "不涉及国家秘密，同意公开"})
        assert approved.status_code == 200 and "审查通过待发布" in approved.text
        again = reviewer.post(f"{manage_url}/review", data={"csrf_token": review_token, "decision": "return",
                                                            "ground": "再议"})
        assert again.status_code == 409 and "不能作保密审查" in again.text
        assert client_public(app, index_number) == 404
        published = reviewer.post(f"{manage_url}/publish", data={"csrf_token": review_token})
        assert published.status_code == 200 and "已公开" in published.text
        assert client_public(app, index_number) == 200
        history = reviewer.get(manage_url).text
        for label in ("起草", "提交保密审查", "保密审查通过", "发布"):
            assert label in history
        assert not SNAKE.search(_visible_text(history)), SNAKE.search(_visible_text(history))


def client_public(app, index_number: str) -> int:
    with TestClient(app) as anonymous:
        return anonymous.get(f"/disclosure/documents/{index_number}").status_code


def test_subscription_pages(app):
    with TestClient(app) as citizen:
        token = _sign_in(citizen, demo.CITIZEN.username)
        page = citizen.get("/disclosure/subscriptions")
        assert page.status_code == 200 and "添加订阅" in page.text
        listed = citizen.get("/disclosure/catalog/theme/housing").text
        assert "订阅到我的通知" in listed
        done = citizen.post("/disclosure/subscriptions", data={"csrf_token": token, "kind": "theme", "target": "housing",
                                                               "back": "/disclosure/subscriptions"})
        assert done.status_code == 200 and "主题：住房保障" in done.text
        subscription = re.search(r'action="/disclosure/subscriptions/(\d+)/delete"', done.text).group(1)
        gone = citizen.post(f"/disclosure/subscriptions/{subscription}/delete", data={"csrf_token": token})
        assert gone.status_code == 200 and "主题：住房保障" not in gone.text
    with TestClient(app) as anonymous:
        assert "登录后可订阅" in anonymous.get("/disclosure/catalog/theme/housing").text
        assert anonymous.get("/disclosure/subscriptions", follow_redirects=False).status_code in (303, 401)
