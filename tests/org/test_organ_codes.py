"""Departments' organ codes (机构标识): registered with a department, checked, and what service items'
实施编码 start with (``org.service.implementation_prefixes``); migration 0020 adds and removes them."""

from __future__ import annotations

import json

import pytest
from conftest import downgrade
from fastapi.testclient import TestClient
from helpers import assert_problem, bearer
from sqlalchemy import inspect, text

from tongban.app import create_app
from tongban.core import migrate
from tongban.demo.district import DISTRICT_DEPARTMENTS, ORGAN_CODES, ensure_department, implementation_prefixes
from tongban.org.schemas import Level
from tongban.org import service as org


def test_the_demo_districts_departments_give_the_prefixes_of_their_items(db):
    prefixes = org.implementation_prefixes(db)
    assert prefixes == implementation_prefixes()
    assert prefixes["PD-SCJG"] == "11310115MB2F1177"  # 机关, 浦东新区, 市场监管局's organ code
    assert set(prefixes) == set(ORGAN_CODES)
    assert "PD-EGOV" not in prefixes and "PD-LJZ" not in prefixes  # implements no service items


@pytest.fixture
def own_client(fresh_database):
    """A client of its own database: the department registered here is nobody else's."""
    with TestClient(create_app(fresh_database.settings)) as client:
        yield client


def test_a_department_is_registered_with_its_organ_code(own_client):
    admin = bearer(own_client, "admin")
    body = {"code": "PD-XFJ", "name": "浦东新区信访办公室", "short_name": "信访办", "level": "district",
            "division_code": "310115", "parent_code": "PD"}
    for bad in ("mb2f0001", "MB2F001", "MB2F00011", "MB2F-001"):
        problem = assert_problem(own_client.post("/api/v1/departments", json={**body, "organ_code": bad}, headers=admin),
                                 422, "validation-error")
        assert problem["errors"] == [{"field": "body.organ_code", "code": "invalid_organ_code",
                                      "message": "机构标识应为 8 位数字或大写字母"}], bad
    created = own_client.post("/api/v1/departments", json={**body, "organ_code": "MB2F0001"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["organ_code"] == "MB2F0001"
    assert own_client.get("/api/v1/departments/PD-XFJ").json()["organ_code"] == "MB2F0001"
    with own_client.app.state.sessionmaker() as session:
        assert org.implementation_prefixes(session)["PD-XFJ"] == "11310115MB2F0001"
    unnumbered = own_client.post("/api/v1/departments", json={**body, "code": "PD-XFJ2"}, headers=admin)
    assert unnumbered.status_code == 201 and unnumbered.json()["organ_code"] is None


def test_the_demo_set_up_fills_in_the_organ_codes_of_a_database_migrated_without_them(own_client):
    with own_client.app.state.sessionmaker() as session:
        session.execute(text("UPDATE departments SET organ_code = NULL"))
        assert org.implementation_prefixes(session) == {}
        for code, name, short in DISTRICT_DEPARTMENTS:
            ensure_department(session, code, name, short, Level.DISTRICT, "310115", "PD")
        assert org.implementation_prefixes(session) == implementation_prefixes()
        session.rollback()


def test_0020_adds_the_organ_code_and_takes_it_away_again(empty_engine):
    engine = empty_engine
    migrate.upgrade(engine, "0019")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO departments (id, code, name, short_name, level, division_code) "
                                "VALUES (1, 'M1', '迁移一局', '迁移一局', 'district', '310115')"))
    migrate.upgrade(engine, "0020")
    assert "organ_code" in {c["name"] for c in inspect(engine).get_columns("departments")}
    with engine.begin() as connection:
        assert connection.execute(text("SELECT organ_code FROM departments")).scalar_one() is None
        connection.execute(text("UPDATE departments SET organ_code = 'MB2F0001'"))
    downgrade(engine, "0019")
    assert "organ_code" not in {c["name"] for c in inspect(engine).get_columns("departments")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT code, name FROM departments")).all() == [("M1", "迁移一局")]
    migrate.upgrade(engine, "0020")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT code, organ_code FROM departments")).all() == [("M1", None)]


def _signed_in(client: TestClient, username: str) -> str:
    """Signed in through the login form; the CSRF token of the staff pages."""
    from helpers import csrf_of

    from tongban import demo

    client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                "csrf_token": csrf_of(client.get("/login").text)}, follow_redirects=False)
    return csrf_of(client.get("/staff").text)


def test_the_office_changes_an_organ_code_through_the_api_and_every_change_is_audited(own_client):
    from tongban.core.audit import AuditEvent

    admin = bearer(own_client, "admin")
    changed = own_client.patch("/api/v1/departments/PD-EGOV", json={"organ_code": "MB2F0777", "phone": "021-58880000"},
                               headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["organ_code"] == "MB2F0777" and changed.json()["phone"] == "021-58880000"
    with own_client.app.state.sessionmaker() as session:
        assert org.implementation_prefixes(session)["PD-EGOV"] == "11310115MB2F0777"
        event = session.query(AuditEvent).filter_by(action="departments.update", object_id="PD-EGOV").one()
        assert json.loads(event.details)["organ_code"] == {"from": None, "to": "MB2F0777"}
    # Left out: unchanged. Taken by another department, malformed, unknown fields, unknown department,
    # not the office: refused, nothing changed.
    assert own_client.patch("/api/v1/departments/PD-EGOV", json={"address": "世纪大道2001号"},
                            headers=admin).json()["organ_code"] == "MB2F0777"
    taken = own_client.patch("/api/v1/departments/PD-EGOV", json={"organ_code": ORGAN_CODES["PD-SCJG"]}, headers=admin)
    assert "市场监督管理局" in assert_problem(taken, 409, "conflict")["detail"]
    assert_problem(own_client.patch("/api/v1/departments/PD-EGOV", json={"organ_code": "mb2f0777x"}, headers=admin),
                   422, "validation-error")
    assert_problem(own_client.patch("/api/v1/departments/PD-EGOV", json={"name": "改名"}, headers=admin),
                   422, "validation-error")
    assert_problem(own_client.patch("/api/v1/departments/NO-SUCH", json={"phone": "1"}, headers=admin), 404, "not-found")
    clerk = bearer(own_client, "clerk")
    assert own_client.patch("/api/v1/departments/PD-EGOV", json={"organ_code": None}, headers=clerk).status_code == 403
    assert own_client.patch("/api/v1/departments/PD-EGOV", json={"organ_code": None}).status_code == 401
    assert own_client.get("/api/v1/departments/PD-EGOV").json()["organ_code"] == "MB2F0777"
    # null takes the code away: the department implements no service items any more.
    cleared = own_client.patch("/api/v1/departments/PD-EGOV", json={"organ_code": None}, headers=admin)
    assert cleared.json()["organ_code"] is None
    with own_client.app.state.sessionmaker() as session:
        assert "PD-EGOV" not in org.implementation_prefixes(session)


def test_the_office_keeps_organ_codes_on_its_page(own_client):
    token = _signed_in(own_client, "admin")
    assert "/staff/organisation" in own_client.get("/staff").text  # on the workbench
    page = own_client.get("/staff/organisation")
    assert page.status_code == 200 and "机构标识" in page.text and "浦东新区市场监督管理局" in page.text
    assert "11310115MB2F1177" in page.text  # 市场监管局's 实施编码 prefix shown
    saved = own_client.post("/staff/organisation/PD-EGOV", data={"csrf_token": token, "organ_code": "mb2f0888",
                                                                 "phone": "021-58881111", "address": ""},
                            follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/staff/organisation#dept-PD-EGOV"
    assert own_client.get("/api/v1/departments/PD-EGOV").json()["organ_code"] == "MB2F0888"  # typed in lower case
    bad = own_client.post("/staff/organisation/PD-EGOV", data={"csrf_token": token, "organ_code": "MB2F"})
    assert bad.status_code == 422 and "机构标识应为 8 位数字或大写字母" in bad.text
    taken = own_client.post("/staff/organisation/PD-EGOV", data={"csrf_token": token, "organ_code": ORGAN_CODES["PD-MZ"]})
    assert taken.status_code == 409 and "浦东新区民政局" in taken.text
    forged = own_client.post("/staff/organisation/PD-EGOV", data={"csrf_token": "forged", "organ_code": ""})
    assert forged.status_code == 403
    assert own_client.get("/api/v1/departments/PD-EGOV").json()["organ_code"] == "MB2F0888"
    clerk = TestClient(own_client.app)
    _signed_in(clerk, "clerk")
    assert clerk.get("/staff/organisation").status_code == 403


def test_the_e_government_office_is_a_department_marked_as_such(own_client):
    admin = bearer(own_client, "admin")
    with own_client.app.state.sessionmaker() as session:
        assert org.egov_office(session).code == "PD-EGOV"
    assert own_client.get("/api/v1/departments/PD-EGOV").json()["office"] == "egov"
    # One office: another department cannot be it too while PD-EGOV is.
    taken = own_client.patch("/api/v1/departments/PD-MZ", json={"office": "egov"}, headers=admin)
    assert "电子政务办公室" in assert_problem(taken, 409, "conflict")["detail"]
    assert_problem(own_client.patch("/api/v1/departments/PD-MZ", json={"office": "mayor"}, headers=admin),
                   422, "validation-error")
    # Moved: the mark leaves one and goes to the other; general consultations follow it.
    assert own_client.patch("/api/v1/departments/PD-EGOV", json={"office": None}, headers=admin).json()["office"] is None
    with own_client.app.state.sessionmaker() as session:
        with pytest.raises(Exception, match="尚未指定电子政务办"):
            org.egov_office(session)
    assert own_client.patch("/api/v1/departments/PD-MZ", json={"office": "egov"}, headers=admin).json()["office"] == "egov"
    with own_client.app.state.sessionmaker() as session:
        assert org.egov_office(session).code == "PD-MZ"


def test_0021_marks_the_department_of_the_e_government_administrators(empty_engine):
    engine = empty_engine
    migrate.upgrade(engine, "0020")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO departments (id, code, name, short_name, level, division_code) VALUES "
                                "(1, 'A1', '甲局', '甲局', 'district', '310115'), (2, 'B2', '乙办', '乙办', 'district', '310115')"))
        columns = {c["name"] for c in inspect(engine).get_columns("users")}
        values = {"id": 7, "username": "zhou", "display_name": "周", "department_id": 2, "is_active": True,
                  "password_hash": "x", "kind": "staff", "created_at": "2026-01-01 00:00:00+00:00", "token_version": 0}
        row = {k: v for k, v in values.items() if k in columns}
        connection.execute(text(f"INSERT INTO users ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)
        connection.execute(text("INSERT INTO user_roles (user_id, role) VALUES (7, 'egov_admin')"))
    migrate.upgrade(engine, "0021")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT code, office FROM departments ORDER BY id")).all() == [("A1", None),
                                                                                                    ("B2", "egov")]
    downgrade(engine, "0020")
    assert "office" not in {c["name"] for c in inspect(engine).get_columns("departments")}
