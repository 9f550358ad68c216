"""我的 12345 诉求 and the texts that tell callers and writers, on both engines: a caller who gave their resident ID on the phone, and holds a
verified citizen account, follows the ticket on the portal (progress, department, reply, the
follow-up's grade) and is told when the department replies and when it is closed; nobody else
reads it (another citizen: 404; an unverified account holding the same ID: nothing; staff and
enterprises: no permission); none of the centre's inner notes reach the caller."""

from __future__ import annotations

import itertools
import json

from helpers import assert_problem, bearer, fresh_resident_id
import own_database as _own
from sqlalchemy import select

from tongban import demo
from tongban.accounts import service as accounts
from tongban.core.errors import Problem
from tongban.core.sms import FileSmsSender
from tongban.notifications import service as notifications
from tongban.notifications.models import Notification, TextMessage

own_database, quiet_app, client, db, as_role = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.as_role
TICKETS, MINE = "/api/v1/hotline/tickets", "/api/v1/me/hotline-tickets"
CITIZEN = demo.CITIZEN.username
_phones = itertools.count(13912350000)


def called(client, as_role, **changes) -> dict:
    body = {"caller_phone": str(next(_phones)), "caller_name": "张伟", "said": "公司拖欠我三个月工资，老板一直不给",
            "summary": "来电反映被拖欠三个月工资", "category": "H-RS01", "outcome": "dispatched", **changes}
    response = client.post(TICKETS, json=body, headers=as_role("hotline"))
    assert response.status_code == 201, response.text
    return response.json()


def test_the_caller_follows_the_ticket_to_its_reply_and_close(client, as_role, db):
    ticket = called(client, as_role, caller_id_number=CITIZEN)
    number = ticket["number"]
    someone_else = called(client, as_role, caller_id_number=fresh_resident_id(), said="另一位来电人的问题")["number"]
    citizen = as_role(CITIZEN)

    listed = client.get(MINE, headers=citizen).json()
    assert listed["verified"] is True
    numbers = [t["number"] for t in listed["items"]]
    assert number in numbers and someone_else not in numbers
    mine = client.get(f"{MINE}/{number}", headers=citizen).json()
    assert mine["status_label"] == "正在办理" and mine["department_name"] and mine["reply"] is None
    assert mine["said"].startswith("公司拖欠") and [s["label"] for s in mine["steps"]] == ["热线受理", "派单至承办部门"]
    assert_problem(client.get(f"{MINE}/{someone_else}", headers=citizen), 404, "not-found")

    department = as_role("reviewer.rs")
    signed = client.post(f"{TICKETS}/{number}/sign", json={"version": ticket["version"]}, headers=department).json()
    client.post(f"{TICKETS}/{number}/extension", json={"version": signed["version"], "days": 3, "reason": "内部理由：需约谈企业"},
                headers=department).raise_for_status()
    replied = client.post(f"{TICKETS}/{number}/reply", json={"reply": "已约谈企业，月底前补发工资"}, headers=department)
    assert replied.status_code == 200, replied.text
    mine = client.get(f"{MINE}/{number}", headers=citizen).json()
    assert mine["status_label"] == "承办部门已答复，等待回访" and mine["reply"] == "已约谈企业，月底前补发工资"
    assert "内部理由" not in str(mine) and "hotline" not in str(mine)  # the centre's and the department's notes stay inside
    told = [(n.kind, n.body) for n in db.scalars(select(Notification).where(Notification.link == f"/hotline/mine/{number}"))]
    db.rollback()
    assert [kind for kind, _ in told] == ["hotline.caller"] and "已约谈企业" in told[0][1]

    client.post(f"{TICKETS}/{number}/follow-up", json={"version": replied.json()["version"], "satisfaction": "very_satisfied",
                                                       "solved": True}, headers=as_role("hotline")).raise_for_status()
    mine = client.get(f"{MINE}/{number}", headers=citizen).json()
    assert mine["status_label"] == "已办结" and mine["satisfaction_label"] == "非常满意" and mine["solved"] is True
    assert [s["label"] for s in mine["steps"]][-1] == "回访，已办结"

    page = client.get("/hotline/mine", headers=citizen)
    assert page.status_code == 200 and number in page.text and someone_else not in page.text
    detail = client.get(f"/hotline/mine/{number}", headers=citizen)
    assert detail.status_code == 200 and "已约谈企业，月底前补发工资" in detail.text and "非常满意" in detail.text


def test_an_unverified_account_holding_the_id_sees_nothing(client, as_role, quiet_app):
    """An ID anyone can say on the phone opens nothing until the account holding it proved it."""
    number = fresh_resident_id()
    with quiet_app.state.sessionmaker() as session:
        accounts.register_citizen(session, quiet_app.state.settings, resident_id=number, display_name="未核验",
                                  password=demo.DEMO_PASSWORD)
        session.commit()
    ticket = called(client, as_role, caller_id_number=number)["number"]
    unverified = bearer(client, number)
    assert client.get(MINE, headers=unverified).json() == {"verified": False, "items": []}
    assert_problem(client.get(f"{MINE}/{ticket}", headers=unverified), 404, "not-found")
    page = client.get("/hotline/mine", headers=unverified)
    assert page.status_code == 200 and "尚未完成实名核验" in page.text and ticket not in page.text


def test_only_citizens_have_the_page(client, as_role):
    for username in (demo.ENTERPRISE.username, "hotline", "reviewer.rs"):
        assert_problem(client.get(MINE, headers=as_role(username)), 403, "permission-denied")


class Refusing:
    """A gateway that refuses every message (away, out of credit)."""

    def send(self, phone: str, message: str) -> None:
        raise Problem("service-unavailable", "短信网关不可用")


def test_the_caller_is_texted_the_reply_after_commit_at_least_once(client, as_role, quiet_app, tmp_path):
    """The reply's text is written with the reply and sent after commit by the text sender; a
    gateway that refuses it leaves it waiting for the next round; a landline gets none."""
    mobile = str(next(_phones))
    ticket = called(client, as_role, caller_phone=mobile)
    landline = called(client, as_role, caller_phone="021-58881234", said="固定电话来电的问题")
    department = as_role("reviewer.rs")
    for filed in (ticket, landline):
        signed = client.post(f"{TICKETS}/{filed['number']}/sign", json={"version": filed["version"]}, headers=department).json()
        client.post(f"{TICKETS}/{filed['number']}/reply", json={"reply": "已约谈企业，月底前补发工资", "version": signed["version"]},
                    headers=department).raise_for_status()
    sessions = quiet_app.state.sessionmaker

    def waiting() -> list[tuple[str, str, int, str | None]]:
        with sessions() as db:
            return [(t.phone, t.ref, t.attempts, t.last_error) for t in db.scalars(
                select(TextMessage).where(TextMessage.ref.in_([ticket["number"], landline["number"]]),
                                          TextMessage.sent_at.is_(None)))]

    assert waiting() == [(mobile, ticket["number"], 0, None)]
    notifications.send_texts(sessions, Refusing())
    assert waiting() == [(mobile, ticket["number"], 1, "短信网关不可用")]
    outbox = tmp_path / "texts.jsonl"
    assert notifications.send_texts(sessions, FileSmsSender(outbox)) >= 1
    assert waiting() == []
    sent = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
    mine = [line["message"] for line in sent if line["phone"] == mobile]
    assert len(mine) == 1 and ticket["number"] in mine[0] and "已约谈企业" in mine[0]
    assert notifications.send_texts(sessions, FileSmsSender(outbox)) == 0  # sent once, never again


def test_a_letter_writer_who_left_a_phone_is_texted_that_it_was_answered(client, as_role, quiet_app):
    written = client.post("/api/v1/mailbox/letters", json={
        "subject": "询问短信告知", "body": "请问答复后会通知我吗？", "consent": False, "name": "周女士", "phone": "139 1235 9999"})
    number = written.json()["number"]
    client.post(f"/api/v1/mailbox/letters/{number}/answer", json={"reply": "会以短信告知。"},
                headers=as_role("xinfang")).raise_for_status()
    with quiet_app.state.sessionmaker() as db:
        [(phone, message)] = db.execute(select(TextMessage.phone, TextMessage.message).where(TextMessage.ref == number)).all()
    assert phone == "13912359999" and number in message and "会以短信告知" not in message  # the reply is read with the code
