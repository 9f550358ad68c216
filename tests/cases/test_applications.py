"""一口受理、协同办理: both demo bundles end to end through the API, on every engine — parallel
tasks in several departments, the join, a refusal ending the bundle, a supplement pausing and
resuming the clock — and every kind of bad input refused."""

from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from fastapi.testclient import TestClient
from helpers import assert_problem, at_once, bearer
from sqlalchemy import func, select

from tongban import demo
from tongban.app import create_app
from tongban.cases import service
from tongban.cases.bpmn import model as bpmn_model
from tongban.exchange.models import ExchangeCall

ENTERPRISE_FORM = {"applicant_name": "张伟", "applicant_id": demo.CITIZEN.username, "phone": "13812345678",
                   "enterprise_name": "上海张伟测试科技有限公司", "entity_type": "有限责任公司", "registered_capital": "100",
                   "registered_address": "上海市浦东新区张江路100号", "business_scope": "软件开发；信息技术咨询服务",
                   "seal_count": "3", "employees": "5", "housing_fund_rate": "7"}
ROAD_FORM = {"entity_name": "上海浦江示范科技有限公司", "credit_code": demo.ENTERPRISE.username, "legal_representative": "张伟",
             "phone": "021-58881234", "project_name": "张江路通信管道新建工程", "location": "张江路（科苑路至碧波路）",
             "length_m": "320", "method": "开挖施工", "period": "2026年12月1日至12月20日"}


def _form(client, headers, **query) -> dict:
    response = client.get("/api/v1/applications/forms", params=query, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _apply(client, headers, *, bundle: str, form: dict, key: str | None = None, **extra) -> dict:
    materials = [m["name"] for m in _form(client, headers, bundle=bundle)["materials"] if not m["exempt"]]
    response = client.post("/api/v1/applications", headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
                           json={"bundle": bundle, "form": form, "materials": materials, **extra})
    assert response.status_code in (200, 201), response.text
    return response.json()


def _accept(client, as_role, number: str) -> dict:
    response = client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"},
                           headers=as_role("clerk"))
    assert response.status_code == 200, response.text
    return response.json()


def _open(client, headers, number: str) -> list[dict]:
    # Every page: the session's demo database keeps the tasks of every earlier test in the queue.
    found, cursor = [], None
    while True:
        page = client.get("/api/v1/tasks", params={"cursor": cursor} if cursor else {}, headers=headers).json()
        found += [t for t in page["items"] if t["application"] == number]
        if not (cursor := page["next_cursor"]):
            return found


def _decide(client, headers, task: dict, decision: str = "approve", opinion: str = "", **extra):
    return client.post(f"/api/v1/tasks/{task['id']}/decision", headers=headers,
                       json={"decision": decision, "opinion": opinion, "version": task["version"], **extra})


def _approve_only_task(client, headers, number: str) -> None:
    [task] = _open(client, headers, number)
    response = _decide(client, headers, task, opinion="材料齐全，符合条件")
    assert response.status_code == 200, response.text


def _read(client, headers, number: str) -> dict:
    response = client.get(f"/api/v1/applications/{number}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _reviewers(as_role) -> dict[str, dict]:
    """The four departments' reviewers of 企业开办, signed in now."""
    return {code: as_role(name) for code, name in (("PD-GA", "reviewer.ga"), ("PD-SW", "reviewer.sw"),
                                                  ("PD-RS", "reviewer.rs"), ("PD-GJJ", "reviewer.gjj"))}


def test_enterprise_setup_end_to_end(client, as_role, monkeypatch, db, fixed_clock):
    citizen = as_role(demo.CITIZEN.username)
    form = _form(client, citizen, bundle="enterprise-setup")
    prefilled = {f["key"]: f for f in form["fields"]}
    assert prefilled["applicant_name"]["value"] == "张伟" and "公安" in prefilled["applicant_name"]["source"]
    assert prefilled["applicant_id"]["value"] == demo.CITIZEN.username
    # The enterprise's 住所 is the enterprise's, not the applicant's home address: left to the applicant.
    assert not prefilled["registered_address"]["value"] and not prefilled["registered_address"]["source"]
    exempt = {m["name"]: m for m in form["materials"] if m["exempt"]}
    assert exempt["营业执照"]["from_item"] == "企业设立登记"  # produced by the bundle itself, never uploaded

    fixed_clock.set(date(2026, 3, 2))  # a Monday: the day of acceptance
    # The demo database is shared by the session: only the calls this application makes are its own.
    calls_before = db.scalar(select(func.coalesce(func.max(ExchangeCall.id), 0)))
    db.rollback()

    key = uuid.uuid4().hex
    application = _apply(client, citizen, bundle="enterprise-setup", form=ENTERPRISE_FORM, key=key)
    again = _apply(client, citizen, bundle="enterprise-setup", form=ENTERPRISE_FORM, key=key)
    assert again["number"] == application["number"]  # the retry created nothing
    number = application["number"]
    assert application["status"] == "submitted" and application["channel"] == "online"
    identity = next(m for m in application["materials"] if m["name"] == "投资人、法定代表人身份证件")
    assert identity["how"] == "shared" and identity["source"]["grants"]  # fetched through the exchange under a grant
    platform_reads = db.execute(select(ExchangeCall.outcome, ExchangeCall.purpose).where(
        ExchangeCall.department_code == "PD-EGOV", ExchangeCall.resource_code == "persons",
        ExchangeCall.id > calls_before)).all()
    db.rollback()  # SQLite: a reading session holds the write lock until it ends
    assert platform_reads and all(outcome == "ok" and "企业开办一件事" in purpose for outcome, purpose in platform_reads)
    accepted = _accept(client, as_role, number)
    assert accepted["status"] == "processing" and accepted["accepted_on"] == "2026-03-02"
    assert accepted["due_on"] == "2026-03-06"  # 4 working days

    # 营业执照 first; its approval opens four departments' tasks at the same time.
    _approve_only_task(client, as_role("reviewer"), number)
    reviewers = _reviewers(as_role)
    open_now = {code: _open(client, headers, number) for code, headers in reviewers.items()}
    assert all(len(tasks) == 1 for tasks in open_now.values()), open_now
    entity_code = _read(client, citizen, number)["form"]["credit_code"]  # registered by 市场监管
    assert client.get(f"/api/v1/registries/legal-entities/{entity_code}", headers=as_role("clerk")).status_code == 200

    # 税务 asks for a supplement on Wednesday: the clock stops; the applicant answers on the next Monday.
    fixed_clock.set(date(2026, 3, 4))
    reviewers, citizen = _reviewers(as_role), as_role(demo.CITIZEN.username)  # a new day: a token lives minutes
    assert _decide(client, reviewers["PD-SW"], open_now["PD-SW"][0], "supplement", "请补充存款账户账号报告的银行盖章页").status_code == 200
    paused = _read(client, citizen, number)
    assert paused["status"] == "supplement" and paused["paused"] and paused["remaining_days"] == 2
    fixed_clock.set(date(2026, 3, 9))
    reviewers, citizen = _reviewers(as_role), as_role(demo.CITIZEN.username)
    assert _read(client, citizen, number)["remaining_days"] == 2  # a paused clock does not run
    supplied = client.post(f"/api/v1/applications/{number}/supplement", headers=citizen,
                           json={"note": "已上传银行盖章页", "materials": ["存款账户账号报告"]})
    assert supplied.status_code == 200, supplied.text
    resumed = supplied.json()
    assert resumed["status"] == "processing" and not resumed["paused"]
    assert resumed["paused_days"] == 3  # Thu, Fri, Mon
    assert resumed["due_on"] == "2026-03-11" and resumed["remaining_days"] == 2

    # The join waits for every branch.
    for code in ("PD-GA", "PD-RS"):
        assert _decide(client, reviewers[code], open_now[code][0], opinion="同意").status_code == 200
    assert _read(client, citizen, number)["status"] == "processing"
    [sw_again] = _open(client, reviewers["PD-SW"], number)
    assert sw_again["id"] != open_now["PD-SW"][0]["id"]  # the review reopened after the supplement
    assert _decide(client, reviewers["PD-SW"], sw_again, opinion="同意").status_code == 200
    assert _read(client, citizen, number)["status"] == "processing"
    assert _decide(client, reviewers["PD-GJJ"], open_now["PD-GJJ"][0], opinion="同意").status_code == 200

    done = _read(client, citizen, number)
    assert done["status"] == "approved" and done["finished_at"]
    assert [lic["name"] for lic in done["licences"]] == ["营业执照（含电子营业执照）"]
    entity = client.get(f"/api/v1/registries/legal-entities/{entity_code}", headers=as_role("clerk")).json()
    values = entity.get("values", entity)
    assert values["tax_registration_status"] == "正常" and values["social_insurance_registered"] == "已登记"
    assert values["housing_fund_registered"] == "已登记"
    texts = [step["text"] for step in done["timeline"]]
    assert any("已受理" in t for t in texts) and any("办结：准予" in t for t in texts)
    assert number in [a["number"] for a in client.get("/api/v1/applications/mine", headers=citizen).json()["items"]]
    notes = client.get("/api/v1/notifications", headers=citizen).json()
    assert any(number in n["title"] and "办结" in n["title"] for n in notes)
    page = client.get(f"/applications/{number}", headers=citizen)  # 办结: the applicant is asked for a 好差评
    assert page.status_code == 200 and 'id="rating-form"' in page.text
    assert all(label in page.text for label in ("5 分 非常满意", "多次跑腿", "一次办成"))


def test_a_refusal_in_one_branch_ends_the_bundle(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    number = _apply(client, citizen, bundle="enterprise-setup",
                    form={**ENTERPRISE_FORM, "enterprise_name": "上海张伟拒绝测试有限公司"})["number"]
    _accept(client, as_role, number)
    _approve_only_task(client, as_role("reviewer"), number)
    [ga_task] = _open(client, as_role("reviewer.ga"), number)
    [rs_task] = _open(client, as_role("reviewer.rs"), number)
    assert _decide(client, as_role("reviewer.rs"), rs_task, "refuse", "参保单位信息与营业执照不一致").status_code == 200
    ended = _read(client, citizen, number)
    assert ended["status"] == "refused"
    assert {t["status"] for t in ended["tasks"] if t["id"] not in (rs_task["id"],)} >= {"cancelled"}
    assert not _open(client, as_role("reviewer.sw"), number)
    problem = assert_problem(_decide(client, as_role("reviewer.ga"), ga_task), 409, "task-finished")
    assert "终止" in problem["detail"]


def test_road_excavation_runs_its_prerequisites_in_order_and_in_parallel(client, as_role):
    company = as_role(demo.ENTERPRISE.username)
    form = _form(client, company, bundle="road-excavation")
    assert {f["key"]: f["value"] for f in form["fields"]}["credit_code"] == demo.ENTERPRISE.username
    number = _apply(client, company, bundle="road-excavation", form=ROAD_FORM)["number"]
    _accept(client, as_role, number)
    jsjt, cgzf = as_role("reviewer.jsjt"), as_role("reviewer.cgzf")
    assert not _open(client, jsjt, number)  # the planning permit comes first
    _approve_only_task(client, as_role("reviewer.ghzy"), number)
    jsjt_tasks, cgzf_tasks = _open(client, jsjt, number), _open(client, cgzf, number)
    assert sorted(t["item"] for t in jsjt_tasks) == ["000115004000", "000115007000"]
    assert [t["item"] for t in cgzf_tasks] == ["000116004000"]  # two departments at the same time
    for task in jsjt_tasks:
        assert _decide(client, jsjt, task, opinion="同意").status_code == 200
    assert [t["item"] for t in _open(client, jsjt, number)] == []  # the join still waits for 城管
    assert _decide(client, cgzf, cgzf_tasks[0], opinion="同意").status_code == 200
    [final] = _open(client, jsjt, number)
    assert final["item"] == "000115010000"
    assert _decide(client, jsjt, final, opinion="准予挖掘").status_code == 200
    done = _read(client, company, number)
    assert done["status"] == "approved"
    assert {lic["name"] for lic in done["licences"]} == {"建设工程规划许可证", "道路挖掘（占用）许可决定书"}


def test_a_queue_is_read_page_by_page_oldest_first(client, as_role):
    company, jsjt = as_role(demo.ENTERPRISE.username), as_role("reviewer.jsjt")
    for _ in range(2):  # two cases, each with two 交通委 tasks open at once
        number = _apply(client, company, bundle="road-excavation", form=ROAD_FORM)["number"]
        _accept(client, as_role, number)
        _approve_only_task(client, as_role("reviewer.ghzy"), number)
    whole = client.get("/api/v1/tasks", headers=jsjt).json()
    assert whole["next_cursor"] is None and len(whole["items"]) >= 4
    ids, cursor = [], None
    while True:
        page = client.get("/api/v1/tasks", params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=jsjt)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 3
        ids += [t["id"] for t in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert ids == [t["id"] for t in whole["items"]] == sorted(ids)
    assert_problem(client.get("/api/v1/tasks", params={"limit": 0}, headers=jsjt), 422, "validation-error")
    assert_problem(client.get("/api/v1/tasks", params={"cursor": "not-a-cursor"}, headers=jsjt), 422, "validation-error")


def test_decisions_are_refused_when_they_should_be(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    number = _apply(client, citizen, bundle="enterprise-setup",
                    form={**ENTERPRISE_FORM, "enterprise_name": "上海张伟校验测试有限公司"})["number"]
    _accept(client, as_role, number)
    [task] = _open(client, as_role("reviewer"), number)
    assert_problem(_decide(client, as_role("reviewer.ga"), task), 403, "department-scope")
    assert_problem(_decide(client, citizen, task), 403, "permission-denied")
    assert_problem(_decide(client, as_role("reviewer"), {**task, "version": task["version"] + 5}), 409, "stale-version")
    assert_problem(_decide(client, as_role("reviewer"), task, "refuse", ""), 422, "validation-error")
    assert _decide(client, as_role("reviewer"), task).status_code == 200
    problem = assert_problem(_decide(client, as_role("reviewer"), task), 409, "task-finished")
    assert "李建国" in problem["detail"] and "同意" in problem["detail"]  # the loser sees the decision
    assert_problem(client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"},
                               headers=as_role("clerk")), 409, "already-decided")


def test_two_reviewers_deciding_at_once_one_wins(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    number = _apply(client, citizen, bundle="enterprise-setup",
                    form={**ENTERPRISE_FORM, "enterprise_name": "上海张伟并发测试有限公司"})["number"]
    _accept(client, as_role, number)
    _approve_only_task(client, as_role("reviewer"), number)
    [task] = _open(client, as_role("reviewer.rs"), number)
    reviewers = [as_role("reviewer.rs"), as_role("head")]  # 人社局's reviewer and its head
    barrier, results = threading.Barrier(2), []

    def decide(headers):
        with TestClient(client.app) as own:
            barrier.wait()
            results.append(_decide(own, headers, task, opinion="同意"))

    threads = [threading.Thread(target=decide, args=(h,)) for h in reviewers]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["type"] in ("/problems/task-finished", "/problems/stale-version")
    if loser["type"] == "/problems/task-finished":  # the loser is told who decided, and what
        assert "办理：同意（同意）" in loser["detail"] and "None" not in loser["detail"], loser["detail"]


def test_acceptance_refusal_and_one_complete_supplement_list(client, as_role):
    clerk = as_role("clerk")
    citizen = as_role(demo.CITIZEN.username)
    # Online, with materials missing: the rules return it at once with everything that is missing.
    incomplete = client.post("/api/v1/applications", headers={**citizen, "Idempotency-Key": uuid.uuid4().hex},
                             json={"bundle": "enterprise-setup", "form": ENTERPRISE_FORM, "materials": []}).json()
    assert incomplete["status"] == "returned"
    assert "企业登记申请书" in incomplete["status_reason"] and "社会保险登记表" in incomplete["status_reason"]
    materials = [m["name"] for m in _form(client, citizen, bundle="enterprise-setup")["materials"] if not m["exempt"]]
    again = client.post(f"/api/v1/applications/{incomplete['number']}/resubmission", headers=citizen,
                        json={"materials": materials}).json()
    assert again["status"] == "submitted"
    # The window lists it with its material record as the application holds it;
    # only window staff see that queue.
    listed = client.get("/api/v1/applications/window", headers=clerk)
    assert listed.status_code == 200, listed.text
    waiting = listed.json()["items"]
    [entry] = [a for a in waiting if a["number"] == incomplete["number"]]
    assert entry["materials"] == again["materials"] and entry["applicant_name"] == "张伟"
    assert {m["name"] for m in entry["materials"] if m["how"] == "provided"} == set(materials)
    assert_problem(client.get("/api/v1/applications/window", headers=citizen), 403, "permission-denied")
    # At the window, the clerk asks once for the complete list, then refuses with a reason.
    window = client.post("/api/v1/applications", headers={**clerk, "Idempotency-Key": uuid.uuid4().hex},
                         json={"bundle": "enterprise-setup", "form": ENTERPRISE_FORM, "materials": materials,
                               "applicant_id": demo.CITIZEN.username, "applicant_name": "张伟"})
    assert window.status_code == 201 and window.json()["channel"] == "window"
    number = window.json()["number"]
    assert_problem(client.post(f"/api/v1/applications/{number}/acceptance", headers=clerk,
                               json={"decision": "supplement", "missing": []}), 422, "validation-error")
    # The list names materials of the items' own lists (was: any free text), and nothing else.
    assert_problem(client.post(f"/api/v1/applications/{number}/acceptance", headers=clerk,
                               json={"decision": "supplement", "missing": ["犬只免疫证明"]}), 422, "validation-error")
    wanted = materials[:2]
    returned = client.post(f"/api/v1/applications/{number}/acceptance", headers=clerk,
                           json={"decision": "supplement", "missing": wanted}).json()
    assert returned["status"] == "returned" and "；".join(wanted) in returned["status_reason"]
    still = client.post(f"/api/v1/applications/{number}/resubmission", headers=clerk, json={}).json()
    assert still["status"] == "returned"  # what was asked for has not come yet
    assert client.post(f"/api/v1/applications/{number}/resubmission", headers=clerk,
                       json={"materials": wanted}).json()["status"] == "submitted"
    refused = client.post(f"/api/v1/applications/{number}/acceptance", headers=clerk,
                          json={"decision": "refuse", "reason": "拟设企业名称与已登记企业重名"}).json()
    assert refused["status"] == "not_accepted" and refused["status_reason"] == "拟设企业名称与已登记企业重名"
    status = client.get(f"/api/v1/applications/{number}/status", params={"applicant_id": demo.CITIZEN.username})
    assert status.status_code == 200 and status.json()["status"] == "not_accepted"
    assert_problem(client.get(f"/api/v1/applications/{number}/status", params={"applicant_id": "310115199001011234"}),
                   404, "not-found")


@pytest.mark.parametrize("form, field", [
    ({**ENTERPRISE_FORM, "registered_capital": "一百万"}, "body.form.registered_capital"),
    ({**ENTERPRISE_FORM, "entity_type": "上市公司"}, "body.form.entity_type"),
    ({k: v for k, v in ENTERPRISE_FORM.items() if k != "enterprise_name"}, "body.form.enterprise_name"),
    ({**ENTERPRISE_FORM, "hobby": "钓鱼"}, "body.form.hobby"),
])
def test_a_bad_form_is_refused_field_by_field(client, as_role, form, field):
    body = assert_problem(client.post("/api/v1/applications", headers=as_role(demo.CITIZEN.username),
                                      json={"bundle": "enterprise-setup", "form": form}), 422, "validation-error")
    assert field in [e["field"] for e in body["errors"]]


def test_only_applicants_and_clerks_apply_and_a_company_cannot_take_a_citizens_bundle(client, as_role):
    assert_problem(client.post("/api/v1/applications", json={"bundle": "enterprise-setup", "form": ENTERPRISE_FORM},
                               headers=as_role("reviewer")), 403, "permission-denied")
    assert_problem(client.post("/api/v1/applications", json={"bundle": "enterprise-setup", "form": ENTERPRISE_FORM},
                               headers=as_role(demo.ENTERPRISE.username)), 422, "validation-error")
    assert_problem(client.post("/api/v1/applications", json={"bundle": "no-such-thing", "form": {}},
                               headers=as_role(demo.CITIZEN.username)), 404, "not-found")


def test_process_definitions_are_versioned_and_bad_bpmn_is_refused(client, as_role):
    admin = as_role("admin")
    listed = client.get("/api/v1/processes", headers=admin).json()["items"]
    assert {"enterprise_setup", "road_excavation", "single_item"} <= {d["key"] for d in listed}
    bad = client.post("/api/v1/processes", headers=admin,
                      files={"file": ("x.bpmn", b"<?xml version='1.0'?>\n<definitions>\n<process id='p'>\n</definitions>",
                                      "application/xml")})
    problem = assert_problem(bad, 422, "process-invalid")
    assert "行" in problem["detail"]
    assert_problem(client.post("/api/v1/processes", headers=as_role("clerk"),
                               files={"file": ("x.bpmn", b"<x/>", "application/xml")}), 403, "permission-denied")


def test_uploaded_materials_are_checked_by_content_size_and_scanner(client, as_role, app, tmp_path, monkeypatch):
    citizen = as_role(demo.CITIZEN.username)
    returned = client.post("/api/v1/applications", headers={**citizen, "Idempotency-Key": uuid.uuid4().hex},
                           json={"bundle": "enterprise-setup", "form": {**ENTERPRISE_FORM, "enterprise_name": "上海上传测试有限公司"},
                                 "materials": []}).json()
    number = returned["number"]
    pdf = b"%PDF-1.7\n" + b"0" * 2048

    def upload(material, name, data):
        return client.post(f"/api/v1/applications/{number}/attachments", headers=citizen,
                           data={"material": material}, files={"file": (name, data, "application/octet-stream")})

    stored = upload("企业登记申请书", "申请书.pdf", pdf)
    assert stored.status_code == 201, stored.text
    entry = next(m for m in stored.json()["materials"] if m["name"] == "企业登记申请书")
    assert entry["how"] == "provided" and entry["files"][0]["media_type"] == "application/pdf"
    assert_problem(upload("企业登记申请书", "申请书.pdf", b"MZ\x90\x00 an executable renamed"), 422, "attachment-refused")
    assert_problem(upload("不存在的材料", "x.pdf", pdf), 422, "validation-error")
    monkeypatch.setattr(app.state.settings, "attachment_max_mb", 1)
    assert_problem(upload("社会保险登记表", "big.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 1)), 422, "attachment-refused")
    # The virus-scan hook: any exit status but 0 refuses the file, and nothing is kept.
    monkeypatch.setattr(app.state.settings, "virus_scan_command", "false {path}")
    assert_problem(upload("社会保险登记表", "infected.pdf", pdf), 422, "attachment-refused")
    monkeypatch.setattr(app.state.settings, "virus_scan_command", "true {path}")
    assert upload("社会保险登记表", "clean.pdf", pdf).status_code == 201
    kept = list((app.state.settings.data_dir / "attachments" / number).iterdir())
    assert len(kept) == 2
    assert_problem(client.post(f"/api/v1/applications/{number}/attachments", headers=as_role("reviewer"),
                               data={"material": "社会保险登记表"}, files={"file": ("x.pdf", pdf, "application/pdf")}),
                   403, "permission-denied")


def test_a_new_process_version_applies_to_new_cases_only(client, as_role, fresh_database):
    with TestClient(create_app(fresh_database.settings)) as own:
        admin, company, clerk = bearer(own, "admin"), bearer(own, demo.ENTERPRISE.username), bearer(own, "clerk")
        item = "000115013000"  # 建筑工程施工许可证核发: the generic single-item process

        def apply_and_accept() -> dict:
            form = own.get("/api/v1/applications/forms", params={"item": item}, headers=company).json()
            values = {f["key"]: f["value"] or "新建厂房施工许可" for f in form["fields"]}
            materials = [m["name"] for m in form["materials"] if not m["exempt"]]
            created = own.post("/api/v1/applications", headers={**company, "Idempotency-Key": uuid.uuid4().hex},
                               json={"item": item, "form": values, "materials": materials}).json()
            return own.post(f"/api/v1/applications/{created['number']}/acceptance", headers=clerk,
                            json={"decision": "accept"}).json()

        first = apply_and_accept()
        assert first["process"] == {"key": "single_item", "version": 1}
        bpmn = (bpmn_model.PROCESSES_DIR / "single_item.bpmn").read_text(encoding="utf-8")
        uploaded = own.post("/api/v1/processes", headers=admin,
                            files={"file": ("single_item.bpmn", bpmn.replace("单一事项办理", "单一事项办理（2027 版）").encode(),
                                            "application/xml")})
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["version"] == 2
        second = apply_and_accept()
        assert second["process"] == {"key": "single_item", "version": 2}
        assert own.get(f"/api/v1/applications/{first['number']}", headers=company).json()["process"]["version"] == 1
        [task] = [t for t in first["tasks"] if t["status"] == "open"]
        assert task["department"] == "PD-JSJT" and task["item"] == item

        # A worker that has parsed neither version (a restart, another process) reads the case's own.
        with bpmn_model._cache_lock:
            bpmn_model._cache.clear()
        service._PARSED.clear()
        reviewer = bearer(own, "reviewer.jsjt")
        decided = own.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                           json={"decision": "approve", "opinion": "同意", "version": task["version"]})
        assert decided.status_code == 200, decided.text
        finished = own.get(f"/api/v1/applications/{first['number']}", headers=company).json()
        assert finished["status"] == "approved" and finished["process"]["version"] == 1


def test_a_task_left_open_past_its_reminder_timer_is_reminded_once(client, as_role, db, monkeypatch, fixed_clock):
    fixed_clock.set(date(2026, 3, 2))  # Monday
    citizen = as_role(demo.CITIZEN.username)
    number = _apply(client, citizen, bundle="enterprise-setup",
                    form={**ENTERPRISE_FORM, "enterprise_name": "上海张伟催办测试有限公司"})["number"]
    _accept(client, as_role, number)
    [task] = _open(client, as_role("reviewer"), number)
    row = service.task_or_404(db, task["id"])
    assert row.remind_on == date(2026, 3, 3)  # the process's timer: 1 working day
    db.rollback()

    def reminded() -> list[str]:
        return [n["title"] for n in client.get("/api/v1/notifications", headers=as_role("reviewer")).json()
                if n["kind"] == "cases.reminder" and number in n["body"]]

    service.send_reminders(db, today=date(2026, 3, 2))
    db.commit()
    assert reminded() == []
    service.send_reminders(db, today=date(2026, 3, 3))
    service.send_reminders(db, today=date(2026, 3, 4))  # not twice
    db.commit()
    assert reminded() == ["催办：营业执照核发审查"]
    assert any("催办提醒" in step["text"] for step in _read(client, citizen, number)["timeline"])


def test_the_same_idempotency_key_sent_at_once_makes_one_application(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    form = {**ENTERPRISE_FORM, "enterprise_name": "上海张伟幂等并发有限公司"}
    materials = [m["name"] for m in _form(client, citizen, bundle="enterprise-setup")["materials"] if not m["exempt"]]
    key = uuid.uuid4().hex
    send = lambda own: own.post("/api/v1/applications", headers={**citizen, "Idempotency-Key": key},  # noqa: E731
                                json={"bundle": "enterprise-setup", "form": form, "materials": materials})
    results = at_once(client, [send, send, send])
    assert all(r.status_code in (200, 201) for r in results), [r.text for r in results]
    assert len({r.json()["number"] for r in results}) == 1  # one application, answered to every retry


def test_two_clerks_accepting_at_once_one_wins(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    number = _apply(client, citizen, bundle="enterprise-setup",
                    form={**ENTERPRISE_FORM, "enterprise_name": "上海张伟受理并发有限公司"})["number"]
    clerk = as_role("clerk")
    accept = lambda own: own.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"},  # noqa: E731
                                  headers=clerk)
    results = at_once(client, [accept, accept, accept])
    assert sorted(r.status_code for r in results) == [200, 409, 409], [r.text for r in results]
    for loser in (r for r in results if r.status_code == 409):
        assert_problem(loser, 409, loser.json()["type"].rsplit("/", 1)[1])


def test_answers_checked_against_the_schemas_read_as_those_written_by_orjson(client, as_role):
    """An application and a task read back (FastAPI checks these against ``cases.schemas``) are the
    very JSON the acceptance and the queue wrote straight with orjson: times keep their offset."""
    citizen, clerk, reviewer = as_role(demo.CITIZEN.username), as_role("clerk"), as_role("reviewer")
    number = _apply(client, citizen, bundle="enterprise-setup",
                    form={**ENTERPRISE_FORM, "enterprise_name": "上海张伟回读测试有限公司"})["number"]
    accepted = client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"}, headers=clerk)
    assert accepted.status_code == 200, accepted.text
    read = client.get(f"/api/v1/applications/{number}", headers=clerk)
    assert read.status_code == 200, read.text
    assert read.json() == accepted.json()
    assert f'"created_at":"{accepted.json()["created_at"]}"' in read.text and accepted.json()["created_at"].endswith("+00:00")
    [queued] = _open(client, reviewer, number)
    task = client.get(f"/api/v1/tasks/{queued['id']}", headers=reviewer)
    assert task.status_code == 200, task.text
    assert {key: task.json()[key] for key in queued} == queued
    assert task.json()["application_detail"]["number"] == number and set(task.json()) == {*queued, "application_detail", "shared_data"}
