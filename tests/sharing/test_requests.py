"""需求导向、供方响应、协调确认: the request flow from asking to grant, through the provider,
arbitration and the working-day deadline."""

from __future__ import annotations

import json
from datetime import date, timedelta

from helpers import assert_problem, at_once
from sqlalchemy import func, select

from tongban.catalog import service as catalog
from tongban.core import audit, clock
from tongban.notifications.models import Notification
from tongban.org import service as org
from tongban.sharing import service as sharing
from tongban.sharing.models import Grant, SharingRequest, SharingStep

TODAY = clock.today()


def _ask(client, headers, resource: str, items: list[str], **overrides):
    body = {"resource": resource, "items": items, "duty": "最低生活保障审核中核对申请家庭情况",
            "basis": "《社会救助暂行办法》第十一条", "purpose": "低保审核", "valid_from": TODAY.isoformat(),
            "valid_to": (TODAY + timedelta(days=180)).isoformat(), **overrides}
    return client.post("/api/v1/sharing/requests", json=body, headers=headers)


def _outcomes(request: dict) -> dict[str, str]:
    return {item["item_code"]: item["outcome"] for item in request["items"]}


def _grants(db, request_id: int) -> list[list[str]]:
    grants = db.scalars(select(Grant).where(Grant.request_id == request_id).order_by(Grant.id))
    found = [json.loads(g.items) for g in grants]
    db.rollback()
    return found


def test_unconditional_items_are_granted_at_once(client, as_role, db):
    response = _ask(client, as_role("steward.mz"), "addresses", ["full_address", "community_name", "longitude"])
    assert response.status_code == 201, response.text
    request = response.json()
    # Every address item is unconditional: the key comes with the request, nothing waits for anyone.
    assert request["status"] == "closed" and request["due_on"] is None
    assert _outcomes(request) == {"address_code": "granted", "full_address": "granted", "community_name": "granted",
                                  "longitude": "granted"}
    assert _grants(db, request["id"]) == [["address_code", "community_name", "full_address", "longitude"]]
    assert [step["action"] for step in request["steps"]] == ["submitted", "granted"]


def test_provider_approves_a_subset_and_the_refusal_goes_to_arbitration(client, as_role, db):
    asked = _ask(client, as_role("steward.mz"), "persons", ["name", "gender", "household_address"]).json()
    # gender is unconditional; the ID number (the key), name and address are personal: conditional.
    assert asked["status"] == "provider"
    assert _outcomes(asked) == {"id_number": "pending", "name": "pending", "gender": "granted",
                                "household_address": "pending"}
    assert _grants(db, asked["id"]) == [["gender"]]
    assert asked["due_on"] is not None

    # Another department cannot answer for 公安.
    assert_problem(client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward.scjg"),
                               json={"approve": ["id_number", "name", "household_address"]}), 403, "department-scope")
    # A refusal needs a reason; every pending item needs a decision.
    assert_problem(client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward"),
                               json={"approve": ["id_number", "name"], "refuse": ["household_address"]}),
                   422, "validation-error")
    assert_problem(client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward"),
                               json={"approve": ["id_number"]}), 422, "validation-error")

    decided = client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward"),
                          json={"approve": ["id_number", "name"], "refuse": ["household_address"],
                                "reason": "户籍地址仅限户籍业务使用"})
    assert decided.status_code == 200, decided.text
    decided = decided.json()
    assert decided["status"] == "arbitration" and decided["escalation_reason"] == "refused"
    assert _outcomes(decided)["household_address"] == "refused"
    assert _grants(db, asked["id"]) == [["gender"], ["id_number", "name"]]
    # Deciding twice: the second answer is refused, the first stands.
    assert_problem(client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward"),
                               json={"approve": ["household_address"]}), 409, "already-decided")
    egov = org.get_by_code(db, "PD-EGOV")
    assert db.scalar(select(Notification).where(Notification.department_id == egov.id,
                                                Notification.link == f"/sharing/requests/{asked['id']}"))
    db.rollback()

    # The e-government office decides; only it may.
    assert_problem(client.post(f"/api/v1/sharing/requests/{asked['id']}/arbitration", headers=as_role("steward"),
                               json={"approve": ["household_address"], "reason": "同意"}), 403, "permission-denied")
    arbitrated = client.post(f"/api/v1/sharing/requests/{asked['id']}/arbitration", headers=as_role("admin"),
                             json={"approve": ["household_address"], "reason": "低保核对户籍属法定职责，应予共享"})
    assert arbitrated.status_code == 200, arbitrated.text
    arbitrated = arbitrated.json()
    assert arbitrated["status"] == "closed"
    assert _outcomes(arbitrated) == {"id_number": "granted", "name": "granted", "gender": "granted",
                                     "household_address": "granted"}
    assert _grants(db, asked["id"]) == [["gender"], ["id_number", "name"], ["household_address"]]
    assert [s["action"] for s in arbitrated["steps"]] == ["submitted", "granted", "provider_decided", "escalated",
                                                          "arbitrated"]
    # The requester saw every step.
    mz = org.get_by_code(db, "PD-MZ")
    kinds = set(db.scalars(select(Notification.kind).where(Notification.department_id == mz.id,
                                                           Notification.link == f"/sharing/requests/{asked['id']}")))
    db.rollback()
    assert {"sharing.submitted", "sharing.decided", "sharing.arbitrated"} <= kinds


def test_arbitration_may_uphold_the_refusal(client, as_role, db):
    asked = _ask(client, as_role("steward.mz"), "persons", ["phone"]).json()
    client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward"),
                json={"approve": ["id_number"], "refuse": ["phone"], "reason": "联系电话不属于低保审核所需"})
    upheld = client.post(f"/api/v1/sharing/requests/{asked['id']}/arbitration", headers=as_role("admin"),
                         json={"refuse": ["phone"], "reason": "维持提供方意见：最小必要原则"}).json()
    assert upheld["status"] == "closed" and _outcomes(upheld) == {"id_number": "granted", "phone": "refused"}
    assert _grants(db, asked["id"]) == [["id_number"]]


def test_not_shared_items_are_refused_with_their_legal_basis(client, as_role):
    asked = _ask(client, as_role("steward"), "PD-MZ-DIBAO", ["status", "case_notes"]).json()
    items = {i["item_code"]: i for i in asked["items"]}
    assert items["status"]["outcome"] == "granted"
    assert items["case_notes"]["outcome"] == "refused"
    assert "社会救助暂行办法" in items["case_notes"]["reason"]
    assert items["id_number"]["outcome"] == "pending"
    # The requester may ask the e-government office to look again.
    client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward.mz"),
                json={"approve": ["id_number"]})
    coordinated = client.post(f"/api/v1/sharing/requests/{asked['id']}/coordination", headers=as_role("steward"),
                              json={"reason": "核查户籍人员死亡后仍领取低保的情形"})
    assert coordinated.status_code == 200, coordinated.text
    assert coordinated.json()["status"] == "arbitration"


def test_silence_past_the_deadline_goes_to_the_egov_office_counted_in_working_days(database):
    sessions = database.sessionmaker()
    actor = audit.SystemActor(actor_name="测试")
    with sessions() as db:
        # Friday 2025-09-26 + 10 working days: Sunday 28th is a make-up working day, 1–8 October
        # the National Day holiday, Saturday 11 October a make-up day → due Thursday 2025-10-16.
        request = sharing.submit(db, resource=catalog.get(db, "persons"), requester=org.get_by_code(db, "PD-RS"),
                                 item_codes=["name"], duty="就业登记核对", basis="《就业促进法》", purpose="就业登记",
                                 valid_from=date(2025, 9, 26), valid_to=date(2026, 9, 25), actor=actor,
                                 response_days=10, today=date(2025, 9, 26))
        db.commit()
        assert request.due_on == date(2025, 10, 16) and request.status == "provider"
        assert request not in sharing.escalate_overdue(db, today=date(2025, 10, 16))
        escalated = sharing.escalate_overdue(db, today=date(2025, 10, 17))
        assert request in escalated
        db.commit()
        db.refresh(request)
        assert (request.status, request.escalation_reason) == ("arbitration", "overdue")
        assert request.steps[-1].action == "escalated" and "逾期" in request.steps[-1].note
        notified = {n.department_id for n in db.scalars(select(Notification).where(
            Notification.link == f"/sharing/requests/{request.id}", Notification.kind.in_(("sharing.arbitration", "sharing.overdue"))))}
        assert notified == {org.get_by_code(db, "PD-EGOV").id, request.provider_id}
        # Escalated once: the next scan leaves it alone.
        assert request not in sharing.escalate_overdue(db, today=date(2025, 10, 20))
        db.rollback()


def test_bad_requests_are_answered_clearly_and_change_nothing(client, as_role, db):
    before = db.scalar(select(SharingRequest.id).order_by(SharingRequest.id.desc()).limit(1))
    db.rollback()
    headers = as_role("steward.mz")
    assert_problem(_ask(client, headers, "no-such-resource", ["name"]), 404, "unknown-resource")
    body = assert_problem(_ask(client, headers, "persons", ["name", "shoe_size"]), 422, "unknown-item")
    assert "shoe_size" in body["detail"]
    assert_problem(_ask(client, headers, "persons", ["name"], purpose=""), 422, "validation-error")
    assert_problem(_ask(client, headers, "persons", ["name"], valid_to=(TODAY - timedelta(days=1)).isoformat()),
                   422, "validation-error")
    assert_problem(_ask(client, headers, "PD-MZ-DIBAO", ["status"]), 409, "conflict")  # its own resource
    assert_problem(_ask(client, as_role("clerk"), "persons", ["name"]), 403, "permission-denied")
    after = db.scalar(select(SharingRequest.id).order_by(SharingRequest.id.desc()).limit(1))
    db.rollback()
    assert after == before


def test_requests_submitted_at_once_get_distinct_numbers(client, as_role):
    """The daily request number (GX-date-0001) was the day's count plus one: two submissions at
    once on PostgreSQL read the same count, and the second failed on the unique number (500)."""
    headers = as_role("steward.mz")
    results = at_once(client, [lambda own: _ask(own, headers, "addresses", ["full_address"])] * 6)
    assert [r.status_code for r in results] == [201] * 6, [r.text for r in results if r.status_code != 201]
    numbers = [r.json()["number"] for r in results]
    assert len(set(numbers)) == 6, numbers


def test_two_provider_decisions_at_once_one_wins(client, as_role, db):
    asked = _ask(client, as_role("steward.mz"), "persons", ["name"]).json()
    steward = as_role("steward")
    decide = lambda own: own.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=steward,  # noqa: E731
                                  json={"approve": ["id_number", "name"]})
    results = at_once(client, [decide, decide, decide])
    assert sorted(r.status_code for r in results) == [200, 409, 409], [r.text for r in results]
    for loser in (r for r in results if r.status_code == 409):
        assert_problem(loser, 409, loser.json()["type"].rsplit("/", 1)[1])
    assert _grants(db, asked["id"]) == [["id_number", "name"]]  # one grant, not one per decision


def test_two_revocations_at_once_one_wins(client, as_role, db):
    asked = _ask(client, as_role("steward.mz"), "addresses", ["full_address"]).json()
    [grant_id] = db.scalars(select(Grant.id).where(Grant.request_id == asked["id"])).all()
    db.rollback()
    revoke = lambda own, headers=as_role("admin"): own.post(  # noqa: E731
        f"/api/v1/sharing/grants/{grant_id}/revoke", headers=headers, json={"reason": "用途已结束"})
    results = at_once(client, [revoke, revoke, revoke])
    assert sorted(r.status_code for r in results) == [200, 409, 409], [r.text for r in results]
    revocations = db.scalar(select(func.count()).select_from(audit.AuditEvent).where(
        audit.AuditEvent.action == "sharing.revoke", audit.AuditEvent.object_id == str(grant_id)))
    db.rollback()
    assert revocations == 1


def test_two_coordination_requests_at_once_one_wins(client, as_role, db):
    asked = _ask(client, as_role("steward"), "PD-MZ-DIBAO", ["status", "case_notes"]).json()
    decided = client.post(f"/api/v1/sharing/requests/{asked['id']}/decision", headers=as_role("steward.mz"),
                          json={"approve": ["id_number"]})
    assert decided.json()["status"] == "closed", decided.text  # case_notes refused as not shared
    coordinate = lambda own, headers=as_role("steward"): own.post(  # noqa: E731
        f"/api/v1/sharing/requests/{asked['id']}/coordination", headers=headers, json={"reason": "核查户籍人员死亡后仍领取低保的情形"})
    results = at_once(client, [coordinate, coordinate, coordinate])
    assert sorted(r.status_code for r in results) == [200, 409, 409], [r.text for r in results]
    for loser in (r for r in results if r.status_code == 409):
        assert_problem(loser, 409, "conflict")
    escalations = db.scalar(select(func.count()).select_from(SharingStep).where(
        SharingStep.request_id == asked["id"], SharingStep.action == "escalated"))
    db.rollback()
    assert escalations == 1  # one step, one notification to the office: not one per click
