"""The pages of 智能匹配 without a browser: the portal's policies and self-check (no sign-in), an
enterprise's 「我可以享受的政策」 with the reasons and the claim link, and a department's drafting
form, review and list of who qualifies — every label Chinese, refusals said in place."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from helpers import csrf_of

from .conftest import DRAFTER, ENTERPRISE, OTHER_DEPARTMENT, PUBLISHER

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<(code)\b.*?</\1>", " ", html, flags=re.S)  # the field reference shows JSON names on purpose
    return re.sub(r"<[^>]+>", " ", html)


def _with_token(browser: TestClient) -> tuple[TestClient, str]:
    return browser, csrf_of(browser.get("/").text)


def test_the_portal_lists_policies_and_anyone_may_check_themselves(client):
    browser = client
    listing = browser.get("/policies")
    assert listing.status_code == 200
    text = visible(listing.text)
    assert "小微企业稳岗补贴" in text and "职工基本养老金申领提醒" in text and "注册资本 不大于 1,000 万元" in text
    assert not SNAKE.search(text), SNAKE.findall(text)
    form = browser.get("/policies/check?target=resident")
    assert form.status_code == 200 and "年龄" in form.text and "自测结果" not in form.text
    answer = browser.get("/policies/check", params={"target": "resident", "age": "62", "alive": "是", "residence_status": "户籍",
                                                     "social_insurance_status": "正常缴费"})
    text = visible(answer.text)
    assert "自测结果" in text and "职工基本养老金申领提醒" in text and "符合" in text and not SNAKE.search(text)
    wrong = browser.get("/policies/check", params={"target": "resident", "age": "六十"})
    assert wrong.status_code == 200 and "年龄应为数字（周岁），不是“六十”" in wrong.text and "自测结果" not in wrong.text


def test_an_enterprise_sees_why_and_how_to_claim(signed_in):
    browser = signed_in(ENTERPRISE)
    page = browser.get("/my/policies")
    assert page.status_code == 200
    text = visible(page.text)
    assert "小微企业稳岗补贴" in text and "从业人数" in text and "法人库（统计局）" in text and "36 人" in text
    assert 'href="/apply/000112004000"' in page.text and "在线申报" in text
    assert not SNAKE.search(text), SNAKE.findall(text)
    assert "我可以享受的政策" in browser.get("/").text  # in the header, for residents and enterprises
    portal = browser.get("/policies")
    assert portal.status_code == 200 and 'href="/my/policies"' in portal.text


def test_staff_draft_review_and_follow_in_the_pages(signed_in):
    staff, csrf = _with_token(signed_in(DRAFTER))
    assert "政策匹配" in staff.get("/staff").text
    listing = staff.get("/staff/policies")
    assert listing.status_code == 200 and "小微企业稳岗补贴" in listing.text and not SNAKE.search(visible(listing.text))
    form = staff.get("/staff/policies/new")
    assert form.status_code == 200 and not SNAKE.search(visible(form.text))
    sent = {"csrf_token": csrf, "title": "小型企业吸纳就业奖励（页面）", "target": "enterprise", "legal_basis": "《浦东新区就业促进办法》",
            "valid_from": "2026-01-01", "benefit": "每吸纳一人奖励 0.2 万元", "mode": "all", "profiles": "operating",
            "field_0": "registered_capital", "op_0": "le", "value_0": "800",
            "field_1": "industry_code", "op_1": "prefix", "value_1": "I65、M73"}
    refused = staff.post("/staff/policies/new", data={**sent, "field_2": "age", "op_2": "ge", "value_2": "60"})
    assert refused.status_code == 422
    assert "条件 3：未知的事实字段 age" in refused.text and "I65、M73" in refused.text  # kept as typed
    created = staff.post("/staff/policies/new", data=sent, follow_redirects=False)
    assert created.status_code == 303, created.text
    detail_url = created.headers["location"]
    detail = staff.get(detail_url)
    assert "待审核的草稿" in detail.text and "行业代码（GB/T 4754） 开头为 I65、M73" in detail.text
    assert "本人起草的草稿须由他人审核发布" not in detail.text and "请本部门负责人审核发布" in detail.text
    head, head_csrf = _with_token(signed_in(PUBLISHER))
    done = head.post(f"{detail_url}/publish", data={"csrf_token": head_csrf}, follow_redirects=True)
    assert done.status_code == 200 and "已发布并完成匹配" in done.text
    published = staff.get(detail_url)
    text = visible(published.text)
    assert "符合条件的对象" in text and "上海浦江示范科技有限公司" in text and "已告知" in text and not SNAKE.search(text)
    match = re.search(r'name="match" value="(\d+)"', published.text).group(1)
    moved = staff.post(f"{detail_url}/contact", data={"csrf_token": csrf, "match": match, "contact": "applied"}, follow_redirects=True)
    assert "已记录为“已申报”" in moved.text
    back = staff.post(f"{detail_url}/contact", data={"csrf_token": csrf, "match": match, "contact": "notified"}, follow_redirects=True)
    assert "不能从“已申报”退回“已告知”" in back.text
    # Nested groups are written as JSON; the form shows the fields' JSON names then, and only then.
    json_form = staff.get("/staff/policies/new", params={"json": "true"})
    assert json_form.status_code == 200 and "<code>registered_capital</code>" in json_form.text
    assert "<code>registered_capital</code>" not in staff.get("/staff/policies/new").text
    nested = staff.post("/staff/policies/new", data={**{k: v for k, v in sent.items() if not k.startswith(("field_", "op_", "value_"))},
                                                     "title": "灵活就业或失业人员（页面 JSON）", "target": "resident",
                                                     "json": '{"mode": "all", "items": [{"field": "age", "op": "ge", "value": 40}, '
                                                             '{"mode": "any", "items": [{"field": "employment_status", "op": "eq", "value": "登记失业"}, '
                                                             '{"field": "employment_status", "op": "eq", "value": "灵活就业"}]}]}'},
                        follow_redirects=True)
    assert nested.status_code == 200 and "以下满足其一" in nested.text, re.sub(r"<[^>]+>", " ", nested.text.split("<main", 1)[1])[:1500]
    assert True and "就业状态 等于 登记失业" in nested.text
    other = signed_in(OTHER_DEPARTMENT)
    assert other.get(detail_url).status_code == 403
