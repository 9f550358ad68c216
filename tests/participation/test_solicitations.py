"""网上征求意见: a draft policy with its PDF (checked as a real PDF), comments from signed-in people
and from people who left a name and contact, and after the period the department's adoption
summary (采纳情况) by groups of comments, published with the draft — never a commenter's name or
contact."""

from __future__ import annotations

import io
from datetime import timedelta

from helpers import assert_problem
from reportlab.pdfgen import canvas

from tongban import demo
from tongban.core import clock

from .conftest import CITIZEN, ENTERPRISE, MANAGE, OTHER_STAFF, STAFF, TOPICS, period, published


def a_pdf() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "draft policy")
    page.save()
    return buffer.getvalue()


def draft_body(**extra) -> dict:
    return {"kind": "solicitation", "title": "《浦东新区促进小微企业发展若干措施（征求意见稿）》",
            "body": "第一条 为促进本区小微企业健康发展，制定本措施。\n第二条 对首次认定的小微企业给予一次性补贴。",
            **period(), **extra}


def test_comments_on_a_draft_and_its_published_adoption_summary(client, as_role, fixed_clock):
    staff, citizen, enterprise = as_role(STAFF), as_role(CITIZEN), as_role(ENTERPRISE)
    draft = client.post(MANAGE, json=draft_body(), headers=staff).json()
    # the PDF: a real one is kept; a renamed text file and an empty one are refused
    refused = client.post(f"{MANAGE}/{draft['id']}/attachment", headers=staff,
                          files={"file": ("草案.pdf", b"%PDF-1.4 not really a pdf", "application/pdf")})
    assert_problem(refused, 422, "attachment-refused")
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/attachment", headers=staff,
                               files={"file": ("草案.docx", a_pdf(), "application/pdf")}), 422, "attachment-refused")
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/attachment", headers=staff,
                               files={"file": ("草案.pdf", b"", "application/pdf")}), 422, "attachment-refused")
    kept = client.post(f"{MANAGE}/{draft['id']}/attachment", headers=staff, files={"file": ("征求意见稿.pdf", a_pdf(), "application/pdf")})
    assert kept.status_code == 200, kept.text
    assert kept.json()["attachment_name"] == "征求意见稿.pdf"
    client.post(f"{MANAGE}/{draft['id']}/publish", headers=staff)
    pdf = client.get(kept.json()["attachment_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")

    url = f"{TOPICS}/{draft['id']}/comments"
    first = client.post(url, json={"body": "建议补贴标准按从业人数分档，联系我 13912345678"}, headers=citizen)
    assert first.status_code == 201, first.text
    assert first.json()["name"] == "张伟" and first.json()["contact"] is None
    second = client.post(url, json={"body": "第二条的补贴应覆盖个体工商户"}, headers=enterprise).json()
    anonymous = client.post(url, json={"body": "希望简化申请材料", "name": "李女士", "contact": "lin@example.cn"})
    assert anonymous.status_code == 201, anonymous.text
    # duplicates, empty, oversized, anonymous without contact
    assert_problem(client.post(url, json={"body": "第二条的补贴应覆盖个体工商户"}, headers=enterprise), 409, "participation-duplicate")
    assert_problem(client.post(url, json={"body": "  "}, headers=citizen), 422, "validation-error")
    assert_problem(client.post(url, json={"body": "长" * 2001}, headers=citizen), 422, "validation-error")
    no_contact = assert_problem(client.post(url, json={"body": "匿名意见", "name": "王先生"}), 422, "validation-error")
    assert "联系方式" in no_contact["detail"] or "电子邮箱" in no_contact["detail"]
    assert_problem(client.post(url, json={"body": "匿名意见", "name": "王先生", "contact": "12"}), 422, "validation-error")

    # the department reads them with their contacts; another department may not
    listed = client.get(f"{MANAGE}/{draft['id']}/comments", headers=staff).json()
    assert [c["name"] for c in listed] == ["张伟", demo.ENTERPRISE.name, "李女士"]
    assert listed[2]["contact"] == "lin@example.cn"
    assert_problem(client.get(f"{MANAGE}/{draft['id']}/comments", headers=as_role(OTHER_STAFF)), 403, "department-scope")

    summary = {"summary": "征求意见期间共收到意见 3 条。", "adoptions": [
        {"subject": "补贴标准分档", "decision": "adopted", "reason": "已按从业人数分三档。", "comment_ids": [first.json()["id"]]},
        {"subject": "覆盖个体工商户", "decision": "not_adopted", "reason": "个体工商户另有扶持政策。", "comment_ids": [second["id"]]},
        {"subject": "简化申请材料", "decision": "partly", "reason": "取消两项证明材料。", "comment_ids": [anonymous.json()["id"]]}]}
    # not before the period ends
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/summary", json=summary, headers=staff), 409, "participation-state")
    fixed_clock.advance(days=8)
    staff = as_role(STAFF)
    assert_problem(client.post(url, json={"body": "截止后的意见"}, headers=as_role(CITIZEN)), 409, "participation-closed")
    wrong = {**summary, "adoptions": [{**summary["adoptions"][0], "comment_ids": [999999]}]}
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/summary", json=wrong, headers=staff), 422, "validation-error")
    twice = {**summary, "adoptions": [summary["adoptions"][0], {**summary["adoptions"][1], "comment_ids": [first.json()["id"]]}]}
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/summary", json=twice, headers=staff), 422, "validation-error")
    done = client.post(f"{MANAGE}/{draft['id']}/summary", json=summary, headers=staff)
    assert done.status_code == 200, done.text
    assert_problem(client.post(f"{MANAGE}/{draft['id']}/summary", json=summary, headers=staff), 409, "participation-state")

    public = client.get(f"{TOPICS}/{draft['id']}")
    shown = public.json()
    assert shown["phase"] == "results" and shown["summary"] == "征求意见期间共收到意见 3 条。"
    assert [(a["subject"], a["decision_label"], a["comments"]) for a in shown["adoptions"]] == [
        ("补贴标准分档", "采纳", 1), ("覆盖个体工商户", "未采纳", 1), ("简化申请材料", "部分采纳", 1)]
    for private in ("13912345678", "lin@example.cn", "李女士", "张伟", "从业人数分档，联系我"):
        assert private not in public.text
    page = client.get(f"/participation/{draft['id']}")
    assert page.status_code == 200 and "意见采纳情况" in page.text and "部分采纳" in page.text
    for private in ("13912345678", "lin@example.cn", "李女士"):
        assert private not in page.text


def test_a_draft_in_its_period_only(client, as_role):
    staff = as_role(STAFF)
    later = published(client, staff, draft_body(title="《某某办法（征求意见稿）》", opens_at=(clock.now() + timedelta(days=2)).isoformat(),
                                                closes_at=(clock.now() + timedelta(days=9)).isoformat()))
    refused = assert_problem(client.post(f"{TOPICS}/{later['id']}/comments", json={"body": "提前的意见"}, headers=as_role(CITIZEN)),
                             409, "participation-closed")
    assert "尚未开始" in refused["detail"]
    assert_problem(client.post(MANAGE, json=draft_body(questions=[{"kind": "text", "text": "意见"}]), headers=staff), 422, "validation-error")
    assert_problem(client.post(MANAGE, json=draft_body(body="长" * 50_001), headers=staff), 422, "validation-error")
