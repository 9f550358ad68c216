"""12345 工单 on the grid's case engine: every outcome of a call, the department's steps, the
centre's, the follow-up; department scope, masking and the audited clear read; bad input."""

from __future__ import annotations

import itertools

import pytest
from helpers import assert_problem
from sqlalchemy import select

import own_database as _own

from tongban.core.audit import AuditEvent as AuditLog

own_database, quiet_app, client, db, as_role = _own.own_database, _own.quiet_app, _own.client, _own.db, _own.as_role
URL = "/api/v1/hotline/tickets"
_phones = itertools.count(13812340000)


def phone() -> str:
    return str(next(_phones))


def call(**changes) -> dict:
    body = {"caller_phone": phone(), "caller_name": "王先生", "said": "公司拖欠我三个月工资，老板一直不给，我想讨薪",
            "summary": "来电反映被拖欠三个月工资，要求处理", "category": "H-RS01", "outcome": "dispatched"}
    body.update(changes)
    return body


def created(client, as_role, **changes) -> dict:
    response = client.post(URL, json=call(**changes), headers=as_role("hotline"))
    assert response.status_code == 201, response.text
    return response.json()


def step(client, headers, number: str, name: str, body: dict, status: int = 200) -> dict:
    response = client.post(f"{URL}/{number}/{name}", json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def test_a_call_answered_directly_is_closed_at_once_with_the_knowledge(client, as_role):
    ticket = created(client, as_role, outcome="answered", category="H-ZW01", said="请问办理居住证需要带什么材料",
                     summary="咨询居住证办理材料", knowledge_ref="FAQ-12", knowledge_text="带身份证、租房合同和照片到社区事务受理中心办理")
    assert ticket["status"] == "closed" and ticket["status_label"] == "已办结" and ticket["outcome_label"] == "直接办结"
    assert ticket["number"].startswith("RX-") and ticket["knowledge_text"].startswith("带身份证")
    assert [e["action_label"] for e in ticket["trail"]] == ["信息收集（上报）", "直接办结"]
    transferred = created(client, as_role, outcome="transferred", category="H-SC01", said="网购的手机有质量问题商家不退货",
                          summary="消费投诉，转 12315")
    assert transferred["status"] == "closed" and transferred["transfer_line"] == "12315"
    assert "12315" in transferred["trail"][-1]["note"]


def test_a_dispatched_ticket_is_signed_and_answered_then_closed_at_follow_up(client, as_role):
    ticket = created(client, as_role)
    number = ticket["number"]
    assert ticket["status"] == "dispatched" and ticket["department"] == "PD-RS" and ticket["expected_text"]
    assert {c["step"] for c in ticket["clocks"]} == {"签收", "办理答复"}
    department = as_role("reviewer.rs")
    mine = client.get(URL, params={"queue": "sign"}, headers=department).json()
    assert number in [t["number"] for t in mine]
    detail = client.get(f"{URL}/{number}", headers=department).json()
    assert "sign" in detail["actions"] and "reply" not in detail["actions"]
    assert_problem(client.post(f"{URL}/{number}/reply", json={"reply": "已处理"}, headers=department), 409, "grid-state")
    signed = step(client, department, number, "sign", {"version": detail["version"]})
    assert signed["signed_at"] and "reply" in signed["actions"]
    assert number in [t["number"] for t in client.get(URL, params={"queue": "handle"}, headers=department).json()]
    replied = step(client, department, number, "reply", {"version": signed["version"], "reply": "已约谈企业，约定本月底前补发工资"})
    assert replied["status"] == "handled" and replied["reply"].startswith("已约谈")
    centre = as_role("hotline")
    assert number in [t["number"] for t in client.get(URL, params={"queue": "follow_up"}, headers=centre).json()]
    closed = step(client, centre, number, "follow-up", {"version": replied["version"], "satisfaction": "satisfied", "solved": True})
    assert closed["status"] == "closed" and closed["satisfaction_label"] == "满意" and closed["solved"] is True
    assert [e["action"] for e in closed["trail"]] == ["report", "dispatch", "sign", "handle", "follow_up"]
    assert all(c["status"] == "closed" for c in closed["clocks"])


def test_a_returned_ticket_is_rerouted_or_arbitrated(client, as_role):
    ticket = created(client, as_role, department_code="PD-CGZF")
    number = ticket["number"]
    returned = step(client, as_role("grid.cgzf"), number, "return", {"version": ticket["version"], "reason": "欠薪不属于城管执法职责"})
    assert returned["status"] == "registered" and returned["department"] is None
    centre = as_role("hotline")
    assert number in [t["number"] for t in client.get(URL, params={"queue": "reroute"}, headers=centre).json()]
    rerouted = step(client, centre, number, "dispatch", {"version": returned["version"], "department_code": "PD-RS",
                                                         "note": "改派人社局"})
    assert rerouted["status"] == "dispatched" and rerouted["department"] == "PD-RS"
    assert [e["action"] for e in rerouted["trail"]][-2:] == ["return", "dispatch"]
    # the department that returned it still reads what it did, but no longer acts on it
    seen = client.get(f"{URL}/{number}", headers=as_role("grid.cgzf")).json()
    assert seen["actions"] == []
    # arbitration: returned again, sent back to the same department with the centre's ruling
    again = step(client, as_role("reviewer.rs"), number, "return", {"version": rerouted["version"], "reason": "应由街道处理"})
    ruled = step(client, centre, number, "dispatch", {"version": again["version"], "note": "经裁定，仍由人社局办理"})
    assert ruled["department"] == "PD-RS" and "裁定" in ruled["trail"][-1]["note"]


def test_a_ticket_rerouted_under_another_class_is_that_class_from_then_on(client, as_role):
    ticket = created(client, as_role, category="H-RS03", department_code="PD-RS", said="单位没给我交社保，我的工资也拖了三个月",
                     summary="反映单位未缴社保")
    returned = step(client, as_role("reviewer.rs"), ticket["number"], "return",
                    {"version": ticket["version"], "reason": "主要诉求是欠薪，应按拖欠工资分类"})
    rerouted = step(client, as_role("hotline"), ticket["number"], "dispatch",
                    {"version": returned["version"], "category": "H-RS01", "note": "按欠薪办理"})
    assert rerouted["category"] == "H-RS01" and rerouted["category_name"] == "拖欠工资"
    assert "分类改为「拖欠工资」" in rerouted["trail"][-1]["note"]
    listed = client.get(URL, params={"queue": "all"}, headers=as_role("reviewer.rs")).json()
    assert next(t for t in listed if t["number"] == ticket["number"])["category_name"] == "拖欠工资"


def test_an_extension_is_asked_for_and_approved(client, as_role):
    ticket = created(client, as_role)
    number = ticket["number"]
    department = as_role("reviewer.rs")
    signed = step(client, department, number, "sign", {"version": ticket["version"]})
    asked = step(client, department, number, "extension", {"version": signed["version"], "days": 5, "reason": "需要劳动监察大队现场调查"})
    assert asked["extension_state"] == "requested" and asked["extension_label"] == "待审批"
    assert_problem(client.post(f"{URL}/{number}/extension", json={"days": 3, "reason": "再延"}, headers=department), 409, "grid-state")
    centre = as_role("hotline")
    assert number in [t["number"] for t in client.get(URL, params={"queue": "extension"}, headers=centre).json()]
    approved = step(client, centre, number, "extension/decision", {"version": asked["version"], "approve": True})
    assert approved["extension_state"] == "approved" and approved["expected_at"] > asked["expected_at"]
    handling = [c for c in approved["clocks"] if c["step"] == "办理答复"][-1]
    assert handling["limit"] == "15 个工作日"
    refused_ticket = created(client, as_role)
    asked = step(client, department, refused_ticket["number"], "extension",
                 {"version": refused_ticket["version"], "days": 2, "reason": "人手不足"})
    refused = step(client, centre, refused_ticket["number"], "extension/decision", {"version": asked["version"], "approve": False})
    assert refused["extension_state"] == "refused" and refused["expected_at"] == asked["expected_at"]


def test_an_urged_ticket_counts_and_notifies(client, as_role, db):
    ticket = created(client, as_role)
    urged = step(client, as_role("hotline"), ticket["number"], "urge", {"version": ticket["version"], "note": "来电人再次来电催办"})
    urged = step(client, as_role("hotline"), ticket["number"], "urge", {"version": urged["version"]})
    assert urged["urges"] == 2 and [e["action"] for e in urged["trail"]].count("urge") == 2
    notices = client.get("/api/v1/notifications", headers=as_role("reviewer.rs")).json()
    titles = [n["title"] for n in (notices["items"] if isinstance(notices, dict) else notices)]
    assert any(f"督办：12345 工单 {ticket['number']}" in t for t in titles), titles
    assert_problem(client.post(f"{URL}/{ticket['number']}/urge", json={}, headers=as_role("reviewer.rs")), 403, "permission-denied")


def test_an_unsolved_follow_up_reopens_to_the_same_department_on_a_new_clock(client, as_role):
    ticket = created(client, as_role)
    number = ticket["number"]
    department = as_role("reviewer.rs")
    signed = step(client, department, number, "sign", {"version": ticket["version"]})
    replied = step(client, department, number, "reply", {"version": signed["version"], "reply": "已督促企业发放工资"})
    reopened = step(client, as_role("hotline"), number, "follow-up",
                    {"version": replied["version"], "satisfaction": "dissatisfied", "solved": False, "note": "工资仍未到账"})
    assert reopened["status"] == "dispatched" and reopened["department"] == "PD-RS" and reopened["reopens"] == 1
    assert reopened["satisfaction_label"] == "不满意" and reopened["trail"][-1]["action"] == "reopen"
    handling = [c for c in reopened["clocks"] if c["step"] == "办理答复"]
    assert len(handling) == 2 and handling[0]["status"] == "closed" and handling[1]["status"] == "open"
    replied = step(client, department, number, "reply", {"version": reopened["version"], "reply": "工资已全部补发"})
    closed = step(client, as_role("hotline"), number, "follow-up",
                  {"version": replied["version"], "satisfaction": "very_satisfied", "solved": True})
    assert closed["status"] == "closed"


def test_a_department_reads_only_its_tickets(client, as_role):
    ticket = created(client, as_role)
    assert_problem(client.get(f"{URL}/{ticket['number']}", headers=as_role("grid.cgzf")), 403, "department-scope")
    assert_problem(client.post(f"{URL}/{ticket['number']}/sign", json={}, headers=as_role("grid.cgzf")), 403, "department-scope")
    assert ticket["number"] not in [t["number"] for t in client.get(URL, headers=as_role("grid.cgzf")).json()]
    assert_problem(client.get(f"{URL}/{ticket['number']}", headers=as_role("clerk")), 403, "permission-denied")
    assert_problem(client.get(f"{URL}/RX-20260101-NOPE00", headers=as_role("hotline")), 404, "not-found")


def test_the_caller_is_masked_and_the_clear_read_is_audited(client, as_role, db):
    caller = phone()
    ticket = created(client, as_role, caller_phone=caller, caller_id_number="310115199306151236")
    assert ticket["caller_phone"] == caller[:3] + "****" + caller[-4:]
    assert ticket["caller_id_number"] == "3101**********1236"
    listed = client.get(URL, headers=as_role("reviewer.rs")).json()
    assert all("****" in t["caller_phone"] for t in listed)
    contact_url = f"{URL}/{ticket['number']}/contact"
    assert_problem(client.post(contact_url, json={}, headers=as_role("reviewer.rs")), 422, "validation-error")
    clear = client.post(contact_url, json={"purpose": "回电核实欠薪情况"}, headers=as_role("reviewer.rs"))
    assert clear.status_code == 200, clear.text
    assert clear.json() == {"caller_phone": caller, "caller_id_number": "310115199306151236"}
    logged = db.scalars(select(AuditLog).where(AuditLog.action == "hotline.ticket.read_contact",
                                               AuditLog.object_id == ticket["number"])).all()
    assert len(logged) == 1 and logged[0].purpose == "回电核实欠薪情况"
    db.rollback()  # SQLite: a reading transaction holds the write lock
    assert_problem(client.post(contact_url, json={"purpose": "看看"}, headers=as_role("grid.cgzf")), 403, "department-scope")
    # the caller's earlier tickets, masked, for the agent's next call
    context = client.post(f"{URL}/context", json={"caller_phone": caller, "text": "工资"}, headers=as_role("hotline")).json()
    assert [t["number"] for t in context["earlier"]] == [ticket["number"]] and "****" in context["earlier"][0]["caller_phone"]


@pytest.mark.parametrize("changes, slug, status", [
    ({"said": ""}, "validation-error", 422),
    ({"said": "   "}, "validation-error", 422),
    ({"said": "长" * 2001}, "validation-error", 422),
    ({"summary": ""}, "validation-error", 422),
    ({"caller_phone": "abc"}, "validation-error", 422),
    ({"caller_id_number": "310115199306151230"}, "validation-error", 422),
    ({"category": "H-XX99"}, "not-found", 404),
    ({"category": "G-E9999"}, "not-found", 404),
    ({"department_code": "PD-NOPE"}, "not-found", 404),
    ({"outcome": "answered"}, "validation-error", 422),  # without the knowledge used
    ({"outcome": "merged"}, "validation-error", 422),  # without the ticket to merge into
    ({"outcome": "sent"}, "validation-error", 422),
    ({"lon": 100.0, "lat": 31.2}, "grid-outside-district", 422),
    ({"extra": 1}, "validation-error", 422),
])
def test_bad_input_is_refused_in_chinese_and_changes_nothing(client, as_role, changes, slug, status):
    before = len(client.get(URL, headers=as_role("hotline")).json())
    assert_problem(client.post(URL, json=call(**changes), headers=as_role("hotline")), status, slug)
    assert len(client.get(URL, headers=as_role("hotline")).json()) == before


def test_a_duplicate_submission_gets_the_same_ticket_or_a_clear_problem(client, as_role):
    body = call()
    headers = {**as_role("hotline"), "Idempotency-Key": "call-dup-1"}
    first = client.post(URL, json=body, headers=headers)
    again = client.post(URL, json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 200 and again.json()["number"] == first.json()["number"]
    assert_problem(client.post(URL, json={**body, "summary": "另一摘要"}, headers=headers), 422, "idempotency-key-reused")
    problem = assert_problem(client.post(URL, json=body, headers=as_role("hotline")), 409, "hotline-duplicate")
    assert problem["ticket"] == first.json()["number"]


def test_stale_versions_and_wrong_states_are_refused(client, as_role):
    ticket = created(client, as_role)
    department = as_role("reviewer.rs")
    step(client, department, ticket["number"], "sign", {"version": ticket["version"]})
    assert_problem(client.post(f"{URL}/{ticket['number']}/return", json={"version": ticket["version"], "reason": "不是本部门"},
                               headers=department), 409, "conflict")
    assert_problem(client.post(f"{URL}/{ticket['number']}/follow-up", json={"satisfaction": "satisfied", "solved": True},
                               headers=as_role("hotline")), 409, "grid-state")
    assert_problem(client.post(f"{URL}/{ticket['number']}/sign", json={}, headers=department), 409, "grid-state")


def test_a_call_merged_into_an_open_ticket_and_tickets_with_a_place_in_open311(client, as_role):
    first = created(client, as_role, category="H-GA02", said="楼下饭店每天半夜噪声很大", summary="夜间噪声扰民",
                    lon=121.5205, lat=31.2302, address="浦东南路 100 号")
    second = created(client, as_role, category="H-GA02", said="浦东南路100号饭店半夜吵得睡不着", summary="同一噪声问题",
                     outcome="merged", merge_into=first["number"])
    assert second["status"] == "merged" and second["outcome_label"] == "合并"
    context = client.post(f"{URL}/context", json={"lon": 121.5205, "lat": 31.2302}, headers=as_role("hotline")).json()
    assert first["number"] in [t["number"] for t in context["nearby"]]
    listed = client.get("/open311/v2/requests.json", params={"service_request_id": first["number"]}).json()
    assert [r["service_request_id"] for r in listed] == [first["number"]] and listed[0]["lat"] == 31.2302
    placeless = created(client, as_role)
    assert client.get("/open311/v2/requests.json", params={"service_request_id": placeless["number"]}).json() == []
    assert client.get("/open311/v2/requests.json").status_code == 200
    assert client.get("/api/v1/grid/cases.geojson", headers=as_role("grid.centre")).status_code == 200


def test_open311_lists_the_union_of_grid_and_hotline_categories_and_follows_a_hotline_ticket(client, as_role):
    """services.json: every grid category and every class of the hotline's own; a ticket of such a class
    with a place is found by its service_code; the class is filed by calling, so POST refuses it."""
    from tongban.hotline.categories import catalogue

    services = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"] for s in services}
    own = {f"hotline-{c.code}" for c in catalogue().categories if c.grid is None}
    grid_codes = {f"{c['kind']}-{c['code']}" for c in client.get("/api/v1/grid/categories").json() if c["active"]}
    assert own and own <= codes and grid_codes <= codes and codes == own | grid_codes
    noise = next(s for s in services if s["service_code"] == "hotline-H-GA02")
    assert noise["service_name"] and "12345" in noise["description"] and noise["metadata"] is False
    xml = client.get("/open311/v2/services.xml")
    assert xml.status_code == 200 and "<service_code>hotline-H-GA02</service_code>" in xml.text
    definition = client.get("/open311/v2/services/hotline-H-GA02.json").json()
    assert definition == {"service_code": "hotline-H-GA02", "attributes": []}
    assert client.get("/open311/v2/services/hotline-H-ZZ99.json").status_code == 404

    ticket = created(client, as_role, category="H-GA02", said="小区门口工地夜里打桩", summary="夜间施工噪声",
                     lon=121.5211, lat=31.2311, address="浦东南路 120 号")
    found = client.get("/open311/v2/requests.json", params={"service_code": "hotline-H-GA02"}).json()
    assert ticket["number"] in [r["service_request_id"] for r in found]
    assert {r["service_code"] for r in found} == {"hotline-H-GA02"}
    key = client.post("/api/v1/grid/open311-clients", headers=as_role("grid.centre"), json={"name": "热线分类上报测试"})
    assert key.status_code == 201, key.text
    refused = client.post("/open311/v2/requests.json", data={"api_key": key.json()["key"], "service_code": "hotline-H-GA02",
                                                             "lat": "31.2311", "long": "121.5211", "description": "噪声"})
    assert refused.status_code == 400 and "12345" in refused.json()[0]["description"], refused.text
    assert client.get("/open311/v2/requests.json", params={"service_code": "hotline-"}).status_code == 400


def test_the_caller_is_looked_up_in_the_registry_only_with_a_purpose(client, as_role, db):
    url = f"{URL}/caller"
    assert_problem(client.post(url, json={"id_number": "310115199306151236"}, headers=as_role("hotline")), 422, "validation-error")
    found = client.post(url, json={"id_number": "310115199306151236", "purpose": "核实来电人身份"}, headers=as_role("hotline"))
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["found"] is True and body["masked"] is True and body["name"].startswith("张") and "*" in body["name"]
    logged = db.scalars(select(AuditLog).where(AuditLog.action == "registry.read", AuditLog.object_id == "310115199306151236",
                                               AuditLog.purpose == "核实来电人身份")).all()
    assert len(logged) == 1
    db.rollback()
    assert_problem(client.post(url, json={"id_number": "310115199306151236", "purpose": "核实"}, headers=as_role("reviewer.rs")),
                   403, "permission-denied")


def test_the_grids_own_steps_do_not_move_a_ticket(client, as_role):
    """A ticket moves only through 热线工单: the grid centre's and a handler's grid steps are refused
    (409 grid-state, naming the ticket page) and change nothing."""
    ticket = created(client, as_role, department_code="PD-CGZF")
    number = ticket["number"]
    returned = step(client, as_role("grid.cgzf"), number, "return", {"version": ticket["version"], "reason": "不属于城管执法职责"})
    grid = "/api/v1/grid/cases"
    refused = client.post(f"{grid}/{number}/dispatch", json={"department_code": "PD-RS"}, headers=as_role("grid.centre"))
    assert_problem(refused, 409, "grid-state")
    assert f"/hotline/tickets/{number}" in refused.json()["detail"]
    again = created(client, as_role, department_code="PD-CGZF")
    handled = client.post(f"{grid}/{again['number']}/handle", data={"result": "已处理完毕"}, headers=as_role("grid.cgzf"))
    assert_problem(handled, 409, "grid-state")
    for found, before in ((number, returned), (again["number"], again)):
        now = client.get(f"{URL}/{found}", headers=as_role("hotline")).json()
        assert (now["status"], now["version"], len(now["trail"])) == (before["status"], before["version"], len(before["trail"]))
