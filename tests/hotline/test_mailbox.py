"""领导信箱 through the API and the pages, on both engines: a letter assigned to a department,
replied, reviewed and sent, published without the writer's personal data; a private letter never
public (list, number, search); a department reads only the letters assigned to it; bad input and
duplicates refused with stable problem types, nothing written; clocks, trail, audit and the
department's notification at each step."""

from __future__ import annotations

import re

import pytest
from helpers import assert_problem, csrf_of
import own_database as _own
from sqlalchemy import func, select

from tongban import demo
from tongban.core.audit import AuditEvent
from tongban.grid.schemas import CaseEvent, GridCase
from tongban.hotline.mailbox_models import Letter
from tongban.notifications.models import Notification

# This module's own database (the demo loaded) and an app on it without background jobs.
own_database, quiet_app, client, db, as_role = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.as_role
API = "/api/v1/mailbox"
OFFICE, SANITATION, POLICE = "xinfang", "reviewer.cgzf", "reviewer.ga"
CITIZEN, ENTERPRISE = demo.CITIZEN.username, demo.ENTERPRISE.username
WRITER_ID = "310115198801011234"


def write(client, *, headers=None, **fields):
    body = {"subject": "小区门口垃圾清运不及时", "body": "小区门口垃圾桶经常满溢，夏天气味很大，希望增加清运次数。",
            "consent": True, "name": "钱多多", "phone": "13800138000", **fields}
    return client.post(f"{API}/letters", json=body, headers=headers or {})


def letters(db) -> int:
    count = db.scalar(select(func.count()).select_from(Letter)) or 0
    db.rollback()
    return count


def test_a_letter_assigned_replied_sent_and_published_without_the_writers_personal_data(client, as_role, db):
    body = (f"我叫钱多多，身份证号{WRITER_ID}，住在陆家嘴。小区门口垃圾桶经常满溢，电话 138 0013 8000，"
            "邮箱 qian.dd@example.com，另一位邻居的电话13900001111。希望增加清运次数。")
    written = write(client, subject="钱多多反映：小区门口垃圾清运不及时", body=body, email="qian.dd@example.com")
    assert written.status_code == 201, written.text
    number, code = written.json()["number"], written.json()["query_code"]
    assert number.startswith("XF-") and len(code) == 8

    # the office's queue; the clock of its step runs
    queue = client.get(f"{API}/letters", params={"status": "received"}, headers=as_role(OFFICE)).json()["items"]
    assert number in [item["number"] for item in queue]
    detail = client.get(f"{API}/letters/{number}", headers=as_role(OFFICE)).json()
    assert detail["writer_phone"] == "13800138000" and detail["writer_name"] == "钱多多"
    assert [c["step"] for c in detail["clocks"]] == ["领导信箱来信办理"] and detail["clocks"][0]["status"] == "open"

    # 交办 to 城管执法局 with a deadline: the department is notified
    assigned = client.post(f"{API}/letters/{number}/assign", headers=as_role(OFFICE),
                           json={"department_code": "PD-CGZF", "limit_days": 5, "note": "请核实处理", "version": detail["version"]})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["status_label"] == "部门办理中" and assigned.json()["department_name"] == "浦东新区城市管理行政执法局"
    notices = db.scalars(select(Notification).where(Notification.kind == "mailbox.assigned",
                                                    Notification.link == f"/staff/mailbox/{number}")).all()
    assert len(notices) == 1 and notices[0].role == "reviewer"
    db.rollback()
    titles = [n["title"] for n in client.get("/api/v1/notifications", headers=as_role(SANITATION)).json()]
    assert any(number in title for title in titles)

    # the writer's lookup: 正在办理, no reply yet; a wrong code is 404 like a wrong number
    looked = client.post(f"{API}/lookup", json={"number": number, "query_code": code.lower()}).json()
    assert looked["status_label"] == "正在办理" and looked["reply"] is None
    assert_problem(client.post(f"{API}/lookup", json={"number": number, "query_code": "AAAAAAAA"}), 404, "not-found")

    # the department replies; the office sends it back once, then sends the second reply
    replied = client.post(f"{API}/letters/{number}/reply", headers=as_role(SANITATION),
                          json={"reply": "已安排环卫作业单位每日清运两次。"})
    assert replied.status_code == 200, replied.text and replied.json()["status"] == "replied"
    assert_problem(client.post(f"{API}/letters/{number}/publish", headers=as_role(OFFICE), json={}), 409, "mailbox-state")
    returned = client.post(f"{API}/letters/{number}/return", headers=as_role(OFFICE), json={"reason": "请说明具体起始日期"})
    assert returned.json()["status"] == "assigned"
    client.post(f"{API}/letters/{number}/reply", headers=as_role(SANITATION),
                json={"reply": "自本周一起，已安排环卫作业单位每日清运两次，并增设两个垃圾桶。"}).raise_for_status()
    sent = client.post(f"{API}/letters/{number}/send", headers=as_role(OFFICE), json={})
    assert sent.status_code == 200, sent.text
    assert sent.json()["status_label"] == "已答复" and sent.json()["replied_by"] == "浦东新区城市管理行政执法局"
    steps = [step["action"] for step in sent.json()["trail"]]
    assert steps == ["write", "assign", "reply", "return", "reply", "send"]
    clocks = sent.json()["clocks"]
    assert [c["step"] for c in clocks] == ["领导信箱来信办理", "领导信箱部门答复", "领导信箱答复审核",
                                           "领导信箱部门答复", "领导信箱答复审核"]
    assert all(c["status"] == "closed" for c in clocks)

    # the writer reads the reply
    looked = client.post(f"{API}/lookup", json={"number": number, "query_code": code}).json()
    assert looked["status_label"] == "已答复" and "每日清运两次" in looked["reply"]

    # 选登: the published text has none of the writer's personal data, nor anyone else's phone
    published = client.post(f"{API}/letters/{number}/publish", headers=as_role(OFFICE), json={})
    assert published.status_code == 200, published.text
    public = client.get(f"{API}/published/{number}").json()
    text = public["subject"] + public["body"] + (public["reply"] or "")
    for personal in ("钱多多", WRITER_ID, "13800138000", "138 0013 8000", "qian.dd@example.com", "13900001111"):
        assert personal not in text, personal
    assert "[姓名已隐去]" in public["subject"] and "[身份证号已隐去]" in public["body"] or "[证件号码已隐去]" in public["body"]
    assert "[电话号码已隐去]" in public["body"] and "[电子邮箱已隐去]" in public["body"] and "陆家嘴" in public["body"]
    assert not {"writer_name", "writer_phone", "writer_email"} & set(public)
    listed = client.get(f"{API}/published", params={"q": "垃圾"}).json()["items"]
    assert number in [item["number"] for item in listed]
    assert "钱多多" not in str(listed)

    # every step audited; the contact's reads too
    actions = set(db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == number)))
    db.rollback()
    assert {"mailbox.letter.write", "mailbox.letter.assign", "mailbox.letter.reply", "mailbox.letter.return",
            "mailbox.letter.send", "mailbox.letter.publish", "mailbox.letter.read_writer"} <= actions


def _evaluated(client, as_role, department: str) -> tuple[dict, dict]:
    """The department's figures of this month, and the streets' (a letter is no street's problem)."""
    found = client.get("/api/v1/grid/evaluation", headers=as_role("grid.centre")).json()
    return (next((row["figures"] for row in found["departments"] if row["key"] == department), {"dispatched": 0, "handled": 0}),
            {row["key"]: row["figures"] for row in found["streets"]})


def test_a_letter_is_a_case_on_the_engine_that_the_grid_never_shows(client, as_role, db):
    """One engine: the letter's state, trail and clocks are the case engine's, and the departments'
    evaluation counts its assignment and reply; but a letter is the letters office's: the grid's
    lists, map, detail, steps and Open311 never show one, even to the city operations centre."""
    before, streets = _evaluated(client, as_role, "PD-CGZF")
    number = write(client, subject="引擎上的来信", body="这封信由案件引擎办理。", phone="13600136000").json()["number"]
    client.post(f"{API}/letters/{number}/assign", headers=as_role(OFFICE),
                json={"department_code": "PD-CGZF", "limit_days": 3}).raise_for_status()
    client.post(f"{API}/letters/{number}/reply", headers=as_role(SANITATION), json={"reply": "已处理。"}).raise_for_status()
    case = db.scalar(select(GridCase).where(GridCase.number == number))
    assert (case.source, case.status, case.result) == ("mailbox", "handled", "已处理。")
    assert [e.action for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))] == [
        "report", "dispatch", "handle"]
    db.rollback()
    after, streets_after = _evaluated(client, as_role, "PD-CGZF")
    assert (after["dispatched"], after["handled"]) == (before["dispatched"] + 1, before["handled"] + 1)
    assert streets_after == streets

    centre = as_role("grid.centre")
    listed = client.get("/api/v1/grid/cases", params={"limit": 200}, headers=centre).json()["items"]
    assert number not in {c["number"] for c in listed} and all(c["source"] != "mailbox" for c in listed)
    assert_problem(client.get(f"/api/v1/grid/cases/{number}", headers=centre), 404, "not-found")
    assert_problem(client.post(f"/api/v1/grid/cases/{number}/verify", headers=as_role("grid"), data={"fixed": "true"}), 404,
                   "not-found")
    assert client.get(f"/grid/cases/{number}", headers=centre).status_code == 404
    assert client.get(f"/open311/v2/requests/{number}.json").status_code == 404
    assert number not in client.get("/open311/v2/requests.json").text


def test_a_private_letter_never_appears_publicly(client, as_role):
    written = write(client, subject="关于邻里纠纷的私人来信", body="私密内容：与楼上邻居的漏水纠纷，请勿公开。", consent=False,
                    phone="13700137000")
    number = written.json()["number"]
    answered = client.post(f"{API}/letters/{number}/answer", headers=as_role(OFFICE),
                           json={"reply": "建议先向居委会申请调解。"})
    assert answered.status_code == 200, answered.text
    assert_problem(client.post(f"{API}/letters/{number}/publish", headers=as_role(OFFICE), json={}), 409, "mailbox-no-consent")
    # an answered letter with consent, not yet published, is not public either
    consented = write(client, subject="尚未选登的来信", body="这封信同意公开，但信访办尚未选登。", phone="13700137001").json()["number"]
    client.post(f"{API}/letters/{consented}/answer", headers=as_role(OFFICE), json={"reply": "已收悉。"}).raise_for_status()
    for hidden in (number, consented):
        assert_problem(client.get(f"{API}/published/{hidden}"), 404, "not-found")
        assert client.get(f"/mailbox/published/{hidden}").status_code == 404
    every = client.get(f"{API}/published", params={"limit": 200}).json()["items"]
    assert not {number, consented} & {item["number"] for item in every}
    for words in ("私人来信", "漏水纠纷", "居委会", "尚未选登"):
        assert client.get(f"{API}/published", params={"q": words}).json()["items"] == []
        assert number not in client.get("/mailbox/published", params={"q": words}).text
    page = client.get("/mailbox/published").text
    assert "私人来信" not in page and "尚未选登" not in page


def test_a_department_sees_only_the_letters_assigned_to_it(client, as_role):
    number = write(client, subject="占道经营", body="菜场门口流动摊贩占道经营。", phone="13600136000").json()["number"]
    client.post(f"{API}/letters/{number}/assign", headers=as_role(OFFICE), json={"department_code": "PD-CGZF"}).raise_for_status()
    mine = [item["number"] for item in client.get(f"{API}/letters", headers=as_role(SANITATION)).json()["items"]]
    others = [item["number"] for item in client.get(f"{API}/letters", headers=as_role(POLICE)).json()["items"]]
    assert number in mine and number not in others
    assert client.get(f"{API}/letters/{number}", headers=as_role(SANITATION)).status_code == 200
    assert_problem(client.get(f"{API}/letters/{number}", headers=as_role(POLICE)), 403, "department-scope")
    assert_problem(client.post(f"{API}/letters/{number}/reply", headers=as_role(POLICE), json={"reply": "不是我们的"}),
                   403, "department-scope")
    # the office's steps are not the department's, nor the writers'
    assert_problem(client.post(f"{API}/letters/{number}/publish", headers=as_role(SANITATION), json={}), 403, "permission-denied")
    assert_problem(client.get(f"{API}/letters", headers=as_role(CITIZEN)), 403, "permission-denied")


@pytest.mark.parametrize(("fields", "field"), [
    ({"subject": "   "}, "body.subject"),
    ({"body": "\n\t "}, "body.body"),
    ({"name": ""}, "body.name"),
    ({"phone": None}, "body.phone"),
    ({"phone": "12345"}, "body.phone"),
    ({"phone": None, "email": "not-an-address"}, "body.email"),
])
def test_bad_letters_are_refused_and_nothing_is_written(client, db, fields, field):
    before = letters(db)
    body = assert_problem(write(client, **fields), 422, "validation-error")
    assert field in [error["field"] for error in body["errors"]]
    assert letters(db) == before


def test_an_oversized_letter_is_refused(client, db):
    before = letters(db)
    assert_problem(write(client, body="长" * 5001), 422, "validation-error")
    assert_problem(write(client, subject="题" * 101), 422, "validation-error")
    assert letters(db) == before


def test_the_same_letter_twice_is_a_duplicate(client, as_role, db):
    first = write(client, subject="重复提交测试", body="同一封信提交两次。", phone="13500135000")
    assert first.status_code == 201
    before = letters(db)
    again = write(client, subject="重复提交测试", body="同一封信  提交两次。", phone="135-0013-5000", name="别的名字")
    assert_problem(again, 409, "mailbox-duplicate")
    assert letters(db) == before
    assert write(client, subject="重复提交测试", body="这是另一封信。", phone="13500135000").status_code == 201
    # a signed-in writer: by account, no contact needed
    signed = {"subject": "公园开放时间", "body": "建议世纪公园延长夜间开放时间。", "name": None, "phone": None}
    assert write(client, headers=as_role(CITIZEN), **signed).status_code == 201
    assert_problem(write(client, headers=as_role(CITIZEN), **signed), 409, "mailbox-duplicate")
    assert write(client, headers=as_role(ENTERPRISE), **signed).status_code == 201


def test_my_letters_are_mine_only(client, as_role):
    written = write(client, headers=as_role(CITIZEN), subject="我的来信测试", body="登录后写的信。", name=None, phone=None)
    number = written.json()["number"]
    mine = client.get(f"{API}/me/letters", headers=as_role(CITIZEN)).json()["items"]
    assert number in [item["number"] for item in mine]
    assert client.get(f"{API}/me/letters/{number}", headers=as_role(CITIZEN)).json()["status_label"] == "已收到，正在办理"
    assert_problem(client.get(f"{API}/me/letters/{number}", headers=as_role(ENTERPRISE)), 404, "not-found")
    assert number not in str(client.get(f"{API}/me/letters", headers=as_role(ENTERPRISE)).json())
    client.post(f"{API}/letters/{number}/leader", headers=as_role(OFFICE), json={"note": "呈阅"}).raise_for_status()
    assert_problem(client.post(f"{API}/letters/{number}/leader", headers=as_role(OFFICE), json={}), 409, "mailbox-state")
    leader = client.get(f"{API}/letters", params={"leader": True}, headers=as_role(OFFICE)).json()["items"]
    assert number in [item["number"] for item in leader] and all(item["for_leader"] for item in leader)


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_pages_from_writing_to_the_published_letter(quiet_app, client):
    from fastapi.testclient import TestClient

    def signed_in(username: str):
        browser = TestClient(quiet_app)
        browser.__enter__()
        browser.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                     "csrf_token": csrf_of(browser.get("/login").text)}, follow_redirects=False)
        return browser, csrf_of(browser.get("/").text)

    # anonymous: a form missing the contact is shown again with the reason and what was typed
    page = client.get("/mailbox")
    assert page.status_code == 200 and "是否同意公开" in page.text
    token = csrf_of(page.text)
    refused = client.post("/mailbox", data={"subject": "页面来信", "body": "页面写的信。", "name": "孙小美", "consent": "yes",
                                            "csrf_token": token})
    assert refused.status_code == 422 and "联系电话或电子邮箱" in refused.text and "页面写的信。" in refused.text
    done = client.post("/mailbox", data={"subject": "页面来信", "body": "页面写的信，电话13312345678。", "name": "孙小美",
                                         "phone": "13312345678", "consent": "yes", "csrf_token": token})
    assert done.status_code == 201, done.text
    number = re.search(r'id="letter-number">([^<]+)<', done.text).group(1)
    code = re.search(r'id="query-code"><strong>([^<]+)<', done.text).group(1)
    wrong = client.post("/mailbox/lookup", data={"number": number, "query_code": "XXXXXXXX", "csrf_token": token})
    assert wrong.status_code == 404 and "信件编号或查询码不正确" in wrong.text

    office, office_token = signed_in(OFFICE)
    department, department_token = signed_in(SANITATION)
    queue = office.get("/staff/mailbox", params={"status": "received"})
    assert number in queue.text and "领导信箱" in office.get("/staff").text
    letter = office.get(f"/staff/mailbox/{number}")
    assert "孙小美" in letter.text and 'id="form-assign"' in letter.text
    version = re.search(r'name="version" value="(\d+)"', letter.text).group(1)
    assigned = office.post(f"/staff/mailbox/{number}/assign", data={"department": "PD-CGZF", "limit_days": "5",
                                                                     "version": version, "csrf_token": office_token},
                           follow_redirects=False)
    assert assigned.status_code == 303
    assert number in department.get("/staff/mailbox").text
    empty = department.post(f"/staff/mailbox/{number}/reply", data={"reply": " ", "csrf_token": department_token})
    assert empty.status_code == 422 and "请填写答复内容" in empty.text
    department.post(f"/staff/mailbox/{number}/reply", data={"reply": "已处理。", "csrf_token": department_token},
                    follow_redirects=False)
    office.post(f"/staff/mailbox/{number}/send", data={"reply": "经核实，已处理完毕。", "csrf_token": office_token},
                follow_redirects=False)
    preview = office.get(f"/staff/mailbox/{number}").text
    assert 'id="publish-preview"' in preview and "13312345678" not in visible(preview).split("公开文本")[1]
    office.post(f"/staff/mailbox/{number}/publish", data={"csrf_token": office_token}, follow_redirects=False)

    found = client.post("/mailbox/lookup", data={"number": number, "query_code": code, "csrf_token": token})
    assert found.status_code == 200 and "经核实，已处理完毕。" in found.text
    published = client.get(f"/mailbox/published/{number}")
    assert published.status_code == 200 and "孙小美" not in published.text and "13312345678" not in published.text
    assert number in client.get("/mailbox/published").text
    for browser in (office, department):
        browser.__exit__(None, None, None)


def test_a_signed_in_writers_own_id_and_name_are_taken_out_of_the_published_letter(client, as_role):
    body = f"本人{demo.CITIZEN.name}，身份证 {CITIZEN}，建议在张江地铁站增设非机动车停车位。"
    number = write(client, headers=as_role(CITIZEN), subject=f"{demo.CITIZEN.name}的建议：增设非机动车停车位", body=body,
                   name=None, phone=None).json()["number"]
    client.post(f"{API}/letters/{number}/answer", headers=as_role(OFFICE),
                json={"reply": f"{demo.CITIZEN.name}您好：已转请有关部门研究增设。"}).raise_for_status()
    client.post(f"{API}/letters/{number}/publish", headers=as_role(OFFICE), json={}).raise_for_status()
    public = client.get(f"{API}/published/{number}").json()
    text = public["subject"] + public["body"] + public["reply"]
    assert demo.CITIZEN.name not in text and CITIZEN not in text
    assert "[证件号码已隐去]" in public["body"] and public["reply"].startswith("[姓名已隐去]您好")
    mine = client.get(f"{API}/me/letters/{number}", headers=as_role(CITIZEN)).json()
    assert mine["published"] and mine["body"] == body  # the writer's own copy is as written


def test_query_codes_cannot_be_tried_out(client):
    number = write(client, subject="查询码测试", body="试查询码。", phone="13300133000").json()["number"]
    # ten failures from one address (the module's earlier tests counted a few) and it waits
    statuses = [client.post(f"{API}/lookup", json={"number": number, "query_code": "WRONG123"}).status_code
                for _ in range(10)]
    assert set(statuses) <= {404, 429} and statuses[0] == 404
    locked = assert_problem(client.post(f"{API}/lookup", json={"number": number, "query_code": "WRONG123"}),
                            429, "too-many-attempts")
    assert "分钟后再试" in locked["detail"]
    assert client.post("/mailbox/lookup", data={"number": number, "query_code": "X",
                                                "csrf_token": csrf_of(client.get("/mailbox/lookup").text)}).status_code == 429
