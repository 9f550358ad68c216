"""Usage figures from calls made through the real exchange API: counts per department × resource
and outcome, calls per Beijing day, grants nobody uses, and each provider seeing only its own."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from helpers import assert_problem, bearer, fresh_resident_id, register_person

from tongban import demo
from tongban.app import create_app
from tongban.exchange.models import ExchangeCall
from tongban.core import clock

PURPOSE = "低保审核：核对申请人户籍"


def _client_headers(client, client_id: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": demo.DEMO_CLIENT_SECRET})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def fresh_client(fresh_database) -> Iterator[TestClient]:
    """An app on a database no other test writes to, so every figure can be exact."""
    with TestClient(create_app(fresh_database.settings)) as client:
        yield client


def _usage(client, headers, **query) -> dict:
    response = client.get("/api/v1/exchange-usage", headers=headers, params=query)
    assert response.status_code == 200, response.text
    return response.json()


def test_usage_counts_each_call_and_finds_the_unused_grant(fresh_client):
    client = fresh_client
    steward, admin = bearer(client, "steward"), bearer(client, "admin")
    # The demo's one-window platform (电子政务办) holds grants nobody has used yet in a new district:
    # listed as unused; revoked here by their providers so the rest sees only this test's grants.
    # So are 公安分局's grants on the grid's layers (城运中心's, revoked by the e-government office).
    demo_grants = client.get("/api/v1/sharing/grants", headers=admin).json()["items"]
    platform = [g for g in demo_grants if g["department"] == "PD-EGOV"]
    layers = [g for g in demo_grants if g["resource"].startswith("GRID-")]
    assert platform and layers
    assert {g["id"] for g in platform + layers} <= {g["id"] for g in _usage(client, admin)["unused_grants"]}
    providers = {"persons": steward, "legal-entities": bearer(client, "steward.scjg")}
    for grant in platform + layers:
        assert client.post(f"/api/v1/sharing/grants/{grant['id']}/revoke", headers=providers.get(grant["resource"], admin),
                           json={"reason": "测试前撤销"}).status_code == 200
    number = register_person(client, steward)
    absent = fresh_resident_id()
    mz = _client_headers(client, demo.MZ_CLIENT_ID)  # 民政局: the demo request granted it 性别、居住状态、婚姻状况
    ga = _client_headers(client, demo.CLIENT_ID)  # 公安分局: the provider of persons

    # 民政局 × persons: 2 successful (1 + 3 keys), 1 not found, 1 denied (姓名 is still pending), 1 invalid (no purpose).
    record = f"/api/v1/exchange/persons/records/{number}"
    assert client.get(record, headers=mz, params={"purpose": PURPOSE, "items": "gender,residence_status"}).status_code == 200
    answer = client.post("/api/v1/exchange/persons/query", headers=mz,
                         json={"keys": [number, absent, fresh_resident_id()], "items": ["gender"], "purpose": PURPOSE})
    assert answer.status_code == 200, answer.text
    assert_problem(client.get(f"/api/v1/exchange/persons/records/{absent}", headers=mz, params={"purpose": PURPOSE}),
                   404, "not-found")
    assert_problem(client.get(record, headers=mz, params={"purpose": PURPOSE, "items": "name"}), 403, "item-not-granted")
    assert_problem(client.get(record, headers=mz), 422, "purpose-required")
    # 公安分局 reads its own resource: no grant needed, still a call.
    assert client.get(record, headers=ga, params={"purpose": "户籍核查"}).status_code == 200

    # 公安分局 asks for 民政局's dataset: its unconditional items are granted at once, and never used.
    asked = client.post("/api/v1/sharing/requests", headers=steward, json={
        "resource": "PD-MZ-DIBAO", "items": ["household_size", "status"], "duty": "户籍迁移时核对低保状态",
        "basis": "《社会救助暂行办法》", "purpose": "户籍业务核对", "valid_from": clock.today().isoformat(),
        "valid_to": (clock.today() + timedelta(days=90)).isoformat()})
    assert asked.status_code == 201, asked.text
    grants = client.get("/api/v1/sharing/grants", headers=steward).json()["items"]
    unused_id = next(g["id"] for g in grants if g["resource"] == "PD-MZ-DIBAO" and g["department"] == "PD-GA")
    used_id = next(g["id"] for g in client.get("/api/v1/sharing/grants", headers=bearer(client, "steward.mz")).json()["items"]
                   if g["resource"] == "persons" and g["department"] == "PD-MZ")

    everything = _usage(client, admin)
    today = clock.today()
    assert everything["scope"] == "all"
    assert (everything["from"], everything["to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    assert everything["by_department_resource"] == [
        {"department": "PD-MZ", "department_name": "民政局", "resource": "persons", "resource_name": "人口基础信息",
         "calls": 5, "ok": 2, "not_found": 1, "denied": 1, "invalid": 1, "failed": 0, "keys": 7},
        {"department": "PD-GA", "department_name": "公安分局", "resource": "persons", "resource_name": "人口基础信息",
         "calls": 1, "ok": 1, "not_found": 0, "denied": 0, "invalid": 0, "failed": 0, "keys": 1},
    ]
    assert everything["totals"] == {"calls": 6, "ok": 3, "not_found": 1, "denied": 1, "invalid": 1, "failed": 0, "keys": 8}
    assert [(d["department"], d["calls"], d["ok"]) for d in everything["by_department"]] == [("PD-MZ", 5, 2), ("PD-GA", 1, 1)]
    assert len(everything["per_day"]) == 30
    assert everything["per_day"][-1] == {"day": today.isoformat(), "calls": 6, "ok": 3}
    assert sum(d["calls"] for d in everything["per_day"][:-1]) == 0
    unused = everything["unused_grants"]
    assert [g["id"] for g in unused] == [unused_id]  # 民政局's persons grant was used, so it is not listed
    assert unused[0]["department"] == "PD-GA" and unused[0]["items"] == ["household_size", "status"]
    assert used_id not in [g["id"] for g in unused]

    # Filters: one calling department, one resource.
    only_ga = _usage(client, admin, department="PD-GA")
    assert [(r["department"], r["calls"]) for r in only_ga["by_department_resource"]] == [("PD-GA", 1)]
    assert [g["id"] for g in only_ga["unused_grants"]] == [unused_id]
    assert _usage(client, admin, resource="PD-MZ-DIBAO")["totals"]["calls"] == 0

    # Scope: 公安分局 sees the use of persons (its resource), not who holds 民政局's dataset.
    provider = _usage(client, steward)
    assert provider["scope"] == "department"
    assert provider["totals"]["calls"] == 6 and provider["unused_grants"] == []
    assert_problem(client.get("/api/v1/exchange-usage", headers=steward, params={"resource": "PD-MZ-DIBAO"}),
                   403, "department-scope")
    # 民政局 provides the dataset: no calls to it yet, and the grant it gave sits unused.
    dataset_provider = _usage(client, bearer(client, "steward.mz"))
    assert dataset_provider["totals"]["calls"] == 0 and dataset_provider["by_department_resource"] == []
    assert [g["id"] for g in dataset_provider["unused_grants"]] == [unused_id]
    # 人社局 provides nothing here; 监察委 inspects everything.
    assert _usage(client, bearer(client, "head"))["totals"]["calls"] == 0
    assert _usage(client, bearer(client, "inspector"))["totals"]["calls"] == 6
    assert_problem(client.get("/api/v1/exchange-usage", headers=bearer(client, "clerk")), 403, "permission-denied")

    # A successful call naming the grant makes it used, but only within the period that contains the call.
    sessions = client.app.state.sessionmaker
    with sessions() as db:
        db.add(ExchangeCall(at=clock.now() - timedelta(days=40), client_id=demo.CLIENT_ID, actor_name="测试",
                            department_code="PD-GA", resource_code="PD-MZ-DIBAO", operation="record", keys_count=1,
                            items=json.dumps(["status"]), purpose="测试", outcome="ok", grant_ids=json.dumps([unused_id])))
        db.commit()
    assert [g["id"] for g in _usage(client, admin)["unused_grants"]] == [unused_id]
    longer = _usage(client, admin, **{"from": (today - timedelta(days=45)).isoformat()})
    assert longer["unused_grants"] == [] and longer["totals"]["calls"] == 7 and len(longer["per_day"]) == 46

    # A revoked grant is no longer in force, used or not.
    revoked = client.post(f"/api/v1/sharing/grants/{unused_id}/revoke", headers=bearer(client, "steward.mz"),
                          json={"reason": "测试撤销"})
    assert revoked.status_code == 200, revoked.text
    assert _usage(client, admin)["unused_grants"] == []


def test_days_are_beijing_days(client, db, as_role):
    """23:59 and 00:00 Beijing time fall on different days, whatever the database engine."""
    code = f"usage-{secrets.token_hex(4)}"  # a resource of its own: other tests' calls cannot mix in
    for moment in ("2025-02-28T16:00:00", "2025-03-01T15:59:59", "2025-03-01T16:00:00"):  # UTC
        db.add(ExchangeCall(at=datetime.fromisoformat(moment).replace(tzinfo=UTC), client_id=None, actor_name="测试",
                            department_code="PD-GA", resource_code=code, operation="record", keys_count=2,
                            items="[]", purpose="测试", outcome="denied", grant_ids=None))
    db.commit()
    admin = as_role("admin")
    both = _usage(client, admin, **{"from": "2025-03-01", "to": "2025-03-02"}, resource=code)
    assert both["per_day"] == [{"day": "2025-03-01", "calls": 2, "ok": 0}, {"day": "2025-03-02", "calls": 1, "ok": 0}]
    assert both["by_department_resource"][0]["resource_name"] == code  # not in the catalog: named by its code
    assert both["by_department_resource"][0]["denied"] == 3 and both["totals"]["keys"] == 6
    second = _usage(client, admin, **{"from": "2025-03-02", "to": "2025-03-02"}, resource=code)
    assert second["totals"]["calls"] == 1
    # A department-scoped reader cannot name a resource that is not in the catalog.
    assert_problem(client.get("/api/v1/exchange-usage", headers=as_role("steward"), params={"resource": code}),
                   404, "unknown-resource")


def test_the_default_period_ends_on_the_districts_one_clock(quiet_client, fixed_clock):
    fixed_clock.set(date(2026, 3, 2))
    usage = _usage(quiet_client, bearer(quiet_client, "admin"))
    assert (usage["from"], usage["to"]) == ("2026-02-01", "2026-03-02")


def test_period_must_make_sense(client, as_role):
    admin = as_role("admin")
    body = assert_problem(client.get("/api/v1/exchange-usage", headers=admin,
                                     params={"from": "2025-03-02", "to": "2025-03-01"}), 422, "validation-error")
    assert body["errors"][0]["code"] == "invalid_period"
    body = assert_problem(client.get("/api/v1/exchange-usage", headers=admin,
                                     params={"from": "2024-01-01", "to": "2025-03-01"}), 422, "validation-error")
    assert body["errors"][0]["code"] == "period_too_long"
    assert_problem(client.get("/api/v1/exchange-usage", headers=admin, params={"from": "yesterday"}), 422,
                   "validation-error")
    assert_problem(client.get("/api/v1/exchange-usage", headers=admin, params={"department": "PD-NOPE"}), 404, "not-found")


def test_a_period_at_the_ends_of_the_calendar_is_refused_not_a_500(client, as_role):
    # Found by tests/security/test_api_fuzz.py: the default start (29 days before 0001-01-01) and
    # the day after 9999-12-31 are no dates, and computing them was an OverflowError.
    admin = as_role("admin")
    for params in ({"to": "0001-01-01"}, {"from": "9999-12-31", "to": "9999-12-31"}, {"from": "0001-01-01"}):
        body = assert_problem(client.get("/api/v1/exchange-usage", headers=admin, params=params), 422, "validation-error")
        assert body["errors"][0]["code"] == "out_of_range", params
    assert client.get("/api/v1/exchange-usage", headers=admin, params={"to": "9999-12-30"}).status_code == 200


def test_a_call_logged_just_before_shutdown_is_written_when_the_app_stops(fresh_database):
    """The usage log's loop is stopped with the app's lifespan, writing what it still held: a row
    queued as the server shuts down is in the database afterwards, and no writer thread is left."""
    from tongban.core.auth import principal_for
    from tongban.exchange.service import Call

    app = create_app(fresh_database.settings)
    marker = f"停机前-{secrets.token_hex(4)}"
    with TestClient(app) as client:
        log = app.state.usage_log
        with TestClient(app):  # a second client of the same app, ended first: the log goes on
            pass
        assert log.running
        caller = principal_for(actor_type="client", actor_id=demo.MZ_CLIENT_ID, actor_name="民政局", kind="system",
                               department=None, roles=[])

        async def queue_call() -> asyncio.Task:
            # Queued on the app's own loop and not awaited: the lifespan ends right after.
            task = asyncio.create_task(log.write(Call(caller, "persons", "record", marker, keys_count=1)))
            await asyncio.sleep(0)  # the row is queued at the task's first step
            return task

        pending = client.portal.call(queue_call)
    assert not log.running
    assert pending.done() and pending.exception() is None  # the caller was told its row is committed
    with app.state.sessionmaker() as db:
        rows = db.query(ExchangeCall).filter(ExchangeCall.purpose == marker).all()
    assert [(row.resource_code, row.operation, row.keys_count) for row in rows] == [("persons", "record", 1)]
