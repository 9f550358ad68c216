"""An item's online address is an http(s) URL, and an item has a name: refused on the draft, and
an item stored before these checks never becomes a script link or a 500 on the pages."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from helpers import assert_problem, bearer
from sqlalchemy import select, update

from tongban import demo
from tongban.app import create_app
from tongban.core import audit
from tongban.items import content, service
from tongban.items.models import ServiceItem, ServiceItemVersion

FOOD = "000121010000"  # 食品经营许可, 市场监管局


def _document(client, code: str) -> dict:
    item = client.get(f"/api/v1/items/published/{code}").json()
    return {k: v for k, v in item.items() if k not in ("version", "department_name")}


@pytest.mark.parametrize("url", ["javascript:alert(document.domain)", "JavaScript:alert(1)", " javascript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.example/x",
                                 "https://", "ftp://files.example.gov.cn/a"])
def test_a_draft_with_a_script_or_non_web_address_is_refused(client, as_role, url):
    steward = as_role("steward.scjg")
    before = client.get(f"/api/v1/items/{FOOD}/versions", headers=steward).json()["items"]
    document = _document(client, FOOD)
    document["online_url"] = url
    problem = assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=steward),
                             422, "item-invalid")
    assert "网上办理地址有误" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["item.online_url"]  # the field, for a form to mark
    assert client.get(f"/api/v1/items/{FOOD}/versions", headers=steward).json()["items"] == before  # nothing saved


def test_an_http_address_or_none_is_accepted(client, as_role):
    steward = as_role("steward.scjg")
    document = _document(client, FOOD)
    for url in ("https://zwdt.sh.gov.cn/item/1?x=1", "http://www.pudong.gov.cn/", None):
        document["online_url"] = url
        response = client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=steward)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", ["", "   ", None, 42])
def test_a_draft_without_a_name_is_refused(client, as_role, name):
    steward = as_role("steward.scjg")
    document = _document(client, FOOD)
    document["name"] = name
    problem = assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=steward),
                             422, "item-invalid")
    assert "事项名称不能为空" in problem["detail"]
    del document["name"]
    problem = assert_problem(client.put(f"/api/v1/items/{FOOD}/draft", json=document, headers=steward),
                             422, "item-invalid")
    assert "缺少字段 name" in problem["detail"]


def test_an_item_stored_before_the_checks_is_neither_linked_nor_a_500(fresh_database):
    """Old content (saved unchecked) is read by the pages, the forms and the notices without harm;
    and an old nameless draft can be neither submitted nor published."""
    sessionmaker = fresh_database.sessionmaker()
    with sessionmaker() as db:
        item = db.scalar(select(ServiceItem).where(ServiceItem.basic_code == FOOD))
        row = db.scalar(select(ServiceItemVersion).where(ServiceItemVersion.item_id == item.id,
                                                         ServiceItemVersion.version == item.published_version))
        old = json.loads(row.content)
        del old["name"]
        old["online_url"] = "javascript:alert(document.domain)"
        db.execute(update(ServiceItemVersion).where(ServiceItemVersion.id == row.id).values(content=json.dumps(old)))
        db.commit()

    with TestClient(create_app(fresh_database.settings)) as client:
        page = client.get(f"/services/{FOOD}")
        assert page.status_code == 200
        assert "javascript:" not in page.text.replace("javascript:alert(document.domain)</dd>", "")  # shown as text only
        assert 'href="javascript:' not in page.text
        assert client.get(f"/services/{FOOD}/guide").status_code == 200
        assert client.get(f"/api/v1/items/published/{FOOD}").status_code == 200
        question_of = {a["id"]: q["id"] for q in old["situations"] for a in q["answers"]}
        answers = {question_of[answer]: answer for answer in content.leaf_paths(old)[0]}
        notice = client.post(f"/api/v1/items/published/{FOOD}/notices", json={"answers": answers})
        assert notice.status_code == 201, notice.text
        number = notice.json()["number"]
        notice_page = client.get(f"/notices/{number}")
        assert notice_page.status_code == 200 and 'href="javascript:' not in notice_page.text
        assert client.get(f"/api/v1/items/notices/{number}/pdf").status_code == 200
        forms = client.get("/api/v1/applications/forms", params={"item": FOOD},
                           headers=bearer(client, demo.ENTERPRISE.username))
        assert forms.status_code == 200, forms.text

        # An old draft without a name cannot go on to review.
        steward, admin = bearer(client, "steward.scjg"), bearer(client, "admin")
        draft = dict(old, online_url=None, name="食品经营许可")
        with sessionmaker() as db:
            audit.configure(fresh_database.settings.secret_key)
            saved = service.save_draft(db, draft, actor=audit.SYSTEM, checked=True)
            nameless = dict(draft)
            del nameless["name"]
            saved.content = json.dumps(nameless)
            db.commit()
        assert_problem(client.post(f"/api/v1/items/{FOOD}/submit", headers=steward), 422, "item-invalid")
        with sessionmaker() as db:  # and were it in review already, it would not be published
            db.execute(update(ServiceItemVersion).where(ServiceItemVersion.content == json.dumps(nameless))
                       .values(status="in_review"))
            db.commit()
        versions = client.get(f"/api/v1/items/{FOOD}/versions", headers=steward).json()["items"]
        assert_problem(client.post(f"/api/v1/items/{FOOD}/versions/{versions[0]['version']}/review",
                                   json={"approve": True}, headers=admin), 422, "item-invalid")


def test_a_stored_script_address_is_never_a_link():
    from tongban.core.urls import safe_href

    assert safe_href("https://zwdt.sh.gov.cn/x") == "https://zwdt.sh.gov.cn/x"
    assert safe_href("/applications/SQ-1") == "/applications/SQ-1"
    for bad in ("javascript:alert(1)", " javascript:alert(1)", "JAVASCRIPT:x", "data:text/html,x", "//evil.example",
                "/\\evil.example", None, 3):
        assert safe_href(bad) is None, bad
