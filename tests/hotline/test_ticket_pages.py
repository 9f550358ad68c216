"""The hotline's pages as their people use them, without a browser: the agent records a call from
the form, the department signs and replies from the ticket page, the centre follows up; refusals
show on the page, in Chinese, with the form as sent."""

from __future__ import annotations

import re

import pytest

import own_database as _own

own_database, quiet_app, signed_in = _own.own_database, _own.quiet_app, _own.signed_in



def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def test_a_call_from_the_form_to_the_follow_up(signed_in):
    client = signed_in("hotline")
    page = client.get("/hotline/call")
    assert page.status_code == 200 and "12345 来电受理" in page.text and "派单" in page.text
    form = {"csrf_token": csrf(page.text), "caller_phone": "13900001111", "caller_name": "李女士",
            "said": "公司三个月没发工资了", "summary": "反映欠薪", "category": "H-RS01", "outcome": "dispatched"}
    refused = client.post("/hotline/call", data={**form, "summary": "  "})
    assert refused.status_code == 422 and "坐席摘要" in refused.text and "公司三个月没发工资了" in refused.text
    done = client.post("/hotline/call", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text
    number = done.headers["location"].rsplit("/", 1)[-1]
    detail = client.get(done.headers["location"])
    assert "已派单" in detail.text and "139****1111" in detail.text and "13900001111" not in detail.text

    client = signed_in("reviewer.rs")
    queue = client.get("/hotline/tickets?queue=sign")
    assert number in queue.text and "待签收" in queue.text
    page = client.get(f"/hotline/tickets/{number}")
    assert 'id="form-sign"' in page.text
    signed = client.post(f"/hotline/tickets/{number}/sign", data={"csrf_token": csrf(page.text), "version": version(page.text)})
    assert signed.status_code == 200 and "已签收" in signed.text
    empty = client.post(f"/hotline/tickets/{number}/reply", data={"csrf_token": csrf(signed.text), "version": version(signed.text),
                                                                  "reply": ""})
    assert empty.status_code == 422 and "请填写办理结果" in empty.text
    shown = client.post(f"/hotline/tickets/{number}/contact", data={"csrf_token": csrf(signed.text), "purpose": "回电了解情况"})
    assert "13900001111" in shown.text and "审计日志" in shown.text
    replied = client.post(f"/hotline/tickets/{number}/reply", data={"csrf_token": csrf(signed.text), "version": version(signed.text),
                                                                    "reply": "已责令企业补发工资"})
    assert "已答复" in replied.text

    client = signed_in("hotline")
    page = client.get(f"/hotline/tickets/{number}")
    closed = client.post(f"/hotline/tickets/{number}/follow-up", data={"csrf_token": csrf(page.text), "version": version(page.text),
                                                                       "satisfaction": "satisfied", "solved": "yes"})
    assert "已办结" in closed.text and "满意" in closed.text
    assert "/hotline/call" in client.get("/staff").text


def test_another_department_is_refused_the_ticket_page(signed_in):
    client = signed_in("hotline")
    page = client.get("/hotline/call")
    done = client.post("/hotline/call", data={"csrf_token": csrf(page.text), "caller_phone": "13900002222", "said": "工资被拖欠",
                                              "summary": "欠薪", "category": "H-RS01", "outcome": "dispatched"},
                       follow_redirects=False)
    assert done.status_code == 303, done.text
    assert signed_in("grid.cgzf").get(done.headers["location"]).status_code == 403
    number = done.headers["location"].rsplit("/", 1)[-1]
    grid_page = signed_in("grid.centre").get(f"/grid/cases/{number}", follow_redirects=False)
    assert grid_page.status_code == 303 and grid_page.headers["location"] == f"/hotline/tickets/{number}"


@pytest.mark.parametrize(("username", "labels"), [
    ("hotline", ["热线工单退单待重新派单", "热线工单延期申请待审批", "热线工单超期待督办", "热线工单已答复待回访"]),
    ("reviewer.rs", ["热线工单待签收", "热线工单待办理", "交办本部门待答复的来信"]),
    ("xinfang", ["待处理的来信", "部门已答复待审核的来信"]),
])
def test_the_workbench_counts_what_waits_at_the_hotline_and_the_mailbox(signed_in, username, labels):
    """Each count links to its queue and equals the rows that queue lists (the demo's tickets and letters)."""
    client = signed_in(username)
    page = client.get("/staff").text
    found = dict((label, (int(count), href)) for href, count, label in
                 re.findall(r'<a href="([^"]+)"><strong>(\d+)</strong><span>([^<]+)</span>', page))
    assert set(labels) <= set(found), found
    for label in labels:
        count, href = found[label]
        listed = client.get(href.replace("&amp;", "&"))
        assert listed.status_code == 200, href
        rows = len(re.findall(r'href="/(?:hotline/tickets|staff/mailbox)/[^"?]+"', listed.text))
        assert rows == count, (label, href, rows, count)
    if username == "reviewer.rs":  # the demo's ticket of 拖欠工资 waits to be signed for; 社保缴费 to be handled
        assert found["热线工单待签收"][0] >= 1 and found["热线工单待办理"][0] >= 1


def test_the_demo_has_weeks_of_calls_for_the_analysis(signed_in):
    page = signed_in("hotline").get("/hotline/analysis").text
    assert "社会生活噪声扰民" in page and "上升话题" in page
    weeks = signed_in("hotline").get("/api/v1/hotline/analysis").json()
    assert weeks["total"] >= 200 and sum(1 for w in weeks["weeks"] if w["total"]) >= 8
    assert [r["category"] for r in weeks["rising"]] == ["H-GA02"]
    assert len(weeks["repeat_callers"]) >= 3 and weeks["repeat_places"]
