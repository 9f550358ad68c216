"""Property: for any caller (the demo accounts: staff of several departments and roles, citizen,
enterprise, department systems), any sharing grant (none, plain items only, personal items) and any
purpose (none, too short, valid), no API answer and no page among the registry, corrections,
exchange and task reads shows a personal value in clear unless the right, the grant and the
purpose allow it; and every answer that shows one has its log line: an audit entry of that request
with that purpose (the exchange: its usage row, its log of who read what and why).

The clear values are taken from the registry itself and looked for in the bodies, also inside any
base64 token (a cursor, a reference)."""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from helpers import bearer, enterprise_setup_in_review, register_person, resident_id, with_decoded_tokens
from hypothesis import HealthCheck, example, given, settings, strategies as st
from sqlalchemy import delete, func, select

from tongban import demo
from tongban.app import create_app
from tongban.cases.models import Application, CaseTask
from tongban.catalog import service as catalog
from tongban.core.audit import AuditEvent
from tongban.core.permissions import Permission, Role, grants_for

from tongban.exchange.models import ExchangeCall
from tongban.org import service as org
from tongban.registry import service as registry_service
from tongban.registry.schemas import PERSONS
from tongban.sharing.models import Grant
from tongban.core import clock

PERSONAL = [f.name for f in PERSONS.fields if f.personal]
# The callers: (account, kind, department) — users sign in with a password, systems with client credentials.
USERS = {"clerk": "PD-SCJG", "reviewer": "PD-SCJG", "reviewer.ga": "PD-GA", "reviewer.rs": "PD-RS", "steward": "PD-GA", "steward.mz": "PD-MZ",
         "head": "PD-RS", "admin": "PD-EGOV", "inspector": "PD-JCJ", "grid": "PD-WGZX", "hotline": "PD-WGZX",
         demo.CITIZEN.username: None, demo.ENTERPRISE.username: None}
SYSTEMS = {demo.MZ_CLIENT_ID: "PD-MZ", demo.CLIENT_ID: "PD-GA"}
GRANTS = {"none": None, "plain": ["id_number", "residence_status", "ethnicity"],
          "personal": ["id_number", "name", "phone", "household_address", "residence_status"]}
PURPOSES = ["none", "short", "valid"]


@pytest.fixture(scope="module")
def world(demo_template, tmp_path_factory):
    """A database of its own (the test changes 民政局's grants), its app, the people to look for."""
    from conftest import clone_demo_template

    own, cleanup = clone_demo_template(demo_template, tmp_path_factory.mktemp("personal-data"))
    app = create_app(own.settings)
    with TestClient(app) as client:
        yield app, client
    cleanup()


def _roles(db, account: str) -> set[Role]:
    from tongban.accounts import service as accounts

    if account in SYSTEMS:
        return {Role.DEPARTMENT_SYSTEM}
    user = accounts.get_by_username(db, account)
    return {Role(r) for r in accounts.load_principal(db, f"user:{user.id}").roles}


def _clear_values(db, key: str) -> dict[str, str]:
    row = registry_service.current_row(db, PERSONS, key)
    values, _ = registry_service.present(PERSONS, row, clear=True)
    return {name: values[name] for name in PERSONAL if values.get(name)}


def _set_grant(app, items: list[str] | None) -> None:
    with app.state.sessionmaker() as db:
        resource = catalog.get(db, "persons")
        mz = org.get_by_code(db, "PD-MZ")
        db.execute(delete(Grant).where(Grant.department_id == mz.id, Grant.resource_id == resource.id))
        if items is not None:
            db.add(Grant(department_id=mz.id, resource_id=resource.id, items=json.dumps(items), purpose="低保审核",
                         valid_from=clock.today() - timedelta(days=30), valid_to=clock.today() + timedelta(days=30),
                         granted_by="provider", created_at=clock.now()))
        db.commit()


def test_no_personal_value_in_clear_without_right_grant_and_purpose(world):
    app, client = world
    steward = bearer(client, "steward")
    marker = "慕容属性"
    people = []
    for i in range(2):
        number = resident_id(birth=f"1996061{i + 2}", seq=610 + i)
        register_person(client, steward, id_number=number, name=f"{marker}{i}号", phone=f"1380000{i:04d}",
                        household_address=f"上海市浦东新区属性路{i + 11}弄{i + 3}号{i + 501}室")
        people.append(number)
    # A correction on each, so the corrections lists show the people too (as a grid supervisor files them).
    grid = bearer(client, "grid")
    correction_ids = []
    for number in people:
        response = client.post(f"/api/v1/registries/persons/{number}/corrections", headers=grid,
                               json={"field": "phone", "proposed_value": "13912340000", "reason": "居民反映号码已变更"})
        assert response.status_code == 201, response.text
        correction_ids.append(response.json()["id"])
    # An application of the demo citizen with tasks open in several departments: the record a reviewer sees.
    enterprise_setup_in_review(client, lambda username: bearer(client, username))
    with app.state.sessionmaker() as db:
        clear = {number: _clear_values(db, number) for number in people}
        roles = {account: _roles(db, account) for account in [*USERS, *SYSTEMS]}
        tasks = {}
        for task, application in db.execute(
                select(CaseTask, Application).join(Application, Application.id == CaseTask.application_id)
                .where(Application.applicant_id == demo.CITIZEN.username, CaseTask.department_id.is_not(None))
                .order_by(CaseTask.id)):
            code = task.department.code
            # What the applicant wrote on the application is the case itself, shown to its reviewers.
            own_text = "\n".join([json.dumps(json.loads(application.form), ensure_ascii=False),
                                  json.dumps(json.loads(application.materials), ensure_ascii=False),
                                  application.applicant_id, application.applicant_name])
            tasks.setdefault(code, (task.id, own_text))
        citizen = _clear_values(db, demo.CITIZEN.username)
        db.rollback()
    headers = {account: bearer(client, account) for account in USERS}
    for client_id in SYSTEMS:
        token = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                        "client_secret": demo.DEMO_CLIENT_SECRET}).json()["access_token"]
        headers[client_id] = {"Authorization": f"Bearer {token}"}
    counter = itertools.count()
    seen = {"clear": 0, "masked": 0, "task": 0}  # both sides of the property are exercised, not only one

    def may(account: str, permission: Permission) -> bool:
        return permission in grants_for(roles[account])

    @settings(max_examples=36, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(account=st.sampled_from([*USERS, *SYSTEMS]), grant=st.sampled_from(list(GRANTS)),
           purpose_kind=st.sampled_from(PURPOSES), person=st.sampled_from([0, 1]))
    # The cases that must unmask, and their nearest neighbours that must not, always among the examples.
    @example(account="clerk", grant="none", purpose_kind="valid", person=0)
    @example(account="clerk", grant="none", purpose_kind="short", person=0)
    @example(account="reviewer", grant="none", purpose_kind="none", person=1)
    @example(account="head", grant="none", purpose_kind="valid", person=1)
    @example(account="reviewer.rs", grant="none", purpose_kind="none", person=0)
    @example(account=demo.MZ_CLIENT_ID, grant="personal", purpose_kind="valid", person=0)
    @example(account=demo.MZ_CLIENT_ID, grant="plain", purpose_kind="valid", person=0)
    @example(account="steward", grant="plain", purpose_kind="valid", person=1)
    @example(account="grid", grant="personal", purpose_kind="valid", person=1)
    def check(account, grant, purpose_kind, person):
        _set_grant(app, GRANTS[grant])
        n = next(counter)
        purpose = {"none": None, "short": "查", "valid": f"核对第{n}件"}[purpose_kind]
        valid = purpose_kind == "valid"
        key = people[person]
        auth = headers[account]
        department = USERS.get(account) or SYSTEMS.get(account)
        with_purpose = {"purpose": purpose} if purpose else {}
        reads = []  # (label, response, values that may show, values to look for, log: audit | usage | None)
        everything = {v for values in clear.values() for v in values.values()}
        registry_clear = may(account, Permission.REGISTRY_READ_PERSONAL) and valid

        def expect(label, response, allowed: bool, log: str = "audit", look_for=everything, shown_ok=None):
            reads.append((label, response, (shown_ok if shown_ok is not None else look_for) if allowed else set(),
                          look_for, log))

        client.cookies.clear()
        # The registry API, with a bearer token (a purpose on GET is theirs to give).
        expect("search", client.get("/api/v1/registries/persons", headers=auth, params={"name": marker, **with_purpose}),
               registry_clear)
        expect("read", client.get(f"/api/v1/registries/persons/{key}", headers=auth, params=with_purpose), registry_clear)
        expect("history", client.get(f"/api/v1/registries/persons/{key}/history", headers=auth, params=with_purpose),
               registry_clear)
        if purpose:
            expect("read by POST", client.post(f"/api/v1/registries/persons/{key}/reads", headers=auth,
                                               json={"purpose": purpose}), registry_clear)
        expect("corrections", client.get("/api/v1/registries/corrections", headers=auth, params=with_purpose),
               registry_clear)
        # The exchange: granted items only, and a personal one only under a grant that names it.
        exchange_items = (set(PERSONAL) if department == "PD-GA" else set(GRANTS[grant] or ()) & set(PERSONAL))
        exchange_ok = may(account, Permission.EXCHANGE_READ) and valid and (department == "PD-GA" or GRANTS[grant] is not None)
        echoed = set(clear[key].values()) - {key}  # the caller typed the key: its echo is not a disclosure
        shown = {clear[key][name] for name in exchange_items if name in clear[key]} - {key}
        expect("exchange record", client.get(f"/api/v1/exchange/persons/records/{key}", headers=auth, params=with_purpose),
               exchange_ok, log="usage", look_for=echoed, shown_ok=shown)
        expect("exchange query", client.post("/api/v1/exchange/persons/query", headers=auth,
                                             json={"keys": [key], "purpose": purpose}),
               exchange_ok, log="usage", look_for=echoed, shown_ok=shown)
        # The record a reviewer sees with a task: the case is the purpose, the role decides.
        task = tasks.get(department)
        if task and may(account, Permission.CASES_REVIEW):
            task_id, own_text = task
            citizen_values = {v for v in citizen.values() if v not in own_text}
            expect("task", client.get(f"/api/v1/tasks/{task_id}", headers=auth),
                   may(account, Permission.REGISTRY_READ_PERSONAL), look_for=citizen_values)
        # The pages, in a browser session: a link never unmasks, a POST form with its token may.
        if account in USERS and may(account, Permission.REGISTRY_READ):
            login = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
            client.post("/login", data={"username": account, "password": demo.DEMO_PASSWORD, "csrf_token": token})
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staff/registry").text).group(1)
            expect("record page by link", client.get(f"/staff/registry/persons/{key}", params=with_purpose), False)
            expect("API by cookie", client.get(f"/api/v1/registries/persons/{key}", params=with_purpose), False)
            expect("record page", client.post(f"/staff/registry/persons/{key}",
                                              data={"purpose": purpose or "", "csrf_token": csrf}), registry_clear)
            # The corrections list is masked whoever reads it; one request's page shows it in clear with a purpose.
            expect("corrections page", client.get("/staff/corrections"), False)
            expect("correction page", client.post(f"/staff/corrections/{correction_ids[person]}/reads",
                                                  data={"purpose": purpose or "", "csrf_token": csrf}), registry_clear)
            if task and may(account, Permission.CASES_REVIEW):
                expect("task page", client.get(f"/staff/tasks/{task[0]}"), may(account, Permission.REGISTRY_READ_PERSONAL),
                       look_for={v for v in citizen.values() if v not in task[1]})
            client.cookies.clear()

        with app.state.sessionmaker() as db:
            for label, response, allowed, look_for, log in reads:
                assert response.status_code < 500, (label, response.text)
                body = with_decoded_tokens(response.text)
                leaked = {value for value in look_for if value in body}
                assert leaked <= allowed, (account, grant, purpose, label, leaked - allowed)
                seen["clear" if leaked else "masked"] += 1
                seen["task"] += label.startswith("task")
                if not leaked:
                    continue
                if log == "audit":
                    entries = db.execute(select(AuditEvent.purpose, AuditEvent.details).where(
                        AuditEvent.request_id == response.headers["x-request-id"])).all()
                    assert any('"clear":true' in details and (entry_purpose == purpose or label.startswith("task"))
                               for entry_purpose, details in entries), (account, label, entries)
                else:
                    assert db.scalar(select(func.count()).select_from(ExchangeCall).where(
                        ExchangeCall.purpose == purpose, ExchangeCall.outcome == "ok")) >= 1, (account, label)
            db.rollback()

    check()
    assert seen["clear"] >= 8 and seen["masked"] >= 50 and seen["task"] >= 2, seen
