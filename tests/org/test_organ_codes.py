"""Departments' organ codes (机构标识): registered with a department, checked, and what service items'
实施编码 start with (``org.service.implementation_prefixes``); migration 0020 adds and removes them."""

from __future__ import annotations

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
