"""Idempotency-Key: the same request retried gets the first application; the same key with a
different request is refused (422 idempotency-key-reused) and changes nothing."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from helpers import assert_problem
from sqlalchemy import func, select

from tongban import demo
from tongban.cases.models import Application

FORM = {"entity_name": "上海浦江示范科技有限公司", "credit_code": demo.ENTERPRISE.username, "legal_representative": "张伟",
        "phone": "021-58881234", "project_name": "张江路通信管道新建工程", "location": "张江路（科苑路至碧波路）",
        "length_m": "320", "method": "开挖施工", "period": "2026年12月1日至12月20日"}
BUNDLE = "road-excavation"


def _materials(client, headers) -> list[str]:
    form = client.get("/api/v1/applications/forms", params={"bundle": BUNDLE}, headers=headers).json()
    return [m["name"] for m in form["materials"] if not m["exempt"]]


def _count(db, user_key: str) -> int:
    count = db.scalar(select(func.count()).select_from(Application).where(Application.idempotency_key == user_key))
    db.rollback()
    return count


def test_the_same_key_with_another_body_is_refused_and_the_same_body_answers_the_first(client, as_role, db):
    company = as_role(demo.ENTERPRISE.username)
    key = uuid.uuid4().hex
    headers = {**company, "Idempotency-Key": key}
    body = {"bundle": BUNDLE, "form": FORM, "materials": _materials(client, company)}
    first = client.post("/api/v1/applications", headers=headers, json=body)
    assert first.status_code == 201, first.text

    reordered = {"materials": body["materials"], "form": dict(reversed(list(FORM.items()))), "bundle": BUNDLE}
    again = client.post("/api/v1/applications", headers=headers, json=reordered)
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]

    changed = {**body, "form": {**FORM, "length_m": "9999"}}
    problem = assert_problem(client.post("/api/v1/applications", headers=headers, json=changed),
                             422, "idempotency-key-reused")
    assert key in problem["detail"]
    fewer = {**body, "materials": body["materials"][:-1]}
    assert_problem(client.post("/api/v1/applications", headers=headers, json=fewer), 422, "idempotency-key-reused")
    assert _count(db, key) == 1  # nothing changed: still the one application, as first filed
    stored = client.get(f"/api/v1/applications/{first.json()['number']}", headers=company).json()
    assert stored["form"]["length_m"] == "320"

    # Another account may use the same key for its own request.
    other = client.post("/api/v1/applications", headers={**as_role(demo.CITIZEN.username), "Idempotency-Key": key},
                        json={"bundle": "enterprise-setup", "form": {}, "materials": []})
    assert other.status_code != 422 or "idempotency" not in other.json()["type"]


PDF = b"%PDF-1.4\n%%EOF\n"


def test_the_application_form_page_follows_the_same_rule(client, as_role, db):
    form = client.get("/api/v1/applications/forms", params={"bundle": BUNDLE},
                      headers=as_role(demo.ENTERPRISE.username)).json()
    answers = {f"answer_{q['key']}": q["answers"][0]["id"] for q in form["situations"]}
    # The page takes one upload per material; every needed one, whatever the situation, is sent.
    files = [(f"material:{m['key']}", (f"{m['id']}.pdf", PDF, "application/pdf"))
             for m in form["material_list"] if not m["exempt"] and m["needed"] is not False]
    with TestClient(client.app) as browser:  # a page session of its own
        login = browser.get("/login")
        signed_in = browser.post("/login", data={"username": demo.ENTERPRISE.username, "password": demo.DEMO_PASSWORD,
                                                 "csrf_token": _field(login.text, "csrf_token")}, follow_redirects=False)
        assert signed_in.status_code == 303, signed_in.text
        page = browser.get(f"/apply/{BUNDLE}")
        assert page.status_code == 200
        key = _field(page.text, "idempotency_key")
        data = {"csrf_token": _field(page.text, "csrf_token"), "idempotency_key": key,
                **{f"field_{k}": v for k, v in FORM.items()}, **answers}
        first = browser.post(f"/apply/{BUNDLE}", data=data, files=files, follow_redirects=False)
        assert first.status_code == 303, first.text
        again = browser.post(f"/apply/{BUNDLE}", data=data, files=files, follow_redirects=False)
        assert again.headers["location"] == first.headers["location"]  # a double click files one application
        refused = browser.post(f"/apply/{BUNDLE}", data={**data, "field_length_m": "1"}, files=files, follow_redirects=False)
        assert refused.status_code == 422 and "幂等键" in refused.text
    assert _count(db, key) == 1


def _field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)
