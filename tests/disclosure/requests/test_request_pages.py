"""The office's pages: recording a letter, the request page's actions through forms (CSRF-checked),
refusals shown as pages that change nothing; every word on them Chinese."""

from __future__ import annotations

import re

from disclosure.requests.conftest import HEAD, OFFICER, resident_id
from tongban import demo


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _sign_in(client, username: str) -> str:
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                           "csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return _csrf(client.get("/staff").text)


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_office_records_a_letter_and_works_it_through_its_pages(client):
    token = _sign_in(client, OFFICER)
    form = client.get("/staff/disclosure/requests/new")
    assert form.status_code == 200 and "信函申请" in form.text and "身份证号或统一社会信用代码" in form.text
    recorded = client.post("/staff/disclosure/requests/new", data={
        "csrf_token": token, "channel": "letter", "applicant_name": "赵六", "applicant_id": resident_id(21),
        "applicant_category": "natural", "description": "陆家嘴某地块2026年控制性详细规划调整公示材料",
        "delivery": "post", "contact_address": "上海市浦东新区世纪大道100号"}, follow_redirects=False)
    assert recorded.status_code == 303, recorded.text
    url = recorded.headers["location"]
    number = url.rsplit("/", 1)[-1]
    page = client.get(url)
    text = _visible(page.text)
    assert "信函申请" in text and "作出答复" in text and "一次性告知补正" in text and "剩余 20 个工作日" in text
    assert not re.search(r"\b[a-z]+_[a-z]+\b", text), re.findall(r"\b[a-z]+_[a-z]+\b", text)
    queue = client.get("/staff/disclosure/requests")
    assert number in queue.text

    forged = client.post(f"{url}/consultation", data={"csrf_token": "forged", "third_party": "某公司", "matter": "是否同意"})
    assert forged.status_code == 403
    consulted = client.post(f"{url}/consultation", data={"csrf_token": token, "third_party": "上海某置业有限公司",
                                                         "matter": "是否同意公开贵公司报送的材料"}, follow_redirects=False)
    assert consulted.status_code == 303
    assert "征求第三方意见中" in client.get(url).text
    busy = client.post(f"{url}/reply", data={"csrf_token": token, "reply_type": "disclosed", "content": "全文"})
    assert busy.status_code == 409 and "征求第三方意见" in busy.text
    refused = client.post(f"{url}/extension", data={"csrf_token": token, "days": "20", "reason": "材料多"})
    assert refused.status_code == 403 and "负责人" in refused.text
    assert "已延长" not in client.get(url).text

    client.cookies.clear()
    token = _sign_in(client, HEAD)
    assert "同意延长并告知申请人" in client.get(url).text
    extended = client.post(f"{url}/extension", data={"csrf_token": token, "days": "20", "reason": "需逐页区分处理"},
                           follow_redirects=False)
    assert extended.status_code == 303
    assert "已延长 20 个工作日" in client.get(url).text

    # 电子监察 follows the clock's link and reads the request, without the office's actions.
    client.cookies.clear()
    _sign_in(client, "inspector")
    read_only = client.get(url)
    assert read_only.status_code == 200 and "只读" in read_only.text and "作出答复" not in read_only.text


def test_the_portal_pages_for_everyone(client):
    client.cookies.clear()
    form = client.get("/disclosure/requests/new")
    assert form.status_code == 200 and "/login?next=/disclosure/requests/new" in form.text
    report = client.get("/disclosure/reports")
    assert report.status_code == 200 and "收到和处理政府信息公开申请情况" in report.text and "1月31日" in report.text
    assert client.get("/disclosure/requests", follow_redirects=False).status_code in (303, 401)
