"""The publication workflow: a drafter prepares, another person does the 保密审查 with its ground,
a publisher publishes; changes, validity and withdrawal are versioned and audited; nothing
unpublished is visible outside its department; the 20-working-day clock of 主动公开 goes yellow
and red on the working calendar (across the 2026 National Day holiday)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from helpers import assert_problem, at_once
from sqlalchemy import select

from tongban import demo
from tongban.core import clock as wall
from tongban.core.audit import AuditEvent
from tongban.disclosure.models import DisclosureDocument
from tongban.notifications.models import Notification
from tongban.supervision import service as supervision
from tongban.supervision.models import SupervisionClock, SupervisionWarning

CZ_DRAFTER, CZ_REVIEWER, TJ_DRAFTER = "gk.drafter", "gk.reviewer", "gk.drafter.tj"
API = "/api/v1/disclosure/documents"


def _draft(client, headers, **overrides) -> dict:
    body = {"title": f"关于政府采购意向公开的通知{uuid.uuid4().hex[:6]}", "document_number": "浦财〔2026〕88号",
            "issued_on": wall.today().isoformat(), "theme": "finance", "genre": "notice", "openness": "proactive",
            "body": "现将本季度政府采购意向公开如下。\n一、采购项目：办公设备。", **overrides}
    response = client.post(API, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _review(client, headers, index_number: str, decision: str = "approve", ground: str = "不涉及国家秘密，同意公开"):
    return client.post(f"{API}/{index_number}/review", json={"decision": decision, "ground": ground}, headers=headers)


def _published(client, as_role, **overrides) -> dict:
    drafter, reviewer = as_role(CZ_DRAFTER), as_role(CZ_REVIEWER)
    document = _draft(client, drafter, **overrides)
    assert client.post(f"{API}/{document['index_number']}/submission", headers=drafter).status_code == 200
    assert _review(client, reviewer, document["index_number"]).status_code == 200
    published = client.post(f"{API}/{document['index_number']}/publication", headers=reviewer)
    assert published.status_code == 200, published.text
    return published.json()


def _unseen_by_outsiders(client, as_role, index_number: str) -> None:
    """The document does not exist for the public, a citizen or another department: API, page, lists."""
    for headers in ({}, as_role(demo.CITIZEN.username), as_role(TJ_DRAFTER), as_role("reviewer")):
        assert_problem(client.get(f"{API}/{index_number}", headers=headers), 404, "not-found")
    page = client.get(f"/disclosure/documents/{index_number}")
    assert page.status_code == 404 and index_number in page.text  # the error page names what was asked, no more
    listed = client.get(API, params={"department": "PD-CZ", "limit": 500}).json()["items"]
    assert index_number not in {d["index_number"] for d in listed}
    drafts = client.get("/api/v1/disclosure/drafts", params={"limit": 500}, headers=as_role(TJ_DRAFTER)).json()["items"]
    assert index_number not in {d["index_number"] for d in drafts}
    for feed in ("/disclosure/feeds/department/PD-CZ.atom", "/disclosure/feeds/theme/finance.atom"):
        assert index_number not in client.get(feed).text


def test_draft_review_publish(client, as_role, db):
    drafter, reviewer = as_role(CZ_DRAFTER), as_role(CZ_REVIEWER)
    document = _draft(client, drafter)
    index_number = document["index_number"]
    # A 主动公开 draft is timed from its 成文日期: 20 working days.
    assert document["publish_due_on"] is not None
    _unseen_by_outsiders(client, as_role, index_number)
    assert client.get(f"{API}/{index_number}", headers=reviewer).json()["status_label"] == "草稿"

    # Not yet submitted: nothing to review; a drafter cannot review or publish at all.
    assert_problem(_review(client, reviewer, index_number), 409, "disclosure-state")
    assert client.post(f"{API}/{index_number}/submission", headers=drafter).json()["status_label"] == "待保密审查"
    assert_problem(_review(client, drafter, index_number), 403, "permission-denied")
    assert_problem(client.post(f"{API}/{index_number}/publication", headers=drafter), 403, "permission-denied")
    # Not yet reviewed: not publishable.
    assert_problem(client.post(f"{API}/{index_number}/publication", headers=reviewer), 409, "disclosure-state")
    # The ground is required.
    assert_problem(_review(client, reviewer, index_number, ground=" "), 422, "validation-error")

    approved = _review(client, reviewer, index_number)
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status_label"], approved.json()["reviewed_by"], approved.json()["review_ground"]) == (
        "审查通过待发布", "沈卫东", "不涉及国家秘密，同意公开")
    assert_problem(_review(client, reviewer, index_number, "return", "再看看"), 409, "disclosure-state")  # a second decision
    _unseen_by_outsiders(client, as_role, index_number)  # approved is not published

    published = client.post(f"{API}/{index_number}/publication", headers=reviewer).json()
    assert published["status_label"] == "已公开" and published["published_on"] == wall.today().isoformat()
    public = client.get(f"{API}/{index_number}").json()
    assert public["body"].startswith("现将本季度") and public["drafted_by"] is None and public["review_ground"] is None
    assert index_number in {d["index_number"] for d in client.get(API, params={"department": "PD-CZ", "limit": 500}).json()["items"]}
    page = client.get(f"/disclosure/documents/{index_number}")
    assert page.status_code == 200 and "索引号" in page.text and "浦财〔2026〕88号" in page.text
    assert_problem(client.post(f"{API}/{index_number}/publication", headers=reviewer), 409, "disclosure-state")

    # The clock is closed, published in time.
    closed = db.scalar(select(SupervisionClock).where(SupervisionClock.subject_ref.startswith(index_number)))
    assert closed is not None and closed.status == "closed" and closed.on_time is True and closed.outcome == "published"
    db.rollback()
    # Every step versioned and audited, with Chinese names.
    versions = client.get(f"{API}/{index_number}/versions", headers=drafter).json()
    assert [v["action_label"] for v in reversed(versions)] == ["起草", "提交保密审查", "保密审查通过", "发布"]
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    assert_problem(client.get(f"{API}/{index_number}/versions", headers=as_role(TJ_DRAFTER)), 403, "department-scope")
    actions = list(db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == index_number,
                                                             AuditEvent.outcome == "success").order_by(AuditEvent.seq)))
    assert actions == ["disclosure.draft", "disclosure.submit", "disclosure.approve", "disclosure.publish"]
    db.rollback()


def test_nobody_reviews_their_own_draft(client, as_role, db):
    reviewer = as_role(CZ_REVIEWER)  # a reviewer may draft too, but not review what they drafted
    document = _draft(client, reviewer)
    client.post(f"{API}/{document['index_number']}/submission", headers=reviewer)
    body = assert_problem(_review(client, reviewer, document["index_number"]), 403, "disclosure-own-draft")
    assert "起草人以外" in body["detail"]
    assert client.get(f"{API}/{document['index_number']}", headers=reviewer).json()["status_label"] == "待保密审查"
    denied = db.scalar(select(AuditEvent).where(AuditEvent.object_id == document["index_number"],
                                                AuditEvent.outcome == "denied"))
    assert denied is not None and denied.action == "disclosure.review"
    db.rollback()


def test_two_decisions_at_once_one_wins(client, as_role):
    drafter, reviewer = as_role(CZ_DRAFTER), as_role(CZ_REVIEWER)
    index_number = _draft(client, drafter)["index_number"]
    client.post(f"{API}/{index_number}/submission", headers=drafter)
    answers = at_once(client, [lambda own, d=d: own.post(f"{API}/{index_number}/review", headers=reviewer,
                                                         json={"decision": d, "ground": "审查意见"})
                               for d in ("approve", "return", "approve")])
    assert sorted(a.status_code for a in answers) == [200, 409, 409], [a.text for a in answers]


def test_returned_drafts_are_corrected_and_resubmitted(client, as_role):
    drafter, reviewer = as_role(CZ_DRAFTER), as_role(CZ_REVIEWER)
    index_number = _draft(client, drafter)["index_number"]
    client.post(f"{API}/{index_number}/submission", headers=drafter)
    returned = _review(client, reviewer, index_number, "return", "第二段含内部工作安排，删除后再报")
    assert returned.json()["status_label"] == "审查退回"
    # The returned draft is edited by its department's drafters only.
    assert_problem(client.patch(f"{API}/{index_number}", json={"body": "x"}, headers=as_role(TJ_DRAFTER)), 404, "not-found")
    edited = client.patch(f"{API}/{index_number}", json={"body": "现将本季度政府采购意向公开如下。"}, headers=drafter)
    assert edited.status_code == 200 and edited.json()["body"] == "现将本季度政府采购意向公开如下。"
    assert client.post(f"{API}/{index_number}/submission", headers=drafter).json()["status_label"] == "待保密审查"
    versions = client.get(f"{API}/{index_number}/versions", headers=drafter).json()
    assert versions[1]["action_label"] == "修改草稿" and versions[1]["note"] == "正文"


def test_unauthorised_callers_are_refused_and_nothing_changes(client, as_role, db):
    citizen = as_role(demo.CITIZEN.username)
    assert_problem(client.post(API, json={"title": "冒名文件", "issued_on": "2026-11-01", "theme": "finance",
                                          "genre": "notice", "openness": "proactive"}, headers=citizen),
                   403, "permission-denied")
    assert_problem(client.post(API, json={"title": "冒名文件", "issued_on": "2026-11-01", "theme": "finance",
                                          "genre": "notice", "openness": "proactive"}), 401, "not-authenticated")
    # Another department's drafter cannot draft in 财政局's name.
    assert_problem(client.post(API, headers=as_role(TJ_DRAFTER), json={
        "title": "冒名文件", "issued_on": "2026-11-01", "theme": "finance", "genre": "notice", "openness": "proactive",
        "department": "PD-CZ"}), 403, "department-scope")
    assert db.scalar(select(DisclosureDocument).where(DisclosureDocument.title == "冒名文件")) is None
    db.rollback()
    published = _published(client, as_role)
    for headers in (citizen, as_role(TJ_DRAFTER)):
        assert client.post(f"{API}/{published['index_number']}/withdrawal", json={"reason": "撤回"},
                           headers=headers).status_code == 403
    assert client.get(f"{API}/{published['index_number']}").json()["status_label"] == "已公开"


def test_changes_validity_and_withdrawal(client, as_role):
    reviewer = as_role(CZ_REVIEWER)
    old = _published(client, as_role, genre="normative", title=f"区级专项资金管理办法{uuid.uuid4().hex[:4]}")
    new = _published(client, as_role, genre="normative", title=f"区级专项资金管理办法（修订）{uuid.uuid4().hex[:4]}")
    # A correction of a published document needs a reason and keeps the history.
    assert_problem(client.patch(f"{API}/{new['index_number']}", json={"title": "改个标题"}, headers=reviewer),
                   422, "validation-error")
    changed = client.patch(f"{API}/{new['index_number']}", headers=reviewer,
                           json={"document_number": "浦财〔2026〕102号", "reason": "文号录入有误"})
    assert changed.status_code == 200 and changed.json()["document_number"] == "浦财〔2026〕102号"
    assert_problem(client.patch(f"{API}/{new['index_number']}", headers=reviewer,
                                json={"openness": "on_request", "reason": "改为依申请"}), 409, "disclosure-state")
    # 废止, replaced by the revision; the page links to it.
    assert_problem(client.post(f"{API}/{old['index_number']}/validity", headers=reviewer,
                               json={"validity": "repealed", "replaced_by": "PD-CZ-1999-99999"}), 422, "validation-error")
    repealed = client.post(f"{API}/{old['index_number']}/validity", headers=reviewer,
                           json={"validity": "repealed", "replaced_by": new["index_number"], "note": "已修订"})
    assert repealed.json()["validity_label"] == "废止" and repealed.json()["replaced_by"] == new["index_number"]
    page = client.get(f"/disclosure/documents/{old['index_number']}").text
    assert "废止" in page and f'href="/disclosure/documents/{new["index_number"]}"' in page
    assert old["index_number"] in client.get(f"/disclosure/documents/{new['index_number']}").text  # 本文件替代 …
    # Withdrawn: gone from the public at once, its history kept for the department.
    assert_problem(client.post(f"{API}/{new['index_number']}/withdrawal", json={"reason": ""}, headers=reviewer),
                   422, "validation-error")
    withdrawn = client.post(f"{API}/{new['index_number']}/withdrawal", json={"reason": "政策调整，暂停执行"}, headers=reviewer)
    assert withdrawn.json()["status_label"] == "已撤回"
    _unseen_by_outsiders(client, as_role, new["index_number"])
    versions = client.get(f"{API}/{new['index_number']}/versions", headers=reviewer).json()
    assert [v["action_label"] for v in versions[:2]] == ["撤回", "变更已公开内容"]
    assert versions[1]["note"] == "文号：文号录入有误"


def test_subscribers_are_told_of_new_documents(client, as_role, db):
    citizen = as_role(demo.CITIZEN.username)
    subscribed = client.post("/api/v1/disclosure/subscriptions", json={"kind": "department", "target": "PD-CZ"},
                             headers=citizen)
    assert subscribed.status_code == 201 and subscribed.json()["target_name"] == "浦东新区财政局"
    client.post("/api/v1/disclosure/subscriptions", json={"kind": "theme", "target": "finance"}, headers=citizen)
    assert_problem(client.post("/api/v1/disclosure/subscriptions", json={"kind": "theme", "target": "weather"},
                               headers=citizen), 422, "validation-error")
    published = _published(client, as_role)
    citizen_id = str(client.get("/api/v1/auth/me", headers=citizen).json()["id"])
    told = list(db.scalars(select(Notification).where(Notification.account_id == citizen_id,
                                                      Notification.link == f"/disclosure/documents/{published['index_number']}")))
    assert len(told) == 1 and told[0].title.startswith("新公开文件") and told[0].kind == "disclosure.published"
    db.rollback()
    mine = client.get("/api/v1/disclosure/subscriptions", headers=citizen).json()
    for subscription in mine:
        assert client.delete(f"/api/v1/disclosure/subscriptions/{subscription['id']}", headers=citizen).status_code == 204
    assert client.get("/api/v1/disclosure/subscriptions", headers=citizen).json() == []
    # Someone else's subscription does not exist for them.
    other = client.post("/api/v1/disclosure/subscriptions", json={"kind": "theme", "target": "housing"},
                        headers=as_role(CZ_DRAFTER)).json()
    assert_problem(client.delete(f"/api/v1/disclosure/subscriptions/{other['id']}", headers=citizen), 404, "not-found")


def _scan(db, day: date):
    with wall.frozen(datetime.combine(day, wall.SystemClock().now().astimezone(wall.BEIJING).time(), wall.BEIJING)):
        supervision.scan(db, today=day)
    db.commit()
    db.expire_all()


def test_the_publication_clock_goes_yellow_then_red_across_national_day(quiet_client, as_role, db):
    """Issued Wed 16 Sep 2026. Twenty working days, counted by hand on the 2026 calendar: 17, 18,
    Sun 20 (a make-up working day), 21–24 (Fri 25 is the Mid-Autumn holiday), 28–30, then the
    National Day week 1–7 Oct does not count: 8, 9, Sat 10 (make-up), 12–16, 19, 20. Due Tue 20 Oct;
    yellow from Fri 16 Oct (two working days left), red from Wed 21 Oct."""
    client = quiet_client
    drafted = _draft(client, as_role(CZ_DRAFTER), issued_on="2026-09-16")
    index_number = drafted["index_number"]
    assert drafted["publish_due_on"] == "2026-10-20"
    found = db.scalar(select(SupervisionClock).where(SupervisionClock.subject_ref == f"{index_number}@2026-09-16"))
    assert found is not None and found.kind == "disclosure_publication" and found.limit_days == 20
    assert (found.due_on, found.yellow_on, found.red_on) == (date(2026, 10, 20), date(2026, 10, 16), date(2026, 10, 21))
    clock_id = found.id
    db.rollback()

    def levels() -> list[str]:
        found = [w.level for w in db.scalars(select(SupervisionWarning).where(SupervisionWarning.clock_id == clock_id)
                                             .order_by(SupervisionWarning.id))]
        db.rollback()
        return found

    _scan(db, date(2026, 10, 15))
    assert levels() == []
    _scan(db, date(2026, 10, 16))
    assert levels() == ["yellow"]
    _scan(db, date(2026, 10, 20))  # the due day is not late
    assert levels() == ["yellow"]
    _scan(db, date(2026, 10, 21))
    assert levels() == ["yellow", "red"]
    # The drafter, who owns the clock, was told.
    drafter_id = str(client.get("/api/v1/auth/me", headers=as_role(CZ_DRAFTER)).json()["id"])
    told = db.scalars(select(Notification.title).where(Notification.account_id == drafter_id,
                                                       Notification.link == f"/disclosure/manage/{index_number}")).all()
    assert any(t.startswith("黄色预警") for t in told) and any(t.startswith("红色预警") for t in told)
    db.rollback()
    # A corrected 成文日期 cancels the old clock and starts a new one.
    changed = client.patch(f"{API}/{index_number}", json={"issued_on": "2026-11-02"}, headers=as_role(CZ_DRAFTER))
    assert changed.status_code == 200 and changed.json()["publish_due_on"] == "2026-11-30"
    old = db.get(SupervisionClock, clock_id)
    assert old is not None and old.status == "closed" and old.outcome == "cancelled"
    db.rollback()
