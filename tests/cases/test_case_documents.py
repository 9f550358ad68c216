"""The window's case view and the documents of a case, on every engine: the form under Chinese
labels and the files (downloads permission-checked and audited), the 受理通知书 and 不予受理通知书,
the licence PDF by type with its QR code to the public check, the 不予许可决定书, revocation, and
who may fetch what. PDFs are read back with pypdf."""

from __future__ import annotations

import io
import re
import uuid
from datetime import date
from urllib.parse import unquote

import pypdf
import pytest
from fastapi.testclient import TestClient
from conftest import ARTIFACTS
from helpers import assert_problem, bearer, enterprise_setup_in_review
from sqlalchemy import select

from tongban import demo
from tongban.core.audit import AuditEvent

from test_applications import ENTERPRISE_FORM, _apply, _decide, _open, _read, _reviewers

PDF_FILE = b"%PDF-1.7\n" + b"1" * 4096


def _text(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    ARTIFACTS.mkdir(exist_ok=True)  # kept to look at: the last of each kind
    *_, number, kind = response.url.path.split("/")
    name = f"licence-{number[:6]}" if kind == "pdf" else kind  # a licence by its item, else the document's kind
    (ARTIFACTS / f"case-document-{name}.pdf").write_bytes(response.content)
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)


def _links(response) -> list[str]:
    found = []
    for page in pypdf.PdfReader(io.BytesIO(response.content)).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                found.append(str(action["/URI"]))
    return found


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _submitted(client, citizen, name: str) -> str:
    application = _apply(client, citizen, bundle="enterprise-setup", form={**ENTERPRISE_FORM, "enterprise_name": name})
    assert application["status"] == "submitted"
    return application["number"]


def test_the_clerk_sees_the_form_and_files_accepts_and_prints_the_receipt(client, as_role, db):
    citizen = as_role(demo.CITIZEN.username)
    number = _submitted(client, citizen, f"上海窗口审查{uuid.uuid4().hex[:6]}有限公司")
    uploaded = client.post(f"/api/v1/applications/{number}/attachments", headers=citizen, data={"material": "企业登记申请书"},
                           files={"file": ("企业登记申请书.pdf", PDF_FILE, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    stored = next(m for m in uploaded.json()["materials"] if m["name"] == "企业登记申请书")["files"][0]

    clerk = as_role("clerk")
    page = client.get(f"/staff/window/{number}", headers=clerk)
    assert page.status_code == 200
    for label in ("拟设立企业名称", "公积金缴存比例（%）", "经营范围", "企业登记申请书.pdf"):
        assert label in page.text
    assert not re.search(r"enterprise_name|housing_fund_rate|business_scope", page.text)  # never a field key
    assert demo.CITIZEN.username not in page.text  # the ID number masked on the page
    link = f"/api/v1/applications/{number}/files/{stored['file']}"
    assert link in page.text

    # The file: for the applicant and the window; a department with no task of the case is refused.
    downloaded = client.get(link, headers=clerk)
    assert downloaded.status_code == 200 and downloaded.content == PDF_FILE
    assert "filename*=UTF-8''" in downloaded.headers["content-disposition"]
    assert client.get(link, headers=citizen).content == PDF_FILE
    assert_problem(client.get(link, headers=as_role("reviewer.gjj")), 403, "department-scope")
    assert_problem(client.get(f"/api/v1/applications/{number}/files/{'0' * 32}.pdf", headers=clerk), 404, "not-found")
    reads = db.execute(select(AuditEvent.actor_id, AuditEvent.outcome, AuditEvent.purpose).where(
        AuditEvent.object_id == number, AuditEvent.action == "cases.attachment.read")).all()
    db.rollback()  # SQLite: a reading session holds the write lock until it ends
    assert any(outcome == "success" and number in (purpose or "") for _actor, outcome, purpose in reads)
    assert any(outcome == "denied" for _actor, outcome, _purpose in reads)
    assert len([r for r in reads if r.outcome == "success"]) == 1  # the applicant's own download is no staff read

    # No receipt before acceptance.
    assert_problem(client.get(f"/api/v1/applications/{number}/acceptance-receipt", headers=clerk), 409, "conflict")
    accepted = client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"}, headers=clerk)
    assert accepted.status_code == 200, accepted.text
    due_on = date.fromisoformat(accepted.json()["due_on"])

    receipt = client.get(f"/api/v1/applications/{number}/acceptance-receipt", headers=citizen)
    text = _flat(_text(receipt))
    assert "受理通知书" in text and number in text and "张伟" in text and "企业开办一件事" in text
    assert f"{due_on.year}年{due_on.month:02d}月{due_on.day:02d}日" in text  # the clock's promised date
    assert "企业登记申请书" in text and "北京时间" in text and "受理人" in text
    assert client.get(f"/api/v1/applications/{number}/acceptance-receipt", headers=clerk).status_code == 200
    assert_problem(client.get(f"/api/v1/applications/{number}/acceptance-receipt", headers=as_role("reviewer.gjj")),
                   403, "department-scope")
    assert_problem(client.get(f"/api/v1/applications/{number}/non-acceptance-notice", headers=citizen), 409, "conflict")
    own_page = client.get(f"/applications/{number}", headers=citizen)
    assert f"/api/v1/applications/{number}/acceptance-receipt" in own_page.text and "拟设立企业名称" in own_page.text


def test_a_refusal_at_the_window_gives_the_notice_with_remedies(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    number = _submitted(client, citizen, f"上海不予受理{uuid.uuid4().hex[:6]}有限公司")
    refused = client.post(f"/api/v1/applications/{number}/acceptance", headers=as_role("clerk"),
                          json={"decision": "refuse", "reason": "申请人不具备申请资格：已担任另一企业的法定代表人"})
    assert refused.status_code == 200 and refused.json()["status"] == "not_accepted"
    text = _flat(_text(client.get(f"/api/v1/applications/{number}/non-acceptance-notice", headers=citizen)))
    assert "不予受理通知书" in text and number in text and "张伟" in text and "企业开办一件事" in text
    assert "已担任另一企业的法定代表人" in text
    assert "60日内" in text and "行政复议" in text and "6个月内" in text and "行政诉讼" in text
    assert "浦东新区人民政府" in text and "北京时间" in text
    assert_problem(client.get(f"/api/v1/applications/{number}/acceptance-receipt", headers=citizen), 409, "conflict")


def _approve_all(client, as_role, number: str) -> None:
    for headers in _reviewers(as_role).values():
        for task in _open(client, headers, number):
            assert _decide(client, headers, task, opinion="同意").status_code == 200


def test_a_licence_is_a_pdf_with_a_qr_code_to_its_public_check_and_can_be_revoked(client, as_role):
    number = enterprise_setup_in_review(client, as_role)
    _approve_all(client, as_role, number)
    citizen = as_role(demo.CITIZEN.username)
    done = _read(client, citizen, number)
    assert done["status"] == "approved"
    [licence] = done["licences"]
    verify_url = f"http://testserver/verify/licences/{licence['number']}"

    assert f"/api/v1/licences/{licence['number']}/pdf" in client.get(f"/applications/{number}", headers=citizen).text
    pdf = client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=citizen)
    text = _flat(_text(pdf))
    assert "营业执照" in text and licence["number"] in text and "张伟" in text  # the business-licence layout
    assert done["form"]["credit_code"] in text and "企业设立登记" in text and "长期有效" in text
    assert "北京时间" in text and "浦东新区市场监督管理局" in text
    assert verify_url in text and verify_url in _links(pdf)  # the QR code's target, printed and linked
    # The issuing department's staff may fetch it; another department's and another citizen may not.
    assert client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=as_role("reviewer")).status_code == 200
    assert_problem(client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=as_role("reviewer.gjj")),
                   403, "permission-denied")
    assert_problem(client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=as_role(demo.ENTERPRISE.username)),
                   403, "permission-denied")
    assert_problem(client.get(f"/api/v1/licences/{licence['number']}/pdf"), 401, "not-authenticated")

    # The public check, with no sign-in: valid, issued by whom, the person masked.
    check = client.get(f"/api/v1/licences/{licence['number']}/verification")
    assert check.status_code == 200, check.text
    body = check.json()
    assert body["status"] == "valid" and body["status_label"] == "有效" and body["issued_by"] == "浦东新区市场监督管理局"
    assert body["holder_name"] == "张*" and body["holder_id"] != demo.CITIZEN.username and body["valid_until"] is None
    page = client.get(f"/verify/licences/{licence['number']}")
    assert page.status_code == 200 and "有效" in page.text and "张伟" not in page.text
    unknown = assert_problem(client.get("/api/v1/licences/000000-NONE/verification"), 404, "not-found")
    assert "没有编号为" in unknown["detail"]
    assert client.get("/verify/licences/000000-NONE").status_code == 404

    # Revoked by the issuing department only; the check then says so, with the reason.
    assert_problem(client.post(f"/api/v1/licences/{licence['number']}/revocation", headers=as_role("reviewer.gjj"),
                               json={"reason": "以欺骗手段取得"}), 403, "department-scope")
    revoked = client.post(f"/api/v1/licences/{licence['number']}/revocation", headers=as_role("reviewer"),
                          json={"reason": "以欺骗手段取得登记"})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    check = client.get(f"/api/v1/licences/{licence['number']}/verification").json()
    assert check["status"] == "revoked" and check["status_label"] == "已撤销" and check["revoked_reason"] == "以欺骗手段取得登记"
    assert "已撤销" in client.get(f"/verify/licences/{licence['number']}").text
    assert "已撤销" in _flat(_text(client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=citizen)))
    assert_problem(client.post(f"/api/v1/licences/{licence['number']}/revocation", headers=as_role("reviewer"),
                               json={"reason": "再次"}), 409, "conflict")


def test_a_general_licence_has_its_validity_and_a_refusal_is_a_decision_with_remedies(client, as_role, fixed_clock):
    enterprise = as_role(demo.ENTERPRISE.username)
    fixed_clock.set(date(2026, 3, 2))
    enterprise = as_role(demo.ENTERPRISE.username)
    form = client.get("/api/v1/applications/forms", params={"item": "000121010000"}, headers=enterprise).json()
    values = {f["key"]: f["value"] for f in form["fields"] if f["value"]}
    values.update({"phone": "021-58881234", "request": "申请食品经营许可（预包装食品销售）"})
    numbers = []
    for _ in range(2):
        applied = client.post("/api/v1/applications", headers={**enterprise, "Idempotency-Key": uuid.uuid4().hex},
                              json={"item": "000121010000", "form": values,
                                    "materials": [m["name"] for m in form["materials"] if not m["exempt"]]})
        assert applied.status_code == 201, applied.text
        numbers.append(applied.json()["number"])
        assert client.post(f"/api/v1/applications/{numbers[-1]}/acceptance", headers=as_role("clerk"),
                           json={"decision": "accept"}).status_code == 200
    reviewer = as_role("reviewer")
    [approve] = _open(client, reviewer, numbers[0])
    assert _decide(client, reviewer, approve, opinion="符合条件").status_code == 200
    [refuse] = _open(client, reviewer, numbers[1])
    assert _decide(client, reviewer, refuse, "refuse", "经营场所与食品有毒有害场所的距离不符合要求").status_code == 200

    [licence] = _read(client, enterprise, numbers[0])["licences"]
    text = _flat(_text(client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=enterprise)))
    assert "食品经营许可证" in text and licence["number"] in text and "准予行政许可" in text
    assert "食品经营许可" in text and "至2031年03月01日" in text  # five years, the last day included
    check = client.get(f"/api/v1/licences/{licence['number']}/verification").json()
    assert check["valid_until"] == "2031-03-01" and check["holder_name"] == _read(client, enterprise, numbers[0])["applicant_name"]
    fixed_clock.set(date(2031, 3, 2))
    assert client.get(f"/api/v1/licences/{licence['number']}/verification").json()["status"] == "expired"
    fixed_clock.set(date(2026, 3, 2))

    enterprise = as_role(demo.ENTERPRISE.username)
    decision = client.get(f"/api/v1/applications/{numbers[1]}/refusal-decision", headers=enterprise)
    text = _flat(_text(decision))
    assert "不予行政许可决定书" in text and numbers[1] in text and "食品经营许可" in text
    assert "距离不符合要求" in text and "60日内" in text and "6个月内" in text and "浦东新区人民政府" in text
    page = client.get(f"/applications/{numbers[1]}", headers=enterprise)
    assert f"/api/v1/applications/{numbers[1]}/refusal-decision" in page.text
    assert_problem(client.get(f"/api/v1/applications/{numbers[0]}/refusal-decision", headers=enterprise), 409, "conflict")


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_the_window_sends_one_supplement_list_from_the_items_materials(client, as_role):
    citizen = as_role(demo.CITIZEN.username)
    number = _submitted(client, citizen, f"上海补正清单{uuid.uuid4().hex[:6]}有限公司")
    api = TestClient(client.app)  # bearer calls, apart from the page session's cookie (which would need CSRF)
    login = client.get("/login")
    signed_in = client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD,
                                            "csrf_token": _csrf(login.text)}, follow_redirects=False)
    assert signed_in.status_code == 303, signed_in.text
    page = client.get(f"/staff/window/{number}")
    token = _csrf(page.text)
    options = re.findall(r'name="missing" value="(\d+)"> ([^<]+?)<', page.text)
    chosen = {index: name.strip() for index, name in options if name.strip() in ("公司章程", "房屋租赁合同")}
    assert len(chosen) == 2, options

    # A refusal needs a ground from the list (or 其他 with words); nothing changes otherwise.
    for bad in ({"ground": ""}, {"ground": "其他", "reason": ""}, {"ground": "随便写的理由"}):
        refused = client.post(f"/staff/window/{number}/decision", data={"csrf_token": token, "decision": "refuse", **bad})
        assert refused.status_code == 422 and "不予受理须选择理由" in refused.text
    assert_problem(client.post(f"/staff/window/{number}/decision", data={"csrf_token": token, "decision": "supplement"},
                               headers={"Accept": "application/json"}), 422, "validation-error")

    notes = {f"note_{index}": "请提交全体股东签署的版本" for index in chosen if chosen[index] == "公司章程"}
    sent = client.post(f"/staff/window/{number}/decision", follow_redirects=False,
                       data={"csrf_token": token, "decision": "supplement", "missing": list(chosen), **notes})
    assert sent.status_code == 303 and sent.headers["location"] == f"/staff/window/{number}"
    returned = _read(api, citizen, number)
    assert returned["status"] == "returned"
    assert returned["status_reason"].startswith("请一次性补正：公司章程；房屋租赁合同")
    assert "公司章程：请提交全体股东签署的版本" in returned["status_reason"]


SOCIAL_CARD = "000112007000"  # 社会保障卡申领 (人社局, 公共服务): its result is a card, no licence
SOLE_TRADER_CLOSURE = "000121022000"  # 个体工商户注销登记 (市场监管局, 行政许可 with no licence)
RESIDENCE_PERMIT = "000107010000"  # 上海市居住证办理 (公安分局): a licence


def _filed_and_accepted(client, as_role, code: str) -> str:
    from test_single_items import _file_all

    filed = _file_all(client, as_role(demo.CITIZEN.username), code)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    accepted = client.post(f"/api/v1/applications/{number}/acceptance", json={"decision": "accept"}, headers=as_role("clerk"))
    assert accepted.status_code == 200, accepted.text
    return number


@pytest.mark.parametrize(("code", "reviewer", "title", "said"), [
    (SOCIAL_CARD, "reviewer.rs", "办结通知书", "办理结果为准予"),
    (SOLE_TRADER_CLOSURE, "reviewer", "准予行政许可决定书", "第三十八条第一款"),
])
def test_an_approved_case_without_a_licence_gives_its_result_document(client, as_role, db, code, reviewer, title, said):
    from tongban.cases.models import Application
    from tongban.core import clock

    number = _filed_and_accepted(client, as_role, code)
    citizen, clerk, link = as_role(demo.CITIZEN.username), as_role("clerk"), f"/api/v1/applications/{number}/result-notice"
    assert_problem(client.get(link, headers=citizen), 409, "conflict")  # nothing decided yet
    assert link not in client.get(f"/applications/{number}", headers=citizen).text
    [task] = _open(client, as_role(reviewer), number)
    assert _decide(client, as_role(reviewer), task, opinion="材料齐全，符合规定，同意。").status_code == 200

    response = client.get(link, headers=citizen)
    assert title in unquote(response.headers["content-disposition"])
    text = _flat(_text(response))
    item = _read(client, citizen, number)["name"]
    finished = db.scalar(select(Application.finished_at).where(Application.number == number))
    db.rollback()
    assert title in text and number in text and "张伟" in text and item in text and said in text
    assert clock.beijing(finished).strftime("%Y年%m月%d日%H:%M（北京时间）") in text  # the decision, Beijing time
    assert "材料齐全，符合规定，同意。" in text and "（盖章）" in text and "http://testserver/progress" in text
    # Offered on the applicant's page and on the clerk's case file; fetched by both; refused to
    # a department with no part in the case.
    assert link in client.get(f"/applications/{number}", headers=citizen).text
    assert link in client.get(f"/staff/window/{number}", headers=clerk).text
    assert client.get(link, headers=clerk).status_code == 200
    assert_problem(client.get(link, headers=as_role("reviewer.gjj")), 403, "department-scope")


def test_a_licence_gives_no_result_notice_and_its_qr_code_uses_the_public_address(client, as_role, database):
    from tongban.app import create_app
    from tongban.core.config import Settings

    number = _filed_and_accepted(client, as_role, RESIDENCE_PERMIT)
    [task] = _open(client, as_role("reviewer.ga"), number)
    assert _decide(client, as_role("reviewer.ga"), task, opinion="同意").status_code == 200
    citizen = as_role(demo.CITIZEN.username)
    [licence] = _read(client, citizen, number)["licences"]
    assert_problem(client.get(f"/api/v1/applications/{number}/result-notice", headers=citizen), 409, "conflict")

    # Unset: the request's own address, as before.
    assert f"http://testserver/verify/licences/{licence['number']}" in _links(
        client.get(f"/api/v1/licences/{licence['number']}/pdf", headers=citizen))
    # Set (with a path prefix and a trailing slash): every printed link starts with it.
    settings = Settings.model_validate({**database.settings.model_dump(), "relay_enabled": False,
                                        "public_url": "https://zwfw.pudong.example.gov.cn/tongban/"})
    assert settings.public_url == "https://zwfw.pudong.example.gov.cn/tongban"
    with TestClient(create_app(settings), base_url="http://backend.internal:8000") as behind_a_proxy:
        headers = bearer(behind_a_proxy, demo.CITIZEN.username)
        pdf = behind_a_proxy.get(f"/api/v1/licences/{licence['number']}/pdf", headers=headers)
        wanted = f"https://zwfw.pudong.example.gov.cn/tongban/verify/licences/{licence['number']}"
        assert wanted in _flat(_text(pdf)) and _links(pdf) == [wanted]  # the QR code's target, printed and linked
        assert "backend.internal" not in _flat(_text(pdf))
    for bad in ("ftp://zwfw.example.gov.cn", "https://zwfw.example.gov.cn/?a=1", "zwfw.example.gov.cn"):
        with pytest.raises(ValueError, match="TONGBAN_PUBLIC_URL"):
            Settings.model_validate({**database.settings.model_dump(), "public_url": bad})
