"""Every published item applied for online with one upload per material: the standard
single-item process (受理 → 审查 → 决定), supplements naming materials of the item's list, and
every bad input refused with a Problem, nothing kept."""

from __future__ import annotations

import uuid

from helpers import assert_problem

from tongban import demo

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ID_CARD = "000107013000"  # 居民身份证申领、换领、补领 (公安分局)
PENSION = "000117007000"  # 住房公积金提取 (公积金中心)


def _form(client, headers, code):
    response = client.get("/api/v1/applications/forms", params={"item": code}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _file_all(client, headers, code, *, skip: str | None = None, data: bytes = PDF, answers=None):
    form = _form(client, headers, code)
    values = {f["key"]: f["value"] or "测试申请" for f in form["fields"]}
    chosen = answers or {s["key"]: s["answers"][0]["id"] for s in form["situations"]}
    listed = client.get("/api/v1/applications/forms", params={"item": code}, headers=headers).json()["material_list"]
    files = [(f"material:{m['key']}", (f"{m['id']}.pdf", data, "application/pdf"))
             for m in listed if not m["exempt"] and m["needed"] is not False and m["key"] != skip]
    import json
    return client.post("/api/v1/applications/with-files", headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                       data={"item": code, "form": json.dumps(values, ensure_ascii=False),
                             "answers": json.dumps(chosen)}, files=files or [("none", ("", b"", "application/pdf"))])


def _count(client, headers):
    return len(client.get("/api/v1/applications/mine", headers=headers).json()["items"])


def test_an_ordinary_item_is_applied_for_with_uploads_accepted_and_decided(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    form = _form(client, citizen, PENSION)
    assert form["subject"]["kind"] == "item" and form["material_list"]
    response = _file_all(client, citizen, PENSION)
    assert response.status_code == 201, response.text
    application = response.json()
    assert application["process"]["key"] == "single_item" and application["status"] == "submitted"
    uploaded = [m for m in application["materials"] if m.get("files")]
    assert uploaded and all(m["how"] == "provided" for m in uploaded)
    number = application["number"]
    clerk, reviewer = as_role("clerk"), as_role("reviewer.gjj")
    assert client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"}, headers=clerk).status_code == 200
    [task] = [t for t in client.get("/api/v1/tasks", headers=reviewer).json()["items"] if t["application"] == number]
    # A supplement names materials of the item's list; another name is refused and changes nothing.
    bad = client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                      json={"decision": "supplement", "opinion": "请补充", "materials": ["不存在的材料"], "version": task["version"]})
    assert_problem(bad, 422, "validation-error")
    assert client.get(f"/api/v1/applications/{number}", headers=citizen).json()["status"] == "processing"
    name = uploaded[0]["name"]
    ok = client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                     json={"decision": "supplement", "opinion": "材料不清晰", "materials": [name], "version": task["version"]})
    assert ok.status_code == 200, ok.text
    # Supplying without the named upload is refused; with it, the case resumes.
    assert_problem(client.post(f"/api/v1/applications/{number}/supplement", json={"note": "已补"}, headers=citizen),
                   422, "validation-error")
    other = client.post(f"/api/v1/applications/{number}/attachments", headers=citizen,
                        data={"material": "别的材料"}, files={"file": ("x.pdf", PDF, "application/pdf")})
    assert_problem(other, 422, "validation-error")
    up = client.post(f"/api/v1/applications/{number}/attachments", headers=citizen,
                     data={"material": name}, files={"file": ("new.pdf", PDF, "application/pdf")})
    assert up.status_code == 201, up.text
    resumed = client.post(f"/api/v1/applications/{number}/supplement", json={"note": "已补"}, headers=citizen)
    assert resumed.status_code == 200 and resumed.json()["status"] == "processing", resumed.text
    [task] = [t for t in client.get("/api/v1/tasks", headers=reviewer).json()["items"] if t["application"] == number]
    done = client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                       json={"decision": "approve", "opinion": "同意", "version": task["version"]})
    assert done.status_code == 200, done.text
    assert client.get(f"/api/v1/applications/{number}", headers=citizen).json()["status"] == "approved"


def test_bad_filings_are_refused_and_nothing_is_kept(client, as_role, app):
    citizen = as_role(demo.CITIZEN.username)
    before = _count(client, citizen)
    needed = [m for m in _form(client, citizen, PENSION)["material_list"] if m["needed"] and not m["exempt"]]
    assert needed
    missing = _file_all(client, citizen, PENSION, skip=needed[0]["key"])
    assert_problem(missing, 422, "validation-error")
    assert any(e["field"] == f"materials.{needed[0]['key']}" for e in missing.json()["errors"])
    assert_problem(_file_all(client, citizen, PENSION, data=b"GIF89a not a material"), 422, "validation-error")
    big = PDF + b"0" * (app.state.settings.attachment_max_mb * 1024 * 1024)
    oversized = _file_all(client, citizen, PENSION, data=big)
    assert oversized.status_code in (413, 422), oversized.text
    unknown = client.post("/api/v1/applications/with-files", headers=citizen, data={"item": "999999999999"},
                          files=[("material:x", ("a.pdf", PDF, "application/pdf"))])
    assert_problem(unknown, 404, "unknown-service-item")
    page = client.get("/apply/999999999999", headers=citizen)
    assert page.status_code == 404
    assert _count(client, citizen) == before


def test_a_walk_in_application_is_the_applicants_too(client, as_role):
    clerk, citizen = as_role("clerk"), as_role(demo.CITIZEN.username)
    form = _form(client, clerk, ID_CARD)
    values = {f["key"]: "张伟" if f["key"] == "applicant_name" else demo.CITIZEN.username if f["key"] == "applicant_id"
              else "13812345678" if f["key"] == "phone" else "补领身份证" for f in form["fields"] if f["required"]}
    import json
    answers = {s["key"]: s["answers"][0]["id"] for s in form["situations"]}
    listed = client.get("/api/v1/applications/forms", params={"item": ID_CARD}, headers=clerk).json()["material_list"]
    files = [(f"material:{m['key']}", ("a.pdf", PDF, "application/pdf")) for m in listed if not m["exempt"] and m["needed"] is not False]
    response = client.post("/api/v1/applications/with-files", headers=clerk,
                           data={"item": ID_CARD, "form": json.dumps(values, ensure_ascii=False), "answers": json.dumps(answers),
                                 "applicant_id": demo.CITIZEN.username, "applicant_name": "张伟"},
                           files=files or [("none", ("", b"", "application/pdf"))])
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    assert response.json()["channel"] == "window"
    mine = [a["number"] for a in client.get("/api/v1/applications/mine", headers=citizen).json()["items"]]
    assert number in mine
    assert client.get(f"/api/v1/applications/{number}", headers=citizen).status_code == 200


FOOD = "000121010000"  # 食品经营许可 (市场监管局): serves units and persons


def test_an_unpublished_item_cannot_be_applied_for(client, as_role):
    steward, citizen = as_role("steward.scjg"), as_role(demo.CITIZEN.username)
    document = client.get(f"/api/v1/items/published/{FOOD}").json()
    code = "000121099000"
    draft = {k: v for k, v in document.items() if k not in ("department_name", "version", "published_version")}
    draft.update(basic_code=code, implementation_code=document["implementation_code"][:-12] + code, name="测试草稿事项")
    saved = client.put(f"/api/v1/items/{code}/draft", json=draft, headers=steward)
    if saved.status_code != 200:  # the published view carries fields a draft does not: take the stored document
        draft = client.get(f"/api/v1/items/{FOOD}/versions", headers=steward).json()["items"][0]["content"]
        draft.update(basic_code=code, implementation_code=draft["implementation_code"][:-12] + code, name="测试草稿事项")
        saved = client.put(f"/api/v1/items/{code}/draft", json=draft, headers=steward)
    assert saved.status_code == 200, saved.text
    before = _count(client, citizen)
    refused = client.post("/api/v1/applications/with-files", headers=citizen, data={"item": code},
                          files=[("material:x", ("a.pdf", PDF, "application/pdf"))])
    assert_problem(refused, 404, "unknown-service-item")
    assert client.get(f"/apply/{code}", headers=citizen).status_code == 404
    assert _count(client, citizen) == before


def test_a_unit_applies_for_a_unit_item_and_a_person_for_the_same_item_as_a_person(client, as_role):
    company, citizen = as_role(demo.ENTERPRISE.username), as_role(demo.CITIZEN.username)
    response = _file_all(client, company, "000102004000")  # 企业投资项目备案: units only
    assert response.status_code == 201, response.text
    assert response.json()["applicant_type"] == "法人"
    # An item serving both is applied for as the signed-in account is.
    page = client.get(f"/apply/{FOOD}", headers=citizen)
    assert page.status_code == 200 and 'name="applicant_type" value="自然人"' in page.text
    assert "张伟" in page.text  # prefilled from the population registry


def test_blank_forms_and_samples_are_printable(client):
    from io import BytesIO

    from pypdf import PdfReader

    document = client.get("/api/v1/items/published/000102004000").json()
    material = next(m for m in document["materials"] if m["blank_form"] and m["sample"])
    for kind in ("blank-form", "sample"):
        response = client.get(f"/services/000102004000/materials/{material['id']}/{kind}.pdf")
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        text = PdfReader(BytesIO(response.content)).pages[0].extract_text()
        assert material["name"] in text.replace(" ", "")
    without = next(m for m in document["materials"] if not m["blank_form"])
    assert client.get(f"/services/000102004000/materials/{without['id']}/blank-form.pdf").status_code == 404


def test_the_applicant_supplies_exactly_the_named_materials_on_the_page(client, as_role, app):
    import re

    from fastapi.testclient import TestClient

    citizen, clerk, reviewer = as_role(demo.CITIZEN.username), as_role("clerk"), as_role("reviewer.gjj")
    number = _file_all(client, citizen, PENSION).json()["number"]
    client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"}, headers=clerk)
    [task] = [t for t in client.get("/api/v1/tasks", headers=reviewer).json()["items"] if t["application"] == number]
    named = [m["name"] for m in _form(client, citizen, PENSION)["material_list"] if not m["exempt"]][:1]
    assert client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                       json={"decision": "supplement", "opinion": "请补充", "materials": named,
                             "version": task["version"]}).status_code == 200
    with TestClient(app) as browser:
        login = browser.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        browser.post("/login", data={"username": demo.CITIZEN.username, "password": demo.DEMO_PASSWORD,
                                     "csrf_token": csrf}, follow_redirects=False)
        page = browser.get(f"/applications/{number}")
        inputs = re.findall(r'type="file" id="sup_\d+" name="material:([^"]+)"', page.text)
        assert len(inputs) == 1 and named[0] in page.text
        assert "待您补正" in page.text and "待认领" not in page.text  # the applicant's own step
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        empty = browser.post(f"/applications/{number}/supplement", data={"csrf_token": csrf}, follow_redirects=False)
        assert empty.status_code == 422
        assert client.get(f"/api/v1/applications/{number}", headers=citizen).json()["status"] == "supplement"
        done = browser.post(f"/applications/{number}/supplement", data={"csrf_token": csrf, "note": "已补"},
                            files=[(f"material:{inputs[0]}", ("new.pdf", PDF, "application/pdf"))], follow_redirects=False)
        assert done.status_code == 303, done.text
    assert client.get(f"/api/v1/applications/{number}", headers=citizen).json()["status"] == "processing"


def test_overdue_is_said_as_overdue():
    from tongban.core.templating import days_left

    assert days_left(-4) == "逾期 4 个工作日" and days_left(3) == "剩余 3 个工作日" and days_left(None) == "—"


def test_a_walk_in_lookup_needs_a_purpose_and_is_audited(client, as_role, app, db):
    import re

    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from tongban.core.audit import AuditEvent

    with TestClient(app) as browser:
        login = browser.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        browser.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD, "csrf_token": csrf},
                     follow_redirects=False)
        chosen = browser.get(f"/staff/window/walk-in?code={ID_CARD}", follow_redirects=False)
        assert chosen.status_code == 303 and chosen.headers["location"] == f"/apply/{ID_CARD}"
        assert browser.get("/staff/window/walk-in?code=999999999999", follow_redirects=False).status_code == 404
        page = browser.get(f"/apply/{ID_CARD}")
        assert page.status_code == 200 and "查询用途" in page.text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        no_purpose = browser.post(f"/apply/{ID_CARD}/applicant", data={"csrf_token": csrf, "applicant_key": demo.CITIZEN.username,
                                                                       "purpose": ""})
        assert no_purpose.status_code == 422 and "用途" in no_purpose.text
        found = browser.post(f"/apply/{ID_CARD}/applicant", data={"csrf_token": csrf, "applicant_key": demo.CITIZEN.username,
                                                                  "purpose": "窗口代办身份证补领"})
        assert found.status_code == 200 and "窗口代办" in found.text and "张伟" in found.text
    entry = db.scalars(select(AuditEvent).where(AuditEvent.action == "registry.read", AuditEvent.purpose == "窗口代办身份证补领")).first()
    db.rollback()
    assert entry is not None


def test_a_licence_the_applicant_holds_is_not_asked_for_again(client, as_role):
    citizen, clerk, reviewer = as_role(demo.CITIZEN.username), as_role("clerk"), as_role("reviewer.ghzy")
    transfer = "000113010000"  # 不动产转移登记: issues 不动产权证书, and asks the seller for theirs
    response = _file_all(client, citizen, transfer)
    assert response.status_code == 201, response.text
    number = response.json()["number"]
    client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"}, headers=clerk)
    [task] = [t for t in client.get("/api/v1/tasks", headers=reviewer).json()["items"] if t["application"] == number]
    assert client.post(f"/api/v1/tasks/{task['id']}/decision", headers=reviewer,
                       json={"decision": "approve", "opinion": "同意", "version": task["version"]}).status_code == 200
    [licence] = [lic for lic in client.get(f"/api/v1/applications/{number}", headers=citizen).json()["licences"]
                 if lic["name"].startswith("不动产权证书")]
    listed = {m["name"]: m for m in _form(client, citizen, transfer)["material_list"]}
    held = listed["不动产权证书"]
    assert held["exempt"] and held["licence"] == licence["number"] and "电子证照库" in held["exempt_source"]
    again = _file_all(client, citizen, transfer)  # no file for it, and none needed
    assert again.status_code == 201, again.text
    entry = next(m for m in again.json()["materials"] if m["name"] == "不动产权证书")
    assert entry["how"] == "licence" and not entry.get("files")
