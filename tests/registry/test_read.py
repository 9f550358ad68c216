"""Reading the registries: masked unless role and purpose allow, every personal read audited,
history, as-of, search with cursor pagination."""

from __future__ import annotations

import time

from helpers import assert_problem, fresh_resident_id, register_person
from sqlalchemy import select

from tongban.core.audit import AuditEvent
from tongban.core import clock


def test_personal_fields_are_masked_without_a_purpose(client, as_role):
    number = register_person(client, as_role("steward"), name="欧阳明华", phone="13912345678")
    clerk = as_role("clerk")
    masked = client.get(f"/api/v1/registries/persons/{number}", headers=clerk).json()
    values = masked["values"]
    assert values["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert values["name"] == "欧***" and values["phone"] == "139****5678"
    assert values["birth_date"] == number[6:10] + "-**-**"
    assert values["household_address"].endswith("****") and "花木路100弄" not in values["household_address"]
    assert values["residence_status"] == "户籍"  # not personal: shown
    assert set(masked["masked_fields"]) >= {"id_number", "name", "phone", "birth_date", "household_address"}

    clear = client.get(f"/api/v1/registries/persons/{number}", headers=clerk, params={"purpose": "窗口核验身份"}).json()
    assert clear["values"]["name"] == "欧阳明华" and clear["values"]["id_number"] == number
    assert clear["masked_fields"] == []


def test_a_purpose_does_not_unmask_for_roles_without_the_right(client, as_role):
    number = register_person(client, as_role("steward"), name="钱学林")
    response = client.get(f"/api/v1/registries/persons/{number}", headers=as_role("inspector"), params={"purpose": "监察"})
    assert response.json()["values"]["name"] == "钱**"


def test_every_read_of_personal_data_is_audited(client, as_role, db):
    number = register_person(client, as_role("steward"))
    clerk = as_role("clerk")
    first = client.get(f"/api/v1/registries/persons/{number}", headers=clerk, params={"purpose": "办理社保卡"})
    second = client.get(f"/api/v1/registries/persons/{number}", headers=clerk)
    entries = {e.request_id: (e.actor_name, e.purpose, e.department_code, e.details)
               for e in db.scalars(select(AuditEvent).where(AuditEvent.object_id == number,
                                                            AuditEvent.action == "registry.read"))}
    db.rollback()
    one, two = entries[first.headers["x-request-id"]], entries[second.headers["x-request-id"]]
    assert one[:3] == ("王晓燕", "办理社保卡", "PD-SCJG")
    assert '"clear":true' in one[3] and '"clear":false' in two[3]
    # Searches too, and a read of somebody who is not there.
    missing = fresh_resident_id()
    response = client.get(f"/api/v1/registries/persons/{missing}", headers=clerk, params={"purpose": "核验"})
    assert_problem(response, 404, "not-found")
    assert db.scalar(select(AuditEvent).where(AuditEvent.request_id == response.headers["x-request-id"])) is not None
    db.rollback()


def test_malformed_keys_are_422(client, as_role):
    clerk = as_role("clerk")
    body = assert_problem(client.get("/api/v1/registries/persons/310115199306151237", headers=clerk), 422, "validation-error")
    assert body["errors"][0]["code"] == "invalid_resident_id"
    body = assert_problem(client.get("/api/v1/registries/legal-entities/91310115MA1FL0001X", headers=clerk), 422, "validation-error")
    assert body["errors"][0]["code"] == "invalid_credit_code"
    assert_problem(client.get("/api/v1/registries/addresses/12345", headers=clerk), 422, "validation-error")
    assert_problem(client.get("/api/v1/registries/vehicles/1", headers=clerk), 422, "validation-error")


def test_history_and_as_of(client, as_role):
    police = as_role("steward")
    number = register_person(client, police, residence_status="居住证")
    time.sleep(0.05)
    between = clock.now()
    time.sleep(0.05)
    client.patch(f"/api/v1/registries/persons/{number}", headers=police,
                 json={"values": {"residence_status": "户籍"}, "reason": "落户"})
    read = lambda **params: client.get(f"/api/v1/registries/persons/{number}", headers=police,  # noqa: E731
                                       params={"purpose": "核对", **params})
    assert read().json()["values"]["residence_status"] == "户籍"
    past = read(as_of=between.isoformat()).json()
    assert past["values"]["residence_status"] == "居住证" and past["version"] == 1
    assert past["as_of"].startswith(between.isoformat()[:19])
    before = read(as_of="2000-01-01T00:00:00+08:00")
    assert_problem(before, 404, "not-found")
    assert_problem(read(as_of="2026-01-01T00:00:00"), 422, "validation-error")  # a time needs its zone
    history = client.get(f"/api/v1/registries/persons/{number}/history", headers=police,
                         params={"purpose": "核对", "limit": 1}).json()
    assert [v["version"] for v in history["items"]] == [2] and history["items"][0]["reason"] == "落户"
    rest = client.get(f"/api/v1/registries/persons/{number}/history", headers=police,
                      params={"purpose": "核对", "limit": 1, "cursor": history["next_cursor"]}).json()
    assert [v["version"] for v in rest["items"]] == [1] and rest["next_cursor"] is None


def test_search_by_name_and_filters_with_a_cursor(client, as_role):
    police = as_role("steward")
    marker = "司徒" + str(time.time_ns())[-4:]
    created = {register_person(client, police, name=f"{marker}{i}", residence_status=("户籍", "居住证")[i % 2])
               for i in range(5)}
    clerk = as_role("clerk")
    page = client.get("/api/v1/registries/persons", headers=clerk,
                      params={"name": marker, "limit": 2, "purpose": "查询"}).json()
    seen = [r["key"] for r in page["items"]]
    while page["next_cursor"]:
        page = client.get("/api/v1/registries/persons", headers=clerk,
                          params={"name": marker, "limit": 2, "purpose": "查询", "cursor": page["next_cursor"]}).json()
        seen += [r["key"] for r in page["items"]]
    assert set(seen) == created and len(seen) == 5
    filtered = client.get("/api/v1/registries/persons", headers=clerk,
                          params={"name": marker, "residence_status": "居住证", "purpose": "查询"}).json()["items"]
    assert len(filtered) == 2 and all(r["values"]["residence_status"] == "居住证" for r in filtered)
    masked = client.get("/api/v1/registries/persons", headers=clerk, params={"name": marker}).json()["items"]
    assert all(r["values"]["name"].startswith("司*") for r in masked)
    refused = client.get("/api/v1/registries/persons", headers=as_role("inspector"), params={"phone": "13900000000"})
    assert_problem(refused, 403, "permission-denied")
    bad = client.get("/api/v1/registries/persons", headers=clerk, params={"residence_status": "火星"})
    assert_problem(bad, 422, "validation-error")


def test_legal_representatives_are_personal(client, as_role):
    from helpers import credit_code

    code = credit_code("MA1RD" + str(time.time_ns())[-4:].replace("0", "1"))
    number = register_person(client, as_role("steward"), name="赵法人")
    created = client.post("/api/v1/registries/legal-entities", headers=as_role("steward.scjg"), json={
        "values": {"credit_code": code, "name": "上海读取测试有限公司", "entity_type": "有限责任公司",
                   "legal_representative_id": number, "legal_representative_name": "赵法人", "status": "存续",
                   "industry_code": "I6513", "registered_capital": "100"}, "reason": "设立登记"})
    assert created.status_code == 201, created.text
    record = client.get(f"/api/v1/registries/legal-entities/{code}", headers=as_role("inspector")).json()
    assert record["values"]["name"] == "上海读取测试有限公司"
    assert record["values"]["legal_representative_name"] == "赵**"
    assert record["values"]["registered_capital"] == "100"


def test_the_record_page_tells_who_may_unmask(client, as_role):
    import re

    from tongban import demo

    number = register_person(client, as_role("steward"), name="孙页面")

    def page_as(username: str, purpose: str | None = None) -> str:
        client.cookies.clear()
        login = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": token})
        page = client.get(f"/staff/registry/persons/{number}").text
        if purpose is None:
            return page
        # The purpose is stated by the page's POST form, with its CSRF token (never by a link).
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return client.post(f"/staff/registry/persons/{number}", data={"purpose": purpose, "csrf_token": token}).text

    inspector = page_as("inspector", purpose="监察")
    assert "孙**" in inspector and "当前角色不能查看明文" in inspector
    clerk = page_as("clerk")
    assert "孙**" in clerk and "查看明文" in clerk
    assert "孙页面" in page_as("clerk", purpose="窗口核验")


def test_the_record_and_compare_pages_name_departments_not_codes(client, as_role):
    import re

    from tongban import demo

    number = register_person(client, as_role("steward"), name="孙部门")
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD, "csrf_token": token})
    for path, params in ((f"/staff/registry/persons/{number}", None),
                         (f"/staff/registry/persons/{number}/compare", {"a": 1, "b": 1})):
        page = client.get(path, params=params)
        assert page.status_code == 200, page.text
        main = page.text.split("<main", 1)[1]
        assert "公安分局" in main and "PD-GA" not in main, path  # the steward's department, by its name
