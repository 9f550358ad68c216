"""Personal data masked everywhere unless the right and a purpose allow it: record keys, search
results and cursors, corrections, pages; a purpose is stated by POST (never by a link), and every
clear read is audited with it."""

from __future__ import annotations

import json
import re
import secrets

from helpers import assert_problem, bearer, enterprise_setup_in_review, register_person, with_decoded_tokens
from sqlalchemy import select

from tongban import demo
from tongban.core.audit import AuditEvent


def _system(client, client_id: str = demo.MZ_CLIENT_ID) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": demo.DEMO_CLIENT_SECRET})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _audit_of(db, response) -> tuple[str | None, str, str] | None:
    """(purpose, actor, details) of the audit entry of a response; read before the rollback, which
    would expire the entry (and reading it again would hold SQLite's write lock)."""
    entry = db.scalar(select(AuditEvent).where(AuditEvent.request_id == response.headers["x-request-id"]))
    found = None if entry is None else (entry.purpose, entry.actor_name, entry.details)
    db.rollback()
    return found


def _people(client, as_role, count: int = 3) -> tuple[str, list[str]]:
    """People with a name found nowhere else, and their ID numbers."""
    marker = "闾丘" + secrets.token_hex(2).upper()
    steward = as_role("steward")
    return marker, [register_person(client, steward, name=f"{marker}{i}", phone=f"1391234{i:04d}") for i in range(count)]


def _sign_in(client, username: str) -> str:
    """A browser session; returns its CSRF token."""
    client.cookies.clear()
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": token})
    page = client.get("/staff/registry")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


# ---- finding 2: full ID numbers in registry search --------------------------------------------


def test_search_results_and_cursors_do_not_carry_clear_keys(client, as_role):
    marker, numbers = _people(client, as_role)
    for headers in (_system(client), as_role("grid")):
        page = client.get("/api/v1/registries/persons", headers=headers, params={"name": marker, "limit": 2})
        assert page.status_code == 200, page.text
        body = page.json()
        pages = [page.text]
        while body["next_cursor"]:
            page = client.get("/api/v1/registries/persons", headers=headers,
                              params={"name": marker, "limit": 2, "cursor": body["next_cursor"]})
            body = page.json()
            pages.append(page.text)
        text = with_decoded_tokens("\n".join(pages))
        assert not any(number in text for number in numbers)
        assert not any(number[6:14] in text for number in numbers)  # not even the birth date inside it
        items = [item for p in pages for item in json.loads(p)["items"]]
        assert len(items) == 3 and all(item["key"] == item["values"]["id_number"] for item in items)
        assert all("*" in item["key"] for item in items)
    # A purpose alone does not unmask for a system or a role without the right.
    with_purpose = client.get("/api/v1/registries/persons", headers=_system(client),
                              params={"name": marker, "purpose": "低保审核"})
    assert not any(number in with_purpose.text for number in numbers)


def test_a_masked_result_opens_through_its_reference(client, as_role):
    marker, numbers = _people(client, as_role, count=1)
    grid = as_role("grid")
    item = client.get("/api/v1/registries/persons", headers=grid, params={"name": marker}).json()["items"][0]
    opened = client.get(f"/api/v1/registries/persons/{item['ref']}", headers=grid)
    assert opened.status_code == 200, opened.text
    assert opened.json()["values"]["name"] == marker[0] + "*" * len(marker)
    assert numbers[0] not in with_decoded_tokens(opened.text)
    assert client.get(f"/api/v1/registries/persons/{item['ref']}/history", headers=grid).status_code == 200
    # The clerk, with the right and a purpose, sees the key and the values the reference stands for.
    clear = client.get(f"/api/v1/registries/persons/{item['ref']}", headers=as_role("clerk"), params={"purpose": "窗口核验"})
    assert clear.json()["key"] == numbers[0] and clear.json()["values"]["name"] == f"{marker}0"
    # A reference is for its own registry only, and a garbled one is a 422.
    assert_problem(client.get(f"/api/v1/registries/addresses/{item['ref']}", headers=grid), 422, "validation-error")
    assert_problem(client.get(f"/api/v1/registries/persons/{item['ref'][:-3]}abc", headers=grid), 422, "validation-error")
    assert_problem(client.get("/api/v1/registries/persons", headers=grid, params={"name": marker, "cursor": "eyJrIjogIjEifQ"}),
                   422, "validation-error")


def test_a_clear_search_is_audited_with_the_records_it_showed(client, as_role, db):
    marker, numbers = _people(client, as_role, count=2)
    response = client.get("/api/v1/registries/persons", headers=as_role("clerk"), params={"name": marker, "purpose": "窗口核验"})
    assert {item["key"] for item in response.json()["items"]} == set(numbers)
    purpose, _, details = _audit_of(db, response)
    assert purpose == "窗口核验" and '"clear":true' in details
    assert all(number in details for number in numbers)


# ---- finding 3: current values in correction requests ------------------------------------------


def test_corrections_show_personal_values_masked(client, as_role, db):
    number = register_person(client, as_role("steward"), phone="13955501234",
                             household_address="上海市浦东新区纠错路77弄8号909室")
    grid = as_role("grid")
    created = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=grid,
                          json={"field": "phone", "proposed_value": "13955509876", "reason": "居民反映号码已变更"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["current_value"] == "139****1234" and body["proposed_value"] == "139****9876"
    assert body["record_key"] != number and body["masked"] is True
    address = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=grid,
                          json={"field": "household_address", "proposed_value": "上海市浦东新区纠错路77弄8号910室",
                                "reason": "门牌号有误"}).json()
    assert "纠错路77弄" not in address["current_value"] and "910室" not in address["proposed_value"]
    listed = client.get("/api/v1/registries/corrections", headers=grid)
    for secret_text in (number, "13955501234", "13955509876", "纠错路77弄"):
        assert secret_text not in listed.text
    # grid has no right to clear values: a purpose changes nothing.
    assert number not in client.get("/api/v1/registries/corrections", headers=grid, params={"purpose": "核对"}).text
    # The source's steward, stating a purpose, sees them in clear, and that read is audited.
    steward = as_role("steward")
    assert "13955501234" not in client.get("/api/v1/registries/corrections", headers=steward).text
    clear = client.get("/api/v1/registries/corrections", headers=steward, params={"purpose": "处理纠错申请"})
    mine = next(c for c in clear.json() if c["id"] == body["id"])
    assert mine["current_value"] == "13955501234" and mine["proposed_value"] == "13955509876" and mine["record_key"] == number
    purpose, _, details = _audit_of(db, clear)
    assert purpose == "处理纠错申请" and str(body["id"]) in details
    # The correction's deadline, watched by supervision, does not name the person either.
    decided = client.post(f"/api/v1/registries/corrections/{body['id']}/decision", headers=steward,
                          json={"accept": False, "reason": "号码未变更"})
    assert decided.status_code == 200 and "13955501234" not in decided.text and number not in decided.text


def test_the_corrections_list_is_masked_and_a_request_shows_in_clear_on_its_page_with_a_purpose(client, as_role, db):
    number = register_person(client, as_role("steward"), phone="13955507777")
    made = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=as_role("clerk"),
                       json={"field": "phone", "proposed_value": "13955508888", "reason": "本人申请变更"}).json()
    csrf = _sign_in(client, "steward")
    # The list never shows a person in clear, and asks no purpose: each request's page does.
    listed = client.get("/staff/corrections")
    assert number not in listed.text and "13955507777" not in listed.text and "13955508888" not in listed.text
    assert 'name="purpose"' not in listed.text and f'href="/staff/corrections/{made["id"]}"' in listed.text
    assert client.post("/staff/corrections", data={"purpose": "处理纠错申请", "csrf_token": csrf}).status_code == 405
    page = client.get(f"/staff/corrections/{made['id']}", params={"purpose": "处理纠错申请"})  # a link never unmasks
    assert number not in page.text and "13955507777" not in page.text and "查看明文" in page.text
    assert_problem(client.post(f"/staff/corrections/{made['id']}/reads", data={"purpose": "处理纠错申请"},
                               headers={"accept": "application/json"}), 403, "csrf-failed")
    clear = client.post(f"/staff/corrections/{made['id']}/reads", data={"purpose": "处理纠错申请", "csrf_token": csrf})
    assert number in clear.text and "13955507777" in clear.text and "13955508888" in clear.text
    purpose, _, details = _audit_of(db, clear)
    assert purpose == "处理纠错申请" and str(made["id"]) in details
    assert "13955507777" not in client.get("/staff/corrections").text  # still masked after a clear read
    grid_csrf = _sign_in(client, "grid")
    grid = client.post(f"/staff/corrections/{made['id']}/reads", data={"purpose": "处理纠错申请", "csrf_token": grid_csrf})
    assert "13955507777" not in grid.text


# ---- finding 21: a cross-site link makes a clear read ------------------------------------------


def test_a_link_cannot_make_a_clear_read(client, as_role, db):
    number = register_person(client, as_role("steward"), name="诸葛链接")
    csrf = _sign_in(client, "clerk")
    # The page: a purpose in the URL is ignored, the read stays masked and is logged as masked.
    page = client.get(f"/staff/registry/persons/{number}", params={"purpose": "攻击者写的用途"})
    assert "诸葛链接" not in page.text and "诸***" in page.text
    purpose, _, details = _audit_of(db, page)
    assert purpose is None and '"clear":false' in details
    assert "攻击者" not in client.get(f"/staff/registry/persons/{number}/compare", params={"a": 1, "b": 1, "purpose": "攻击者"}).text
    # The lookup form and the record's form are POSTs with the CSRF token.
    forged = client.post(f"/staff/registry/persons/{number}", data={"purpose": "攻击者写的用途"},
                         headers={"accept": "application/json"})
    assert_problem(forged, 403, "csrf-failed")
    clear = client.post(f"/staff/registry/persons/{number}", data={"purpose": "窗口核验身份", "csrf_token": csrf})
    assert "诸葛链接" in clear.text
    assert _audit_of(db, clear)[:2] == ("窗口核验身份", "王晓燕") and '"clear":true' in _audit_of(db, clear)[2]
    looked_up = client.post("/staff/registry", data={"slug": "persons", "key": number, "purpose": "窗口核验身份",
                                                     "csrf_token": csrf})
    assert "诸葛链接" in looked_up.text
    compared = client.post(f"/staff/registry/persons/{number}/compare",
                           data={"a": 1, "b": 1, "purpose": "核对历史", "csrf_token": csrf})
    assert "诸葛链接" in compared.text
    # The API, with the browser's cookie: a purpose in a GET is refused, a POST needs X-CSRF-Token.
    assert_problem(client.get(f"/api/v1/registries/persons/{number}", params={"purpose": "攻击者"}), 403, "purpose-by-post")
    assert "诸葛链接" not in client.get(f"/api/v1/registries/persons/{number}").text
    assert_problem(client.post(f"/api/v1/registries/persons/{number}/reads", json={"purpose": "窗口核验身份"}),
                   403, "csrf-failed")
    read = client.post(f"/api/v1/registries/persons/{number}/reads", json={"purpose": "窗口核验身份"},
                       headers={"X-CSRF-Token": csrf})
    assert read.status_code == 200 and read.json()["values"]["name"] == "诸葛链接"
    search = client.post("/api/v1/registries/persons/searches", json={"purpose": "窗口核验身份", "name": "诸葛链"},
                         headers={"X-CSRF-Token": csrf})
    assert number in {item["key"] for item in search.json()["items"]}
    # Bearer callers are not exposed to cross-site requests: ?purpose= on GET stays theirs.
    client.cookies.clear()
    assert client.get(f"/api/v1/registries/persons/{number}", headers=bearer(client, "clerk"),
                      params={"purpose": "窗口核验身份"}).json()["values"]["name"] == "诸葛链接"


def test_a_reviewer_without_the_right_sees_the_applicants_record_masked(client, as_role, db):
    """The record shown with a task follows the same rule: 人社局's head reviews its tasks, masked;
    its reviewer, who holds the right, sees it in clear with the case as purpose, audited."""
    from tongban.cases.models import Application, CaseTask
    from tongban.org import service as org
    from tongban.registry import service
    from tongban.registry.schemas import PERSONS

    number = enterprise_setup_in_review(client, as_role)
    task_id = db.scalar(select(CaseTask.id).join(Application, Application.id == CaseTask.application_id)
                        .where(Application.number == number, CaseTask.department_id == org.get_by_code(db, "PD-RS").id))
    address = service.current_row(db, PERSONS, demo.CITIZEN.username)["household_address"]
    db.rollback()
    assert task_id is not None and address
    head = client.get(f"/api/v1/tasks/{task_id}", headers=as_role("head"))
    assert head.status_code == 200, head.text
    assert address not in head.text and head.json()["shared_data"]["masked"] is True
    reviewer = client.get(f"/api/v1/tasks/{task_id}", headers=as_role("reviewer.rs"))
    assert address in reviewer.text
    purpose, _, details = _audit_of(db, reviewer)
    assert purpose.startswith("审查办件") and '"clear":true' in details


def test_the_exchange_wants_a_purpose_worth_the_name(client):
    system = _system(client, demo.CLIENT_ID)
    response = client.get(f"/api/v1/exchange/persons/records/{demo.CITIZEN.username}", headers=system,
                          params={"purpose": "x"})
    assert_problem(response, 422, "purpose-required")
