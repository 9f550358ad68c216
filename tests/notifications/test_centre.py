"""The notification centre: a person sees, counts and marks read only their own notices (their
account's, their department's, their role's), through the API and the pages; someone else's
notice is refused with a Problem and nothing changes. The workbench's waiting counts equal the
rows of the pages they link to."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tongban import demo
from tongban.core import clock
from tongban.notifications import service
from tongban.notifications.models import ReadMark
from tongban.org import service as org
from helpers import assert_problem, bearer


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(app, username: str) -> tuple[TestClient, str]:
    """A browser of its own, signed in through the page; with the session's CSRF token."""
    browser = TestClient(app)
    page = browser.get("/login")
    response = browser.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                            "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return browser, _csrf(browser.get("/me").text)


def _mine(client, headers, **params) -> dict:
    response = client.get("/api/v1/me/notifications", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _request_persons(client, items: tuple[str, ...] = ("gender",)) -> dict:
    """民政局's steward asks 公安分局 for person items: 公安分局 is told (sharing.request)."""
    today = clock.today()
    response = client.post("/api/v1/sharing/requests", headers=bearer(client, "steward.mz"), json={
        "resource": "persons", "items": list(items), "duty": "最低生活保障家庭户籍核对",
        "basis": "《社会救助暂行办法》第十一条", "purpose": "低保审核", "valid_from": today.isoformat(),
        "valid_to": (today + timedelta(days=180)).isoformat()})
    assert response.status_code == 201, response.text
    return response.json()


def _reads(db) -> int:
    count = db.scalar(select(func.count()).select_from(ReadMark))
    db.rollback()
    return count


def test_a_sharing_request_reaches_the_provider_and_is_marked_read(client):
    steward = bearer(client, "steward")  # 公安分局, the provider of persons
    before = _mine(client, steward)
    request = _request_persons(client)
    after = _mine(client, steward, unread="true")
    assert after["unread"] == before["unread"] + 1 == after["total"]
    newest = after["items"][0]
    assert newest["kind"] == "sharing.request" and newest["kind_label"] == "共享申请" and newest["read"] is False
    assert newest["link"] == f"/sharing/requests/{request['id']}"
    assert re.search(r"[\u4e00-\u9fff]", newest["title"]) and newest["created_at"].endswith("+00:00")

    marked = client.post(f"/api/v1/me/notifications/{newest['id']}/read", headers=steward)
    assert marked.status_code == 200 and marked.json() == {"marked": 1, "unread": after["unread"] - 1}
    again = client.post(f"/api/v1/me/notifications/{newest['id']}/read", headers=steward)
    assert again.json() == {"marked": 0, "unread": after["unread"] - 1}  # read twice: no change
    listed = _mine(client, steward)
    assert next(n for n in listed["items"] if n["id"] == newest["id"])["read"] is True
    assert newest["id"] not in [n["id"] for n in _mine(client, steward, unread="true")["items"]]

    everything = client.post("/api/v1/me/notifications/read", headers=steward)
    assert everything.status_code == 200 and everything.json() == {"marked": after["unread"] - 1, "unread": 0}
    assert _mine(client, steward, unread="true") == {"items": [], "total": 0, "unread": 0, "next_cursor": None}


def test_pages_of_the_inbox_carry_the_total(client, db):
    ga = org.get_by_code(db, "PD-GA").id
    for n in range(5):
        service.notify(db, department_id=ga, title=f"分页测试 {n}", body="—", kind="test.page", link="/staff")
    db.commit()
    steward = bearer(client, "steward")
    first = _mine(client, steward, limit=2)
    second = _mine(client, steward, limit=2, cursor=first["next_cursor"])
    assert first["total"] == second["total"] >= 5 and len(first["items"]) == len(second["items"]) == 2
    assert first["items"][1]["id"] > second["items"][0]["id"]  # newest first, no repeats


def test_a_person_sees_and_marks_only_their_own_notices(client, db):
    ga = org.get_by_code(db, "PD-GA").id
    db.rollback()  # SQLite: a transaction holds the write lock
    reviewer_ga = _mine(client, bearer(client, "reviewer.ga"))
    to_reviewers = service.notify(db, department_id=ga, role="reviewer", title="给审查人员", body="—", kind="test.own")
    to_someone = service.notify(db, department_id=ga, account_id="no-such-account", title="给某一个人", body="—",
                                kind="test.own")
    to_citizen = service.notify(db, department_id=None, account_id="also-not-me", title="办件进度", body="—",
                                kind="cases.progress")
    to_department = service.notify(db, department_id=ga, title="给全部门", body="—", kind="test.own")
    db.commit()
    # Plain ids: a rollback (``_reads``) expires the objects, and reloading one would take the lock.
    to_reviewers, to_someone, to_citizen, to_department = (n.id for n in (to_reviewers, to_someone, to_citizen,
                                                                            to_department))
    ids = {to_reviewers, to_someone, to_citizen, to_department}

    for username, expected in [("steward", {to_department}), ("reviewer.ga", {to_reviewers, to_department}),
                               ("admin", set()), (demo.CITIZEN.username, set()), ("steward.mz", set())]:
        seen = {n["id"] for n in _mine(client, bearer(client, username), limit=500)["items"]} & ids
        assert seen == expected, username
    assert _mine(client, bearer(client, "reviewer.ga"))["unread"] == reviewer_ga["unread"] + 2

    steward = bearer(client, "steward")
    reads, unread = _reads(db), _mine(client, steward)["unread"]
    for other in (to_reviewers, to_someone, to_citizen, 2_000_000_000):
        assert_problem(client.post(f"/api/v1/me/notifications/{other}/read", headers=steward), 404, "not-found")
    assert _reads(db) == reads and _mine(client, steward)["unread"] == unread  # nothing changed
    # Marking all one's own leaves the others' notices unread for them.
    client.post("/api/v1/me/notifications/read", headers=steward)
    reviewer = _mine(client, bearer(client, "reviewer.ga"), unread="true", limit=500)
    assert {to_reviewers, to_department} <= {n["id"] for n in reviewer["items"]}


def test_the_bell_the_list_and_marking_read_through_the_pages(app, client):
    _request_persons(client)
    browser, csrf = _sign_in(app, "steward")
    unread = _mine(browser, bearer(client, "steward"))["unread"]
    assert unread >= 1
    home = browser.get("/")
    assert f'aria-label="通知，未读 {unread} 条"' in home.text and f'<span class="badge">{unread}</span>' in home.text

    listing = browser.get("/notifications")
    assert listing.status_code == 200 and "我的通知" in listing.text and "北京时间" in listing.text
    first = int(re.search(r'action="/notifications/(\d+)/read"', listing.text).group(1))
    assert re.search(r'<a href="/sharing/requests/\d+">', listing.text)

    refused = browser.post(f"/notifications/{first}/read", data={"csrf_token": "wrong"}, follow_redirects=False)
    assert refused.status_code == 403 and _mine(browser, bearer(client, "steward"))["unread"] == unread
    done = browser.post(f"/notifications/{first}/read", data={"csrf_token": csrf, "back": "/notifications?unread=1"},
                        follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/notifications?unread=1"
    assert f"未读 {unread - 1} 条" in browser.get("/notifications?unread=1").text
    away = browser.post("/notifications/read", data={"csrf_token": csrf, "back": "https://example.com/"},
                        follow_redirects=False)
    assert away.headers["location"] == "/notifications"  # never sent elsewhere
    assert "没有未读的通知" in browser.get("/notifications?unread=1").text
    assert 'aria-label="通知，未读 0 条"' in browser.get("/").text
    other = browser.post("/notifications/1/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert other.status_code == 404 or other.status_code == 303  # 1 may be the steward's own
    browser.close()


def _waiting(html: str, label: str) -> tuple[int, str]:
    found = re.search(r'<a href="([^"]+)"><strong>(\d+)</strong><span>' + re.escape(label) + "</span>", html)
    assert found, label
    return int(found.group(2)), found.group(1).replace("&amp;", "&")


def test_each_workbench_count_equals_the_rows_of_the_page_it_links_to(app, client):
    # Something waits for each: 公安分局's steward (a request), the e-government office (a refused
    # request in arbitration), 市场监管局's window (a consultation handed over).
    _request_persons(client)
    refused = _request_persons(client, ("gender", "id_number"))
    pending = [i["item_code"] for i in refused["items"] if i["outcome"] == "pending"]
    decided = client.post(f"/api/v1/sharing/requests/{refused['id']}/decision", headers=bearer(client, "steward"),
                          json={"refuse": pending, "reason": "本次用途无须公民身份号码"})
    assert decided.status_code == 200 and decided.json()["status"] == "arbitration", decided.text
    asked = client.post("/api/v1/consultations", json={"item": "000121010000", "contact": "13800000000",
                                                       "question": f"仓库里那台第 {uuid.uuid4().hex[:6]} 号叉车年检怎么约？"})
    assert asked.status_code == 201 and asked.json()["status"] == "open", asked.text
    counted: dict[tuple[str, str], int] = {}
    cases = [
        ("reviewer", "待审查决定", r'<a href="/staff/tasks/\d+">'),
        ("steward", "待答复的共享申请", r'<a href="/sharing/requests/\d+">'),
        ("steward", "待处理的纠错", r'action="/staff/corrections/\d+"'),
        ("clerk", "待答复的咨询", r'<a href="/staff/consultations/[^"]+">'),
        ("admin", "待答复的共享申请", r'<a href="/sharing/requests/\d+">'),
        ("head", "已逾期（红色预警）", r'<a href="/supervision/clocks/\d+">'),
        ("head", "未完成的整改", r'<a href="/supervision/rectifications/\d+">'),
        ("inspector", "未完成的整改", r'<a href="/supervision/rectifications/\d+">'),
    ]
    for username, label, row in cases:
        browser, _ = _sign_in(app, username)
        count, href = _waiting(browser.get("/staff").text, label)
        shown, url = 0, href
        while url:  # every page of the list
            page = browser.get(url)
            assert page.status_code == 200, (username, url)
            shown += len(re.findall(row, page.text))
            more = re.search(r'<a class="button secondary" href="([^"]+)">下一页</a>', page.text)
            url = more.group(1).replace("&amp;", "&") if more else None
        assert count == shown, (username, label, count, shown)
        counted[(username, label)] = count
        browser.close()
    assert counted[("steward", "待答复的共享申请")] >= 1 and counted[("admin", "待答复的共享申请")] >= 1
    assert counted[("clerk", "待答复的咨询")] >= 1 and counted[("steward", "待处理的纠错")] >= 1
    steward, _ = _sign_in(app, "steward")
    labels = re.findall(r"<strong>\d+</strong><span>([^<]+)</span>", steward.get("/staff").text)
    assert "待受理" not in labels and "待审查决定" not in labels  # only what the steward's permissions allow
    steward.close()


def test_error_pages_show_the_signed_in_person_and_the_icon_is_served(app, client):
    browser, _ = _sign_in(app, "steward")
    missing = browser.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and "陈思远" in missing.text and "退出" in missing.text
    assert 'href="/login"' not in missing.text
    forbidden = browser.get("/staff/audit")
    assert forbidden.status_code == 403 and "陈思远" in forbidden.text and 'href="/login"' not in forbidden.text
    browser.close()
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
