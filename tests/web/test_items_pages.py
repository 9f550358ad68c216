"""Staff pages of the item base and the consultation queue: drafts, review and answers through forms."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from tongban.core.audit import AuditEvent
from tongban.notifications.models import Notification

from .test_catalog_pages import _csrf, _sign_in

HYGIENE = "000125004000"  # 公共场所卫生许可, 卫健委 — edited through the pages here only


def test_an_item_is_edited_submitted_and_published_through_the_pages(client):
    token = _sign_in(client, "admin")
    listing = client.get("/staff/items")
    assert listing.status_code == 200 and "公共场所卫生许可" in listing.text
    page = client.get(f"/staff/items/{HYGIENE}")
    assert page.status_code == 200
    document = json.loads(re.search(r'<textarea id="document"[^>]*>(.*?)</textarea>', page.text, re.S).group(1)
                          .replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<")
                          .replace("&gt;", ">").replace("&#39;", "'"))
    document["hours"] = "周一至周六 9:00-17:00（法定节假日除外）"
    saved = client.post(f"/staff/items/{HYGIENE}/draft", data={"document": json.dumps(document, ensure_ascii=False),
                                                              "csrf_token": token}, follow_redirects=True)
    assert saved.status_code == 200 and "草稿" in saved.text
    broken = client.post(f"/staff/items/{HYGIENE}/draft", data={"document": "{not json", "csrf_token": token})
    assert broken.status_code == 422 and "JSON" in broken.text
    submitted = client.post(f"/staff/items/{HYGIENE}/submit", data={"csrf_token": token}, follow_redirects=True)
    assert "待审核" in submitted.text
    version = int(re.search(r"第 (\d+) 版已提交审核", submitted.text).group(1))

    # The author may not approve their own draft, even as the e-government office.
    refused = client.post(f"/staff/items/{HYGIENE}/versions/{version}/review",
                          data={"decision": "approve", "csrf_token": token})
    assert refused.status_code == 403 and "编写人以外" in refused.text
    assert TestClient(client.app).get(f"/api/v1/items/published/{HYGIENE}").json()["hours"] != document["hours"]


def test_the_consultation_queue_answers_and_promotes(client, db):
    anonymous = TestClient(client.app)
    asked = anonymous.post("/api/v1/consultations", json={
        "item": "000121007000", "question": "我在菜市场摆摊卖自家做的腌菜，个体户执照怎么和摊位挂钩？",
        "contact": "13900001111"}).json()
    assert asked["status"] == "open"
    token = _sign_in(client, "clerk")
    queue = client.get("/staff/consultations")
    assert queue.status_code == 200 and asked["number"] in queue.text
    page = client.get(f"/staff/consultations/{asked['number']}")
    assert "提交答复" in page.text and "13900001111" in page.text
    reads = db.scalars(select(AuditEvent).where(AuditEvent.object_id == asked["number"],
                                                AuditEvent.action == "consultation.read_contact")).all()
    assert [(r.actor_name, r.purpose) for r in reads] == [("王晓燕", "答复咨询")]  # reading a phone number is logged
    db.rollback()
    answered = client.post(f"/staff/consultations/{asked['number']}/answer", follow_redirects=True, data={
        "text": "摊位在集贸市场内的，以市场开办方出具的摊位证明作为经营场所证明办理个体工商户登记。", "promote": "1",
        "csrf_token": token})
    assert answered.status_code == 200 and "收入常见问题，审核通过后公开" in answered.text
    public = anonymous.get(f"/consultations/{asked['number']}")
    assert "摊位证明" in public.text
    assert "摊位证明" not in anonymous.get("/services/000121007000").text  # a draft until reviewed
    assert client.get("/staff/faqs").status_code == 403  # a window clerk does not publish
    told = db.scalars(select(Notification).where(Notification.kind == "faq.draft", Notification.link == "/staff/faqs")).all()
    assert told and told[-1].role == "egov_admin"  # the reviewers are told
    db.rollback()
    reviewer = TestClient(client.app)
    token = _sign_in(reviewer, "admin")
    drafts = reviewer.get("/staff/faqs")
    assert drafts.status_code == 200 and "摊位证明" in drafts.text
    faq_id = re.search(r'action="/staff/faqs/(\d+)/review"', drafts.text).group(1)
    published = reviewer.post(f"/staff/faqs/{faq_id}/review", data={"decision": "approve", "csrf_token": token},
                              follow_redirects=True)
    assert published.status_code == 200 and "已公开" in published.text
    assert "摊位证明" in anonymous.get("/services/000121007000").text  # now in the item's FAQ


def test_public_pages_answer_bad_input_in_chinese(client):
    assert "请输入" in client.get("/services", params={"q": "？？"}).text
    assert client.get("/services/000000000000").status_code == 404
    assert client.get("/notices/GZ-00000000-ZZZZZZ").status_code == 404
    guide = client.get("/services/000115010000/guide", params={"a": ["q1a", "q9z"]})
    assert guide.status_code == 200 and "挖掘的道路属于哪一类" in guide.text  # unknown answers ignored
    assert client.post("/services/000115010000/notices", data={"a": ["q1a"], "csrf_token": "x"}).status_code == 403
    assert _csrf(client.get("/services/000115010000").text)
