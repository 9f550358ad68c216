"""The exchange answers only granted items: by key, in batches and in the change feed, whatever
the grants, the items asked for, the keys and the errors. Revocation counts from the next call."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime, timedelta, timezone

from helpers import assert_problem, bearer, register_person, resident_id
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete, event, select, update

from tongban import demo
from tongban.catalog import service as catalog
from tongban.core.events import OutboxEvent
from tongban.exchange.models import ExchangeCall
from tongban.org import service as org
from tongban.registry.models import TABLES
from tongban.sharing.models import Grant
from tongban.core import clock
from tongban.exchange.schemas import ChangesAnswer, QueryAnswer, RecordAnswer

RESOURCE = "PD-MZ-DIBAO"  # 民政局's dataset; 公安's system (PD-GA) is the reader under test
ITEMS = ["id_number", "name", "household_size", "monthly_amount", "start_date", "status", "case_notes"]
TODAY = clock.today()


def _client_headers(client, client_id: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                       "client_secret": demo.DEMO_CLIENT_SECRET})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _records(client, as_role) -> list[dict[str, str]]:
    """Records with values found nowhere else (none inside another), so a leaked value cannot hide."""
    tag = secrets.token_hex(3).upper()
    records = []
    for index in range(4):
        records.append({"id_number": resident_id(birth=f"19{60 + index}0101", seq=700 + index), "name": f"姓{tag}{index}名",
                        "household_size": str(index + 2), "monthly_amount": f"{1510 + index}.50",
                        "start_date": f"2024-0{index + 1}-01", "status": f"在保{index}-{tag}",
                        "case_notes": f"明细{index}#{tag}：存款{index}万元"})
    response = client.put(f"/api/v1/catalog/resources/{RESOURCE}/records", headers=as_role("steward.mz"),
                          json={"records": records})
    assert response.status_code == 200, response.text
    return records


def _set_grant(sessions, items: list[str], *, state: str) -> None:
    """Replace PD-GA's grants on the dataset by one grant in ``state`` (active | expired | revoked | none)."""
    with sessions() as db:
        resource = catalog.get(db, RESOURCE)
        ga = org.get_by_code(db, "PD-GA")
        db.execute(delete(Grant).where(Grant.department_id == ga.id, Grant.resource_id == resource.id))
        if state != "none":
            valid_to = TODAY - timedelta(days=1) if state == "expired" else TODAY + timedelta(days=30)
            db.add(Grant(department_id=ga.id, resource_id=resource.id, items=json.dumps(items), purpose="测试",
                         valid_from=TODAY - timedelta(days=60), valid_to=valid_to, granted_by="provider",
                         created_at=clock.now(), revoked_at=clock.now() if state == "revoked" else None))
        db.commit()


def _drain(app) -> None:
    """Wait until the relay has given every event its feed position."""
    for _ in range(200):
        with app.state.sessionmaker() as db:
            waiting = db.scalar(select(OutboxEvent.id).where(OutboxEvent.position.is_(None)).limit(1))
            db.rollback()
        if waiting is None:
            return
        if app.state.relay is not None:
            app.state.relay.run_once()
        time.sleep(0.02)
    raise AssertionError("the relay did not publish the events")


def _leaks(text: str, records: list[dict[str, str]], granted: set[str], sent: list[str]) -> list[str]:
    """Values of ungranted items (of the test's records) that appear in an answer; the keys the
    caller sent itself are not news to it."""
    granted_values = {r[i] for r in records for i in granted} | set(sent)
    return [f"{item}={r[item]}" for r in records for item in ITEMS
            if item not in granted and r[item] not in granted_values and len(r[item]) >= 4 and r[item] in text]


item_sets = st.sets(st.sampled_from(ITEMS))
requested_sets = st.one_of(st.none(), st.lists(st.sampled_from([*ITEMS, "shoe_size"]), min_size=1, max_size=4, unique=True))


def test_no_combination_answers_an_ungranted_item(app, client, as_role):
    records = _records(client, as_role)
    headers = _client_headers(client, demo.CLIENT_ID)  # 公安's population system
    _drain(app)
    sessions = app.state.sessionmaker
    keys = [r["id_number"] for r in records]

    @settings(max_examples=70, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(granted=item_sets, state=st.sampled_from(["active", "active", "active", "expired", "revoked", "none"]),
           requested=requested_sets, operation=st.sampled_from(["record", "query", "changes"]),
           key_choice=st.lists(st.sampled_from([*keys, "310115199001011234", "not-a-key", "1" * 80]),
                               min_size=1, max_size=5))
    def check(granted, state, requested, operation, key_choice):
        _set_grant(sessions, sorted(granted), state=state)
        params = {"purpose": "核对户籍人员低保状态"}
        if requested is not None:
            params["items"] = ",".join(requested)
        if operation == "record":
            response = client.get(f"/api/v1/exchange/{RESOURCE}/records/{key_choice[0]}", params=params, headers=headers)
        elif operation == "query":
            response = client.post(f"/api/v1/exchange/{RESOURCE}/query", headers=headers,
                                   json={"keys": key_choice, "items": requested, "purpose": params["purpose"]})
        else:
            response = client.get(f"/api/v1/exchange/{RESOURCE}/changes", params=params, headers=headers)
        effective = granted if state == "active" else set()
        sent = [] if operation == "changes" else key_choice[:1] if operation == "record" else key_choice
        assert not _leaks(response.text, records, effective, sent), (response.text, granted, state)
        body = response.json()
        if response.status_code != 200:
            assert response.headers["content-type"].startswith("application/problem+json")
            if state != "active":
                assert body["type"] in ("/problems/no-grant", "/problems/grant-expired", "/problems/unknown-item")
            return
        assert state == "active"
        answered = [body] if operation == "record" else body.get("records", body.get("changes", []))
        for entry in answered:
            assert set(entry["items"]) <= granted, (entry, granted)
            if requested is not None:
                assert set(entry["items"]) <= set(requested)

    check()


def test_revocation_takes_effect_on_the_next_call(app, client, as_role):
    records = _records(client, as_role)
    key = records[0]["id_number"]
    _set_grant(app.state.sessionmaker, ["id_number", "status"], state="active")
    headers = _client_headers(client, demo.CLIENT_ID)
    url = f"/api/v1/exchange/{RESOURCE}/records/{key}"
    first = client.get(url, params={"purpose": "核对"}, headers=headers)
    assert first.status_code == 200 and first.json()["items"] == {"id_number": key, "status": records[0]["status"]}
    with app.state.sessionmaker() as db:
        grant_id = db.scalar(select(Grant.id).where(Grant.resource_id == catalog.get(db, RESOURCE).id,
                                                    Grant.department_id == org.get_by_code(db, "PD-GA").id))
    revoked = client.post(f"/api/v1/sharing/grants/{grant_id}/revoke", headers=as_role("steward.mz"),
                          json={"reason": "用途已结束"})
    assert revoked.status_code == 200, revoked.text
    body = assert_problem(client.get(url, params={"purpose": "核对"}, headers=headers), 403, "grant-expired")
    assert records[0]["status"] not in json.dumps(body, ensure_ascii=False)


def test_a_grant_kept_between_calls_still_ends_on_its_last_day(app, client, as_role):
    """The exchange keeps the resource and the grants between calls (until the catalog or a grant
    changes); whether a grant is in force is judged on each call's own date."""
    from tongban.accounts import service as accounts
    from tongban.accounts.models import ApiClient
    from tongban.exchange import service as exchange

    _set_grant(app.state.sessionmaker, ["id_number", "status"], state="active")
    with app.state.sessionmaker() as db:
        ga_system = accounts.load_principal(
            db, f"client:{db.scalar(select(ApiClient.id).where(ApiClient.client_id == demo.CLIENT_ID))}")
        last_day = db.scalar(select(Grant.valid_to).where(Grant.resource_id == catalog.get(db, RESOURCE).id,
                                                          Grant.department_id == ga_system.department_id))
        assert exchange.authorize(db, ga_system, RESOURCE, ["status"], today=last_day).items == ["status"]
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(app.state.engine, "before_cursor_execute", listen)
        try:
            problem = None
            try:
                exchange.authorize(db, ga_system, RESOURCE, ["status"], today=last_day + timedelta(days=1))
            except Exception as error:
                problem = error
        finally:
            event.remove(app.state.engine, "before_cursor_execute", listen)
        assert getattr(problem, "slug", None) == "grant-expired", problem
        assert not [s for s in seen if "sharing_grants g ON" in s]  # judged on the grants kept, not read again
        db.rollback()


def test_bad_calls_get_clear_problems_and_are_logged(app, client, as_role):
    records = _records(client, as_role)
    _set_grant(app.state.sessionmaker, ["id_number", "status"], state="active")
    headers = _client_headers(client, demo.CLIENT_ID)
    key = records[0]["id_number"]
    purpose = {"purpose": "核对"}
    assert_problem(client.get(f"/api/v1/exchange/no-such/records/{key}", params=purpose, headers=headers), 404,
                   "unknown-resource")
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/records/{key}", params={**purpose, "items": "shoe_size"},
                              headers=headers), 422, "unknown-item")
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/records/{key}", params={**purpose, "items": "name"},
                              headers=headers), 403, "item-not-granted")
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/records/{key}", headers=headers), 422, "purpose-required")
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/records/{key}", params={"purpose": "  "}, headers=headers),
                   422, "purpose-required")
    too_many = [resident_id(seq=i % 1000, birth=f"{1950 + i // 1000}0101") for i in range(1001)]
    body = assert_problem(client.post(f"/api/v1/exchange/{RESOURCE}/query", headers=headers,
                                      json={"keys": too_many, **purpose}), 422, "too-many-keys")
    assert body["limit"] == 1000
    assert_problem(client.post("/api/v1/exchange/persons/query", headers=_client_headers(client, demo.MZ_CLIENT_ID),
                               json={"keys": ["310115199001011235"], **purpose}), 422, "validation-error")
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/changes", params={**purpose, "cursor": "abc"},
                              headers=headers), 422, "validation-error")
    _set_grant(app.state.sessionmaker, ["id_number", "status"], state="expired")
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/records/{key}", params=purpose, headers=headers), 403,
                   "grant-expired")
    _set_grant(app.state.sessionmaker, [], state="none")
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/records/{key}", params=purpose, headers=headers), 403,
                   "no-grant")
    # Staff without the exchange permission are refused before anything else.
    assert_problem(client.get(f"/api/v1/exchange/{RESOURCE}/records/{key}", params=purpose, headers=bearer(client, "clerk")),
                   403, "permission-denied")
    with app.state.sessionmaker() as db:
        calls = list(db.scalars(select(ExchangeCall).where(ExchangeCall.department_code == "PD-GA")
                                .order_by(ExchangeCall.id.desc()).limit(9)))
    # One usage row per call, refused or not (the clerk's call never reached the exchange).
    assert [c.outcome for c in reversed(calls)] == ["not_found", "invalid", "denied", "invalid", "invalid", "invalid",
                                                    "invalid", "denied", "denied"]
    assert all(c.purpose in ("核对", None) for c in calls)


def test_granted_reads_by_key_batch_and_feed(app, client, as_role):
    records = _records(client, as_role)
    _set_grant(app.state.sessionmaker, ["id_number", "household_size", "status"], state="active")
    headers = _client_headers(client, demo.CLIENT_ID)
    keys = [r["id_number"] for r in records]
    answer = client.post(f"/api/v1/exchange/{RESOURCE}/query", headers=headers,
                         json={"keys": [*keys, "110101199003074477"], "purpose": "核对"}).json()
    QueryAnswer.model_validate(answer)  # the answer is what the OpenAPI document says
    assert answer["missing"] == ["110101199003074477"]
    assert [r["items"] for r in answer["records"]] == [
        {"id_number": r["id_number"], "household_size": r["household_size"], "status": r["status"]} for r in records]
    # A change to a granted item appears in the feed with the values of that version.
    changed = {**records[1], "status": "停保"}
    client.put(f"/api/v1/catalog/resources/{RESOURCE}/records", headers=as_role("steward.mz"), json={"records": [changed]})
    _drain(app)
    feed, cursor = [], None
    while True:
        page = client.get(f"/api/v1/exchange/{RESOURCE}/changes", headers=headers,
                          params={"purpose": "同步低保状态", **({"cursor": cursor} if cursor else {})}).json()
        ChangesAnswer.model_validate(page)
        feed.extend(page["changes"])
        if page["next_cursor"] == (cursor or "0"):  # nothing after the cursor
            break
        cursor = page["next_cursor"]
    mine = [c for c in feed if c["key"] == records[1]["id_number"]]
    (before, after) = mine[-2:]  # the keys repeat across tests: versions count on
    assert (before["items"]["status"], after["items"]["status"], after["version"]) == (
        records[1]["status"], "停保", before["version"] + 1)
    assert mine[-1]["changed_items"] == ["status"]
    positions = [c["position"] for c in feed]
    assert positions == sorted(positions)


def test_a_registry_record_reads_the_same_by_key_and_in_a_batch(client, as_role):
    """Dates are answered as ISO text and times as ISO 8601 in UTC, whatever the engine keeps."""
    number = register_person(client, as_role("steward"), id_number=resident_id(birth="19870605", seq=431, region="310104"))
    headers = _client_headers(client, demo.CLIENT_ID)  # 公安's system: the provider reads its own registry
    params = {"purpose": "核对户籍", "items": "name,birth_date,household_address"}
    single = client.get(f"/api/v1/exchange/persons/records/{number}", params=params, headers=headers)
    assert single.status_code == 200, single.text
    batch = client.post("/api/v1/exchange/persons/query", headers=headers,
                        json={"keys": [number], "items": params["items"].split(","), "purpose": params["purpose"]})
    assert batch.status_code == 200, batch.text
    [record] = batch.json()["records"]
    one = single.json()
    RecordAnswer.model_validate(one)
    assert record["items"] == one["items"] == {"name": "测试人", "birth_date": "1987-06-05",
                                              "household_address": "上海市浦东新区花木路100弄1号101室"}
    assert record["updated_at"] == one["updated_at"]
    updated = datetime.fromisoformat(one["updated_at"])
    assert updated.utcoffset() == timedelta(0) and abs(clock.now() - updated) < timedelta(minutes=5)


def test_a_record_time_is_answered_as_isoformat_spells_it(client, as_role, db):
    """The time a registry keeps, with a fraction of a second and without, answers as
    ``datetime.isoformat`` in UTC on both engines (SQLite's stored text is turned, not parsed)."""
    number = register_person(client, as_role("steward"), id_number=resident_id(birth="19900101", seq=517, region="310104"))
    headers = _client_headers(client, demo.CLIENT_ID)
    table = TABLES["persons"]
    for when in (datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC), datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
                 datetime(2026, 3, 4, 13, 6, 7, 120000, tzinfo=timezone(timedelta(hours=8)))):
        db.execute(update(table).where(table.c.id_number == number).values(updated_at=when))
        db.commit()
        single = client.get(f"/api/v1/exchange/persons/records/{number}", params={"purpose": "核对户籍", "items": "name"},
                            headers=headers).json()
        batch = client.post("/api/v1/exchange/persons/query", headers=headers,
                            json={"keys": [number], "items": ["name"], "purpose": "核对户籍"}).json()
        assert single["updated_at"] == batch["records"][0]["updated_at"] == when.astimezone(UTC).isoformat()
