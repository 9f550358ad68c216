"""Requests for disclosure walked through the 《政府信息公开条例》: every reply type, the one 补正 notice
that restarts the clock, the third-party consultation that pauses it, the head's one extension,
a transfer, a repeat request, and the refusals that change nothing. Every deadline below was
counted by hand on the State Council's calendars and is written literally:

2025: 9月28日（日）上班, 10月1日–8日 国庆、中秋放假, 10月11日（六）上班.
2026: 9月20日（日）上班, 9月25日–27日 中秋放假, 10月1日–7日 国庆放假, 10月10日（六）上班.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from helpers import assert_problem
from sqlalchemy import func, select

from disclosure.requests.conftest import GH, HEAD, OFFICER, OTHER_OFFICER, ZJ, pdf_text
from tongban import demo
from tongban.core.audit import AuditEvent
from tongban.disclosure.requests.models import DisclosureEvent, DisclosureRequest, ReplyType
from tongban.disclosure.requests import service as requests_service
from tongban.supervision import service as supervision

API = "/api/v1/disclosure"
CITIZEN = demo.CITIZEN.username


def file_online(client, headers, *, department: str = GH, description: str = "2025年浦东新区某地块征收补偿方案及批复文件",
                **extra) -> dict:
    response = client.post(f"{API}/requests", headers=headers,
                           json={"department": department, "description": description, "purpose": "了解本人房屋征收情况",
                                 "delivery": "online", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def step(client, headers, number: str, action: str, body: dict | None = None, status: int = 200) -> dict:
    response = client.post(f"{API}/requests/{number}/{action}", headers=headers, json=body or {})
    assert response.status_code == status, response.text
    return response.json()


def read(client, headers, number: str) -> dict:
    response = client.get(f"{API}/requests/{number}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def letter(client, headers, detail: dict, title: str) -> str:
    found = [item for item in detail["letters"] if item["title"] == title]
    assert found, detail["letters"]
    response = client.get(found[-1]["url"], headers=headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    return pdf_text(response.content)


def clock_of(db, kind: str, subject: str) -> SimpleNamespace:
    """The clock as committed, read and let go at once (an open SQLite transaction would hold the app's writes)."""
    db.rollback()
    try:
        found = supervision.find_clock(db, kind, subject)
        assert found is not None, subject
        return SimpleNamespace(**{c: getattr(found, c) for c in (
            "status", "on_time", "used_days", "outcome", "due_on", "limit_days", "paused_days")},
            department_code=found.department.code)
    finally:
        db.rollback()


def test_reply_deadline_runs_across_national_day_2025_and_the_partial_disclosure_letter(client, as_role, db, fixed_clock):
    fixed_clock.set(date(2025, 9, 26))  # a Friday
    filed = file_online(client, as_role(CITIZEN))
    number = filed["number"]
    assert filed["status"] == "processing" and filed["fee_yuan"] == 0 and filed["fee_ordinal"] == 1
    # 20 working days from 26 Sep 2025: 28 Sep (Sunday, worked), 29, 30, then 9–11 Oct (11th a worked Saturday) …
    assert filed["deadline"]["due_on"] == "2025-10-30" and filed["deadline"]["limit_days"] == 20
    # The 补正 notice within 7 working days: 28, 29, 30 Sep, 9, 10, 11, 13 Oct.
    assert clock_of(db, "disclosure_notice", f"{number}#1").due_on == date(2025, 10, 13)

    fixed_clock.set(date(2025, 10, 9))
    # Left: 10, 11 (Saturday, worked), 13–17, 20–24, 27–30 Oct = 2 + 5 + 5 + 4.
    assert read(client, as_role(OFFICER), number)["deadline"]["remaining_days"] == 16
    answered = step(client, as_role(OFFICER), number, "reply", {
        "reply_type": "partial", "content": "征收补偿方案（公示稿）全文，见附件。",
        "withheld": "被征收人名单中的身份证号码和联系电话", "ground": "third_party", "reason": "涉及他人个人隐私"})
    assert answered["status"] == "answered" and answered["reply_label"] == "部分公开"
    assert answered["reply_ground_label"] == "保护第三方合法权益（第十五条）" and answered["deadline"] is None
    reply_clock = clock_of(db, "disclosure_reply", f"{number}#1")
    assert reply_clock.status == "closed" and reply_clock.on_time is True and reply_clock.used_days == 4
    assert clock_of(db, "disclosure_notice", f"{number}#1").outcome == "clear"

    text = letter(client, as_role(CITIZEN), read(client, as_role(CITIZEN), number), "政府信息公开申请答复告知书")
    for expected in (number, "浦东新区规划和自然资源局", "第三十七条", "被征收人名单中的身份证号码和联系电话", "保护第三方合法权益",
                     "60 日内向浦东新区人民政府申请行政复议", "6 个月内", "北京时间", "2025年10月9日"):
        assert expected in text, expected

    # A second decision: refused in Chinese, nothing changes.
    events_before = db.scalar(select(func.count()).select_from(DisclosureEvent))
    db.rollback()
    again = client.post(f"{API}/requests/{number}/reply", headers=as_role(OFFICER), json={"reply_type": "withheld", "ground": "state_secret"})
    assert "已于 2025-10-09 作出答复" in assert_problem(again, 409, "already-decided")["detail"]
    assert db.scalar(select(func.count()).select_from(DisclosureEvent)) == events_before
    db.rollback()
    assert read(client, as_role(CITIZEN), number)["reply_type"] == "partial"


def test_one_correction_notice_restarts_the_clock_and_silence_counts_as_withdrawn(client, as_role, db, fixed_clock):
    fixed_clock.set(date(2026, 9, 14))  # a Monday
    number = file_online(client, as_role(CITIZEN), description="那个文件")["number"]
    silent = file_online(client, as_role(CITIZEN), description="关于那件事的材料")["number"]
    swept = file_online(client, as_role(CITIZEN), description="有关情况")["number"]
    # 15–18 Sep, 20 Sep (Sunday, worked), 21–24, 28–30 Sep, 8, 9, 10 Oct (Saturday, worked), 12–16 Oct.
    assert read(client, as_role(OFFICER), number)["deadline"]["due_on"] == "2026-10-16"

    fixed_clock.set(date(2026, 9, 17))
    empty = client.post(f"{API}/requests/{number}/correction-notice", headers=as_role(OFFICER), json={"items": " "})
    assert "补正的事项" in assert_problem(empty, 422, "validation-error")["detail"]
    noticed = step(client, as_role(OFFICER), number, "correction-notice",
                   {"items": "请写明文件的名称、文号或发布机关、大致时间", "days": 15})
    step(client, as_role(OFFICER), silent, "correction-notice", {"items": "请写明所需信息的内容", "days": 15})
    step(client, as_role(OFFICER), swept, "correction-notice", {"items": "请写明所需信息的内容", "days": 15})
    # 15 working days from 17 Sep: 18, 20 (Sunday), 21–24, 28–30 Sep, 8, 9, 10 (Saturday), 12, 13, 14 Oct.
    assert noticed["status"] == "correcting" and noticed["correction_due_on"] == "2026-10-14"
    assert noticed["deadline"] is None  # the applicant's turn: no reply clock runs
    assert clock_of(db, "disclosure_notice", f"{number}#1").outcome == "supplement"
    text = letter(client, as_role(CITIZEN), noticed, "政府信息公开申请补正告知书")
    assert "第三十条" in text and "2026年10月14日" in text and "视为放弃申请" in text

    fixed_clock.set(date(2026, 9, 29))
    corrected = step(client, as_role(CITIZEN), number, "correction", {"text": "浦府〔2026〕12号《关于某地块征收的批复》"})
    # The 20 days count again from the corrected request: 30 Sep, 8, 9, 10 (Saturday), 12–16, 19–23, 26–30 Oct, 2 Nov.
    assert corrected["status"] == "processing" and corrected["received_on"] == "2026-09-29"
    assert corrected["deadline"]["due_on"] == "2026-11-02" and corrected["deadline"]["started_on"] == "2026-09-29"
    assert clock_of(db, "disclosure_reply", f"{number}#1").outcome == "supplement"
    # One notice only (第三十条 一次性告知).
    twice = client.post(f"{API}/requests/{number}/correction-notice", headers=as_role(OFFICER), json={"items": "再补一次"})
    assert "一次性告知" in assert_problem(twice, 409, "conflict")["detail"]

    fixed_clock.set(date(2026, 10, 14))  # the last day to correct: not yet given up
    assert "尚未届满" in assert_problem(client.post(f"{API}/requests/{silent}/abandonment", headers=as_role(OFFICER)), 409, "conflict")["detail"]
    fixed_clock.set(date(2026, 10, 15))
    late = client.post(f"{API}/requests/{silent}/correction", headers=as_role(CITIZEN), json={"text": "补充说明"})
    assert "视为放弃" in assert_problem(late, 409, "conflict")["detail"]
    given_up = step(client, as_role(OFFICER), silent, "abandonment")
    assert given_up["status"] == "abandoned" and given_up["status_label"] == "视为放弃申请"
    assert given_up["concluded_on"] == "2026-10-15"
    # The server's sweep gives up the rest the same way, without anyone opening a page.
    assert requests_service.expire_corrections(db) >= 1
    db.commit()
    assert read(client, as_role(OFFICER), swept)["status"] == "abandoned"


def test_third_party_consultation_pauses_the_clock_and_the_head_extends_it_once(client, as_role, db, fixed_clock):
    fixed_clock.set(date(2025, 9, 26))
    number = file_online(client, as_role(CITIZEN), description="某企业建设项目环评报告中的规划许可意见")["number"]

    fixed_clock.set(date(2025, 10, 9))
    consulting = step(client, as_role(OFFICER), number, "consultation",
                      {"third_party": "上海某置业有限公司", "matter": "规划许可意见中涉及贵公司商业秘密的部分是否同意公开"})
    # 15 working days for the third party: 10, 11 (Saturday), 13–17, 20–24, 27, 28, 29 Oct.
    assert consulting["status"] == "consulting" and consulting["consultation_due_on"] == "2025-10-29"
    assert consulting["deadline"]["paused"] is True
    busy = client.post(f"{API}/requests/{number}/reply", headers=as_role(OFFICER), json={"reply_type": "disclosed", "content": "全文"})
    assert "征求第三方意见" in assert_problem(busy, 409, "conflict")["detail"]
    early = client.post(f"{API}/requests/{number}/consultation/answer", headers=as_role(OFFICER), json={"opinion": "none"})
    assert "尚未届满" in assert_problem(early, 409, "conflict")["detail"]

    fixed_clock.set(date(2025, 10, 16))
    resumed = step(client, as_role(OFFICER), number, "consultation/answer", {"opinion": "object", "note": "不同意公开报价部分"})
    # Paused 10, 11, 13, 14, 15, 16 Oct = 6 working days: due 20 + 6 working days after 26 Sep.
    assert resumed["status"] == "processing" and resumed["deadline"]["due_on"] == "2025-11-07"
    later = file_online(client, as_role(CITIZEN), description="2025年第三季度土地出让计划")["number"]
    queue = client.get(f"{API}/queue", headers=as_role(OFFICER)).json()
    order = [item["number"] for item in queue]
    assert order.index(number) < order.index(later)
    remaining = [item["remaining_days"] for item in queue if item["remaining_days"] is not None and not item["paused"]]
    assert remaining == sorted(remaining)

    fixed_clock.set(date(2025, 10, 20))
    refused = client.post(f"{API}/requests/{number}/extension", headers=as_role(OFFICER), json={"days": 20, "reason": "涉及多个部门"})
    assert_problem(refused, 403, "permission-denied")
    no_reason = client.post(f"{API}/requests/{number}/extension", headers=as_role(HEAD), json={"days": 20, "reason": ""})
    assert_problem(no_reason, 422, "validation-error")
    extended = step(client, as_role(HEAD), number, "extension", {"days": 20, "reason": "需调取多年的档案并逐页区分处理"})
    # 20 more working days after 7 Nov: 10–14, 17–21, 24–28 Nov, 1–5 Dec.
    assert extended["deadline"]["due_on"] == "2025-12-05" and extended["extended_days"] == 20
    twice = client.post(f"{API}/requests/{number}/extension", headers=as_role(HEAD), json={"days": 5, "reason": "再延长"})
    assert "只能延长一次" in assert_problem(twice, 409, "conflict")["detail"]
    text = letter(client, as_role(CITIZEN), extended, "政府信息公开申请延期答复告知书")
    assert "第三十三条第二款" in text and "延长 20 个工作日" in text and "2025年12月5日" in text
    clock = clock_of(db, "disclosure_reply", f"{number}#1")
    assert clock.limit_days == 40 and clock.paused_days == 6 and clock.due_on == date(2025, 12, 5)


def test_a_request_for_another_organs_information_is_transferred(client, as_role, db, fixed_clock):
    fixed_clock.set(date(2026, 3, 2))
    number = file_online(client, as_role(CITIZEN), department=ZJ, description="本小区所在地块的控制性详细规划图则")["number"]

    fixed_clock.set(date(2026, 3, 4))
    wrong = client.post(f"{API}/requests/{number}/reply", headers=as_role(OFFICER), json={"reply_type": "disclosed", "content": "图则"})
    assert "浦东新区住房保障和房屋管理局" in assert_problem(wrong, 403, "department-scope")["detail"]
    assert read(client, as_role(OTHER_OFFICER), number)["status"] == "processing"
    moved = step(client, as_role(OTHER_OFFICER), number, "transfer", {"department": GH, "note": "控制性详细规划由规划资源部门负责公开"})
    # The receiving organ's 20 working days from 4 Mar 2026: 5, 6, 9–13, 16–20, 23–27, 30, 31 Mar, 1 Apr.
    assert moved["department"] == GH and moved["received_on"] == "2026-03-04"
    assert moved["deadline"]["due_on"] == "2026-04-01"
    assert clock_of(db, "disclosure_reply", f"{number}#1").outcome == "transferred"
    assert clock_of(db, "disclosure_reply", f"{number}#2").department_code == GH
    text = letter(client, as_role(CITIZEN), moved, "政府信息公开申请转送告知书")
    assert "浦东新区规划和自然资源局" in text and "第三十六条第（五）项" in text and "浦东新区住房保障和房屋管理局" in text

    gone = client.post(f"{API}/requests/{number}/reply", headers=as_role(OTHER_OFFICER), json={"reply_type": "disclosed", "content": "图则"})
    assert_problem(gone, 403, "department-scope")
    done = step(client, as_role(OFFICER), number, "reply", {"reply_type": "already_public",
                                                   "content": "已在浦东新区人民政府门户网站“规划公示”栏目公开"})
    assert done["reply_label"] == "已主动公开，告知获取途径"


REPLIES = {
    ReplyType.ALREADY_PUBLIC: ({"content": "见区政府网站政府信息公开专栏“规划计划”"}, ["第三十六条第（一）项", "规划计划"]),
    ReplyType.DISCLOSED: ({"content": "随本告知书提供《2026年度土地储备计划》全文"}, ["第三十六条第（二）项", "土地储备计划"]),
    ReplyType.PARTIAL: ({"content": "会议纪要正文", "withheld": "讨论过程记录", "ground": "deliberative"},
                        ["第三十七条", "讨论过程记录", "过程性信息"]),
    ReplyType.WITHHELD: ({"ground": "state_secret", "reason": "经保密审查属于国家秘密"}, ["第三十六条第（三）项", "国家秘密"]),
    ReplyType.NOT_EXIST: ({"content": "经检索本机关档案及业务系统，未找到该信息"}, ["第三十六条第（四）项", "不存在"]),
    ReplyType.NOT_OURS: ({"organ_name": "上海市规划和自然资源局", "organ_contact": "电话 021-23111111，北京西路99号"},
                         ["第三十六条第（五）项", "上海市规划和自然资源局", "021-23111111"]),
    ReplyType.SPECIAL_LAW: ({"content": "请依照《不动产登记暂行条例》到不动产登记中心查询"}, ["第三十六条第（七）项", "不动产登记"]),
    ReplyType.NEEDS_CREATION: ({}, ["第三十八条", "加工、分析"]),
    ReplyType.NOT_PROCESSED: ({"ground": "petition", "content": "请通过 12345 市民服务热线反映"}, ["第三十九条", "信访、投诉、举报", "12345"]),
}


@pytest.mark.parametrize("reply_type", list(REPLIES))
def test_each_reply_type_produces_its_letter(client, as_role, fixed_clock, reply_type):
    fixed_clock.set(date(2026, 4, 13))
    number = file_online(client, as_role(CITIZEN), description=f"答复类型测试：{reply_type}的信息")["number"]
    body, expected = REPLIES[reply_type]
    if reply_type not in (ReplyType.NOT_EXIST, ReplyType.NEEDS_CREATION):  # the others refuse a reply without what they need
        missing = client.post(f"{API}/requests/{number}/reply", headers=as_role(OFFICER), json={"reply_type": reply_type})
        assert_problem(missing, 422, "validation-error")
    answered = step(client, as_role(OFFICER), number, "reply", {"reply_type": reply_type, **body})
    assert answered["status"] == "answered" and answered["reply_type"] == reply_type
    text = letter(client, as_role(CITIZEN), answered, "政府信息公开申请答复告知书")
    for phrase in [*expected, "行政复议", "行政诉讼"]:
        assert phrase in text, phrase


def _report_row(db, year: int, label: str) -> int:
    from tongban.disclosure.requests import report

    table = report.build(db, year=year).tables[1]
    return next(row.values[-1] for row in table.rows if row.label == label)


def test_still_unclear_after_the_one_correction_and_too_many_requests_have_their_letters_and_rows(
        client, as_role, db, fixed_clock):
    fixed_clock.set(date(2027, 3, 1))
    unclear_before, excessive_before = (_report_row(db, 2027, "3.补正后申请内容仍不明确"),
                                        _report_row(db, 2027, "4.无正当理由大量反复申请"))
    db.rollback()  # no read transaction left open while the API writes (SQLite)
    number = file_online(client, as_role(CITIZEN), description="那些材料")["number"]
    # Not before the one correction notice was given and answered (第三十条).
    early = client.post(f"{API}/requests/{number}/reply", headers=as_role(OFFICER),
                        json={"reply_type": "still_unclear", "content": "仍未写明所需信息"})
    assert "告知补正" in assert_problem(early, 422, "validation-error")["detail"]
    step(client, as_role(OFFICER), number, "correction-notice", {"items": "请写明所需信息的名称、文号或大致时间"})
    fixed_clock.set(date(2027, 3, 4))
    step(client, as_role(CITIZEN), number, "correction", {"text": "就是那些材料"})
    missing = client.post(f"{API}/requests/{number}/reply", headers=as_role(OFFICER), json={"reply_type": "still_unclear"})
    assert_problem(missing, 422, "validation-error")
    answered = step(client, as_role(OFFICER), number, "reply",
                    {"reply_type": "still_unclear", "content": "补正内容仍未指明信息的名称、文号或发布机关"})
    assert answered["reply_label"] == "补正后申请内容仍不明确，无法提供"
    text = letter(client, as_role(CITIZEN), answered, "政府信息公开申请答复告知书")
    for phrase in ("第三十条", "2027年3月4日", "仍未指明信息的名称", "重新提出申请", "行政复议", "行政诉讼"):
        assert phrase in text, phrase

    many = file_online(client, as_role(CITIZEN), description="本区全部行政机关自1990年以来的全部文件")["number"]
    answered = step(client, as_role(OFFICER), many, "reply", {"reply_type": "not_processed", "ground": "excessive"})
    text = letter(client, as_role(CITIZEN), answered, "政府信息公开申请答复告知书")
    assert "第三十五条" in text and "明显超过合理范围" in text and "第三十九条" not in text
    db.rollback()
    assert _report_row(db, 2027, "3.补正后申请内容仍不明确") == unclear_before + 1
    assert _report_row(db, 2027, "4.无正当理由大量反复申请") == excessive_before + 1


def test_a_repeat_request_is_recognised_and_not_processed_again(client, as_role, fixed_clock):
    fixed_clock.set(date(2026, 4, 20))
    first = file_online(client, as_role(CITIZEN), description="浦东新区2025年度国有土地使用权出让收支情况。")["number"]
    early = file_online(client, as_role(CITIZEN), description="浦东新区2025年度国有土地使用权出让收支情况")
    assert early["repeat_of"] is None  # the first is not answered yet: not a repeat (第三十六条第（六）项)
    step(client, as_role(OFFICER), first, "reply", {"reply_type": "disclosed", "content": "出让收支情况表"})
    # The same information typed differently: full-width digits, spaces, other punctuation.
    again = file_online(client, as_role(CITIZEN), description="浦东新区 ２０２５ 年度国有土地使用权出让收支情况！")
    assert again["repeat_of"] == first
    other = file_online(client, as_role(CITIZEN), description="浦东新区2025年度教育经费支出明细")
    assert other["repeat_of"] is None
    wrong = client.post(f"{API}/requests/{other['number']}/reply", headers=as_role(OFFICER), json={"reply_type": "repeat"})
    assert "此前已经答复" in assert_problem(wrong, 422, "validation-error")["detail"]
    repeated = step(client, as_role(OFFICER), again["number"], "reply", {"reply_type": "repeat"})
    text = letter(client, as_role(CITIZEN), repeated, "政府信息公开申请答复告知书")
    assert first in text and "第三十六条第（六）项" in text and "不予重复处理" in text


def test_bad_requests_are_refused_in_chinese_and_change_nothing(client, as_role, db, fixed_clock):
    fixed_clock.set(date(2026, 5, 11))
    db.rollback()
    count = db.scalar(select(func.count()).select_from(DisclosureRequest))
    db.rollback()
    empty = client.post(f"{API}/requests", headers=as_role(CITIZEN), json={"department": GH, "description": "   "})
    assert "所需政府信息" in assert_problem(empty, 422, "validation-error")["detail"]
    nowhere = client.post(f"{API}/requests", headers=as_role(CITIZEN), json={"department": "NOPE", "description": "某文件"})
    assert "行政机关" in assert_problem(nowhere, 422, "validation-error")["detail"]
    # The office records letters addressed to its own organ only.
    letter_ = client.post(f"{API}/requests", headers=as_role(OFFICER), json={
        "department": ZJ, "channel": "letter", "applicant_name": "李四", "applicant_category": "natural",
        "applicant_id": "310115198001010012", "description": "某文件"})
    assert_problem(letter_, 403, "department-scope")
    assert db.scalar(select(func.count()).select_from(DisclosureRequest)) == count
    db.rollback()
    # Nobody else reads a request; staff of another organ neither.
    number = file_online(client, as_role(CITIZEN))["number"]
    assert_problem(client.get(f"{API}/requests/{number}", headers=as_role(demo.ENTERPRISE.username)), 403, "permission-denied")
    assert_problem(client.get(f"{API}/requests/{number}", headers=as_role(OTHER_OFFICER)), 403, "department-scope")
    refusals = db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == number, AuditEvent.outcome == "denied")).all()
    db.rollback()
    assert len(refusals) == 2
