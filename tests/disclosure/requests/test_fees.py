"""信息处理费 by the bands of 国办函〔2020〕109号 第四条 (per applicant, per calendar month, by request):
≤ 10 free; 11–30 ¥100; from the 31st, bands of 10, each ¥100 more (31–40 ¥200, 41–50 ¥300 …);
shown before filing; waivable by the office with a reason, audited."""

from __future__ import annotations

from datetime import date

import pytest
from helpers import assert_problem
from sqlalchemy import select

from disclosure.requests.conftest import OFFICER, resident_id
from tongban.core.audit import AuditEvent
from tongban.disclosure.requests.fees import fee_for

API = "/api/v1/disclosure"


@pytest.mark.parametrize(("ordinal", "yuan"), [(1, 0), (10, 0), (11, 100), (30, 100), (31, 200), (40, 200), (41, 300),
                                               (50, 300), (51, 400), (61, 500)])
def test_the_bands_of_the_measures(ordinal, yuan):
    assert fee_for(ordinal).yuan == yuan
    assert fee_for(ordinal).ordinal == ordinal


def test_no_zeroth_request():
    with pytest.raises(ValueError):
        fee_for(0)


def record(client, headers, applicant: str, n: int) -> dict:
    response = client.post(f"{API}/requests", headers=headers, json={
        "department": "PD-GHZY", "channel": "letter", "applicant_name": "王五", "applicant_category": "natural",
        "applicant_id": applicant, "description": f"第 {n} 份来信：某路段道路规划红线图（编号 {n:03d}）", "delivery": "post"})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_fee_in_each_band_shown_before_filing_and_a_waiver(client, as_role, db, fixed_clock):
    fixed_clock.set(date(2026, 5, 29))  # a Friday; the month's last requests
    applicant = resident_id(7)
    officer = as_role(OFFICER)
    preview = client.get(f"{API}/fee-preview", headers=officer, params={"applicant_id": applicant}).json()
    assert preview == {"ordinal": 1, "yuan": 0, "text": "本月第 1 件申请，10 件以内（含），不收费"}
    filed = [record(client, officer, applicant, n) for n in range(1, 42)]
    assert [r["fee_ordinal"] for r in filed] == list(range(1, 42))
    fees = {r["fee_ordinal"]: r["fee_yuan"] for r in filed}
    assert {n: fees[n] for n in (1, 10, 11, 30, 31, 40, 41)} == {1: 0, 10: 0, 11: 100, 30: 100, 31: 200, 40: 200, 41: 300}
    assert sum(fees.values()) == 20 * 100 + 10 * 200 + 300
    preview = client.get(f"{API}/fee-preview", headers=officer, params={"applicant_id": applicant}).json()
    assert preview["ordinal"] == 42 and preview["yuan"] == 300 and "第 41–50 件" in preview["text"]

    # A new calendar month starts again from the first request.
    fixed_clock.set(date(2026, 6, 1))
    officer = as_role(OFFICER)
    assert client.get(f"{API}/fee-preview", headers=officer, params={"applicant_id": applicant}).json()["yuan"] == 0
    assert record(client, officer, applicant, 42)["fee_yuan"] == 0

    charged, free = filed[30]["number"], filed[0]["number"]
    no_reason = client.post(f"{API}/requests/{charged}/fee-waiver", headers=officer, json={"reason": " "})
    assert "减免" in assert_problem(no_reason, 422, "validation-error")["detail"]
    waived = client.post(f"{API}/requests/{charged}/fee-waiver", headers=officer,
                         json={"reason": "申请人为低保对象，经审核予以减免"}).json()
    assert waived["fee_waived"] is True and waived["fee_yuan"] == 200
    assert waived["fee_waiver_reason"] == "申请人为低保对象，经审核予以减免"
    assert_problem(client.post(f"{API}/requests/{charged}/fee-waiver", headers=officer, json={"reason": "再减"}), 409, "conflict")
    assert_problem(client.post(f"{API}/requests/{free}/fee-waiver", headers=officer, json={"reason": "无"}), 409, "conflict")
    db.rollback()
    entry = db.scalar(select(AuditEvent).where(AuditEvent.action == "disclosure.request.fee_waive",
                                               AuditEvent.object_id == charged))
    assert entry is not None and "低保" in entry.details and entry.actor_name == "沈佳怡"
    db.rollback()


def test_the_citizen_sees_the_fee_before_filing(client, as_role, fixed_clock):
    from tongban import demo

    fixed_clock.set(date(2026, 7, 6))
    citizen = as_role(demo.CITIZEN.username)
    assert client.get(f"{API}/fee-preview", headers=citizen).json()["ordinal"] == 1
    client.cookies.clear()
    page = client.get("/disclosure/requests/new")
    assert page.status_code == 200 and "登录" in page.text
