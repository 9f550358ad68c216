"""One datum, one source: only the source writes; others propose corrections the source decides."""

from __future__ import annotations

from datetime import datetime

from helpers import assert_problem, at_once, register_person
from sqlalchemy import func, select

from tongban.core import clock
from tongban.core.events import OutboxEvent
from tongban.core.workdays import WorkingCalendar
from tongban.registry.models import RecordVersion


def _state(db, number):
    versions = db.scalar(select(func.count()).where(RecordVersion.registry_name == "persons", RecordVersion.record_key == number))
    events = db.scalar(select(func.count()).where(OutboxEvent.record_key == number))
    db.rollback()  # on SQLite an open transaction holds the write lock the next request needs
    return versions, events


def test_a_write_by_another_department_is_refused_and_changes_nothing(client, as_role, db):
    police = as_role("steward")
    number = register_person(client, police, name="周建华")
    before = client.get(f"/api/v1/registries/persons/{number}", headers=police, params={"purpose": "核对"}).json()
    counts = _state(db, number)

    civil = as_role("steward.mz")
    # 民政 may not change the name; the whole request is refused, the marital status in it too.
    response = client.patch(f"/api/v1/registries/persons/{number}", headers=civil,
                            json={"values": {"name": "周健华", "marital_status": "已婚"}, "reason": "婚姻登记"})
    body = assert_problem(response, 403, "not-authoritative")
    assert "姓名的权威来源是上海市公安局浦东分局" in body["detail"]
    assert body["sources"] == {"name": "上海市公安局浦东分局"}
    after = client.get(f"/api/v1/registries/persons/{number}", headers=police, params={"purpose": "核对"}).json()
    # ``ref`` is sealed afresh for each answer (its own expiry); the record itself is unchanged.
    after.pop("ref"), before.pop("ref")
    assert after == before
    db.expire_all()
    assert _state(db, number) == counts


def test_each_source_writes_its_own_fields(client, as_role):
    number = register_person(client, as_role("steward"))
    married = client.patch(f"/api/v1/registries/persons/{number}", headers=as_role("steward.mz"),
                           json={"values": {"marital_status": "已婚"}, "reason": "结婚登记"})
    assert married.status_code == 200 and married.json()["changed_fields"] == ["marital_status"]
    employed = client.patch(f"/api/v1/registries/persons/{number}", headers=as_role("steward.rs"),
                            json={"values": {"employment_status": "在职", "social_insurance_status": "正常缴费"}, "reason": "就业登记"})
    assert employed.json()["version"] == 3
    refused = client.patch(f"/api/v1/registries/persons/{number}", headers=as_role("steward.rs"),
                           json={"values": {"marital_status": "离婚"}, "reason": "试图越权"})
    assert "民政局" in assert_problem(refused, 403, "not-authoritative")["detail"]


def test_only_the_key_owner_registers_new_records(client, as_role):
    from helpers import fresh_resident_id

    response = client.post("/api/v1/registries/persons", headers=as_role("steward.mz"), json={
        "values": {"id_number": fresh_resident_id(), "marital_status": "未婚"}, "reason": "试图新建"})
    assert "公安" in assert_problem(response, 403, "not-authoritative")["detail"]


def test_staff_without_write_permission_cannot_write(client, as_role):
    number = register_person(client, as_role("steward"))
    response = client.patch(f"/api/v1/registries/persons/{number}", headers=as_role("clerk"),
                            json={"values": {"name": "某某"}, "reason": "试试"})
    assert_problem(response, 403, "permission-denied")


def test_inconsistent_values_are_refused(client, as_role):
    number = register_person(client, as_role("steward"))
    wrong_gender = "女" if int(number[16]) % 2 else "男"
    response = client.patch(f"/api/v1/registries/persons/{number}", headers=as_role("steward"),
                            json={"values": {"gender": wrong_gender}, "reason": "更正"})
    assert "第 17 位" in assert_problem(response, 422, "validation-error")["detail"]
    response = client.patch(f"/api/v1/registries/persons/{number}", headers=as_role("steward"),
                            json={"values": {"ethnicity": "火星族", "phone": "12345"}, "reason": "更正"})
    fields = {e["field"] for e in assert_problem(response, 422, "validation-error")["errors"]}
    assert fields == {"body.values.ethnicity", "body.values.phone"}


def test_correction_flows_to_the_source_and_acceptance_updates_the_field(client, as_role, db):
    police, civil = as_role("steward"), as_role("steward.mz")
    number = register_person(client, police, name="吴晓明")
    requested = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=civil, json={
        "field": "name", "proposed_value": "吴小明", "reason": "婚姻登记时核对户口簿，姓名为吴小明", "evidence": "户口簿第 3 页"})
    assert requested.status_code == 201, requested.text
    correction = requested.json()
    assert correction["status"] == "pending" and correction["source_department"] == "PD-GA"
    # Masked in the answer (finding 3: asking is not reading); in clear to a reader with the right and a purpose.
    assert correction["current_value"] == "吴**" and correction["proposed_value"] == "吴**"
    listed = client.get("/api/v1/registries/corrections", headers=civil, params={"purpose": "核对纠错申请"}).json()
    assert next(c for c in listed if c["id"] == correction["id"])["current_value"] == "吴晓明"
    expected_due = WorkingCalendar.load(db).add_working_days(clock.today(), 5).due
    db.rollback()
    assert correction["due_on"] == expected_due.isoformat()

    # The source sees it in its queue; the requester sees it too; 人社 does not.
    assert correction["id"] in [c["id"] for c in client.get("/api/v1/registries/corrections", headers=police,
                                                             params={"status": "pending"}).json()]
    assert correction["id"] in [c["id"] for c in client.get("/api/v1/registries/corrections", headers=civil).json()]
    assert correction["id"] not in [c["id"] for c in client.get("/api/v1/registries/corrections", headers=as_role("steward.rs")).json()]
    # Only the source decides.
    assert_problem(client.post(f"/api/v1/registries/corrections/{correction['id']}/decision", headers=as_role("steward.rs"),
                               json={"accept": True, "reason": "越权处理"}), 403, "department-scope")

    decided = client.post(f"/api/v1/registries/corrections/{correction['id']}/decision", headers=police,
                          json={"accept": True, "reason": "经核实户籍档案，姓名应为吴小明"})
    assert decided.status_code == 200 and decided.json()["status"] == "accepted"
    record = client.get(f"/api/v1/registries/persons/{number}", headers=police, params={"purpose": "核对"}).json()
    assert record["values"]["name"] == "吴小明" and record["version"] == 2
    history = client.get(f"/api/v1/registries/persons/{number}/history", headers=police, params={"purpose": "核对"}).json()["items"]
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["changed_fields"] == ["name"] and f"#{correction['id']}" in history[0]["reason"]
    assert history[0]["department_code"] == "PD-GA" and history[1]["values"]["name"] == "吴晓明"

    again = client.post(f"/api/v1/registries/corrections/{correction['id']}/decision", headers=police,
                        json={"accept": False, "reason": "重复处理"})
    decided_at = datetime.fromisoformat(decided.json()["decided_at"]).astimezone(clock.BEIJING)
    assert f"已于 {decided_at:%Y-%m-%d %H:%M}" in assert_problem(again, 409, "already-decided")["detail"]  # Beijing time


def test_a_rejected_correction_changes_nothing(client, as_role):
    police = as_role("steward")
    number = register_person(client, police, name="郑国强")
    correction = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=as_role("clerk"), json={
        "field": "name", "proposed_value": "郑国庆", "reason": "窗口办件时申请人口述"}).json()
    rejected = client.post(f"/api/v1/registries/corrections/{correction['id']}/decision", headers=police,
                           json={"accept": False, "reason": "户籍档案与现登记一致，不予更正"})
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_reason"] == "户籍档案与现登记一致，不予更正"
    record = client.get(f"/api/v1/registries/persons/{number}", headers=police, params={"purpose": "核对"}).json()
    assert record["values"]["name"] == "郑国强" and record["version"] == 1


def test_a_decided_correction_is_dated_by_the_one_beijing_formatter(client, as_role, monkeypatch):
    from tongban.core import templating

    police = as_role("steward")
    number = register_person(client, police, name="冯立新")
    correction = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=as_role("clerk"), json={
        "field": "name", "proposed_value": "冯立鑫", "reason": "窗口办件时申请人口述"}).json()
    decision = f"/api/v1/registries/corrections/{correction['id']}/decision"
    assert client.post(decision, headers=police, json={"accept": False, "reason": "不予更正"}).status_code == 200
    # Times shown to people go through core.templating.local_time, not a second formatter.
    monkeypatch.setattr(templating, "local_time", lambda moment, pattern="%Y-%m-%d %H:%M": "〈北京时间〉")
    again = client.post(decision, headers=police, json={"accept": False, "reason": "重复处理"})
    assert "已于 〈北京时间〉" in assert_problem(again, 409, "already-decided")["detail"]


def test_a_correction_with_an_invalid_value_is_refused(client, as_role):
    number = register_person(client, as_role("steward"))
    response = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=as_role("clerk"), json={
        "field": "marital_status", "proposed_value": "保密", "reason": "测试"})
    assert_problem(response, 422, "validation-error")


def test_two_decisions_of_one_correction_at_once_one_wins(client, as_role, db):
    police = as_role("steward")
    number = register_person(client, police, name="冯志刚")
    correction = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=as_role("steward.mz"), json={
        "field": "name", "proposed_value": "冯志强", "reason": "婚姻登记时核对户口簿"}).json()
    before = _state(db, number)
    decide = lambda own: own.post(f"/api/v1/registries/corrections/{correction['id']}/decision",  # noqa: E731
                                  headers=police, json={"accept": True, "reason": "经核实户籍档案"})
    results = at_once(client, [decide, decide, decide])
    assert sorted(r.status_code for r in results) == [200, 409, 409], [r.text for r in results]
    for loser in (r for r in results if r.status_code == 409):
        assert_problem(loser, 409, "already-decided")
    # One registry write: one new version and one change event, not one per decision.
    assert _state(db, number) == (before[0] + 1, before[1] + 1)
