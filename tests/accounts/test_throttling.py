"""Throttling that slows an attacker without locking out the owner (finding 7): failures count
per (account, client address) and per address; the right secret from elsewhere still works."""

from __future__ import annotations

import json
import uuid

from helpers import assert_problem, bearer
from identity_helpers import client_from
from sqlalchemy import select

from tongban.core.audit import AuditEvent

PASSWORD = "correct-horse-battery"


def _new_staff(client) -> str:
    username = f"t{uuid.uuid4().hex[:10]}"
    response = client.post("/api/v1/users", headers=bearer(client, "admin"), json={
        "username": username, "display_name": "限速测试", "password": PASSWORD,
        "department_code": "PD-MZ", "roles": ["reviewer"]})
    assert response.status_code == 201, response.text
    return username


def _token(web, username, password):
    return web.post("/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password})


def test_an_attacker_does_not_lock_the_owner_out(client, app):
    settings = client.app.state.settings
    username = _new_staff(client)
    attacker = client_from(app)
    for _ in range(settings.login_max_failures):
        assert_problem(_token(attacker, username, "guessed-password"), 401, "invalid-credentials")
    refused = assert_problem(_token(attacker, username, PASSWORD), 429, "account-locked")
    assert "分钟" in refused["detail"]
    assert int(_token(attacker, username, PASSWORD).headers["retry-after"]) > 0
    owner = client_from(app)
    assert _token(owner, username, PASSWORD).status_code == 200


def test_an_attacker_does_not_lock_a_department_system_out(client, app):
    settings = client.app.state.settings
    created = client.post("/api/v1/clients", headers=bearer(client, "admin"),
                          json={"name": "民政局测试系统", "department_code": "PD-MZ"}).json()

    def ask(web, secret):
        return web.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                    "client_id": created["client_id"], "client_secret": secret})

    attacker = client_from(app)
    for _ in range(settings.login_max_failures):
        assert_problem(ask(attacker, "guessed-secret"), 401, "invalid-client")
    refused = ask(attacker, created["client_secret"])
    assert_problem(refused, 429, "account-locked")
    assert int(refused.headers["retry-after"]) > 0
    assert ask(client_from(app), created["client_secret"]).status_code == 200


def test_one_address_guessing_many_accounts_is_slowed(client, app):
    settings = client.app.state.settings
    username = _new_staff(client)
    attacker = client_from(app)
    for n in range(settings.address_max_failures):
        assert _token(attacker, f"nobody{n}", "guessed-password").status_code == 401
    refused = _token(attacker, username, PASSWORD)  # even a right guess waits
    assert_problem(refused, 429, "account-locked")
    assert int(refused.headers["retry-after"]) > 0
    assert _token(client_from(app), username, PASSWORD).status_code == 200


def test_the_sign_in_page_is_throttled_alike(client, app):
    import re

    settings = client.app.state.settings
    username = _new_staff(client)
    attacker = client_from(app)
    for _ in range(settings.login_max_failures):
        page = attacker.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        attacker.post("/login", data={"username": username, "password": "guessed", "csrf_token": token})
    page = attacker.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    refused = attacker.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert refused.status_code == 429 and "分钟后再试" in refused.text and int(refused.headers["retry-after"]) > 0
    assert _token(client_from(app), username, PASSWORD).status_code == 200


def test_every_attempt_is_audited(client, app, db):
    settings = client.app.state.settings
    username = _new_staff(client)
    attacker = client_from(app)
    for _ in range(settings.login_max_failures + 1):
        _token(attacker, username, "guessed-password")
    user_id = str(client.get("/api/v1/auth/me", headers=bearer(client_from(app), username, PASSWORD)).json()["id"])
    outcomes = db.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "auth.sign_in",
                                                           AuditEvent.object_id == user_id)).all()
    db.rollback()
    assert outcomes.count("failed") == settings.login_max_failures
    assert outcomes.count("denied") == 1 and outcomes.count("success") == 1


def test_addresses_of_one_ipv6_subscriber_count_as_one(client, app):
    """An IPv6 subscriber holds a whole /64 and may send each guess from another address in it:
    the throttle counts the /64, so the guesses still add up (another subscriber is not affected)."""
    import random

    settings = client.app.state.settings
    username = _new_staff(client)
    rng = random.SystemRandom()
    prefix = f"2001:db8:{rng.randint(1, 0xFFFF):x}:{rng.randint(1, 0xFFFF):x}"

    def from_prefix(host: int):
        return client_from(app, f"{prefix}::{host:x}")

    for n in range(settings.login_max_failures):
        assert_problem(_token(from_prefix(n + 1), username, "guessed-password"), 401, "invalid-credentials")
    assert_problem(_token(from_prefix(0xBEEF), username, PASSWORD), 429, "account-locked")
    assert _token(client_from(app, f"2001:db8:ffff:{rng.randint(1, 0xFFFF):x}::1"), username, PASSWORD).status_code == 200


def test_the_throttle_does_not_tell_which_names_have_an_account(client, app):
    """Guesses at a name no account has lock that name from the address as guesses at an account
    do (before, only a real account answered 429 after a few failures: an enumeration oracle), and
    an ID number counts under its one spelling (full-width digits, lower-case x) as it signs in."""
    from helpers import fresh_resident_id

    settings = client.app.state.settings
    answers = {}
    for name in (_new_staff(client), f"nobody{uuid.uuid4().hex[:8]}"):
        guesser = client_from(app)
        for _ in range(settings.login_max_failures):
            assert_problem(_token(guesser, name, "guessed-password"), 401, "invalid-credentials")
        answers[name] = _token(guesser, name, "guessed-password").status_code
    assert list(answers.values()) == [429, 429]
    number = fresh_resident_id()
    typed = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    guesser = client_from(app)
    for _ in range(settings.login_max_failures):
        assert_problem(_token(guesser, typed, "guessed-password"), 401, "invalid-credentials")
    assert_problem(_token(guesser, number, "guessed-password"), 429, "account-locked")


def _rows_holding(db, text: str) -> list:
    from tongban.core.throttle import Throttle

    rows = [*db.scalars(select(AuditEvent).where(AuditEvent.object_id.contains(text) | AuditEvent.details.contains(text))),
            *db.scalars(select(Throttle).where(Throttle.key.contains(text)))]
    db.rollback()
    return rows


def test_a_password_typed_as_the_username_is_kept_only_as_a_keyed_hash(client, app, db):
    settings = client.app.state.settings
    typed = f"Mima-{uuid.uuid4().hex[:12]}!"  # a password in the username field
    attacker = client_from(app)
    for _ in range(settings.login_max_failures):
        assert_problem(_token(attacker, typed, "whatever"), 401, "invalid-credentials")
    assert_problem(_token(attacker, typed, "whatever"), 429, "account-locked")
    assert _rows_holding(db, typed) == []  # neither the audit log nor the throttle keeps the text
    entries = db.execute(select(AuditEvent.object_id, AuditEvent.outcome).where(
        AuditEvent.action == "auth.sign_in", AuditEvent.object_id.like("unknown:%"))
        .order_by(AuditEvent.seq.desc()).limit(settings.login_max_failures + 1)).all()
    db.rollback()
    assert {outcome for _, outcome in entries} == {"failed", "denied"}
    assert len({object_id for object_id, _ in entries}) == 1  # the attempts at one name correlate
    [object_id] = {object_id for object_id, _ in entries}
    assert len(object_id) <= len("unknown:") + 16
    _token(client_from(app), f"Other-{uuid.uuid4().hex[:12]}", "whatever")
    other = db.scalar(select(AuditEvent.object_id).where(AuditEvent.action == "auth.sign_in")
                      .order_by(AuditEvent.seq.desc()).limit(1))
    db.rollback()
    assert other.startswith("unknown:") and other != object_id


def test_an_unknown_client_id_is_kept_only_as_a_keyed_hash(client, app, db):
    settings = client.app.state.settings
    typed = f"secret-{uuid.uuid4().hex[:12]}"
    attacker = client_from(app)

    def ask():
        return attacker.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": typed,
                                                         "client_secret": "guessed-secret"})

    for _ in range(settings.login_max_failures):
        assert_problem(ask(), 401, "invalid-client")
    assert_problem(ask(), 429, "account-locked")
    assert _rows_holding(db, typed) == []
    denied = db.scalar(select(AuditEvent.object_id).where(AuditEvent.action == "auth.client_credentials",
                                                          AuditEvent.outcome == "denied")
                       .order_by(AuditEvent.seq.desc()).limit(1))
    db.rollback()
    assert denied.startswith("unknown:")


def test_failed_sign_ins_at_once_each_count(client, app, db):
    """Failures sent at once are each counted (their transactions apart queue on the throttle's
    row) and each audited with its own count: none is lost, none counted twice."""
    from helpers import at_once

    from tongban.accounts.models import User
    from tongban.core.throttle import Throttle

    settings = client.app.state.settings
    username = _new_staff(client)
    tries = settings.login_max_failures - 1  # all below the lock: each is told only "wrong password"
    results = at_once(client, [lambda own: _token(own, username, "guessed-password")] * tries)
    assert [r.status_code for r in results] == [401] * tries, [r.text for r in results]
    user_id = db.scalar(select(User.id).where(User.username == username))
    count = db.scalar(select(Throttle.count).where(Throttle.key == f"sign-in:{user_id}@testclient"))
    details = db.scalars(select(AuditEvent.details).where(AuditEvent.action == "auth.sign_in",
                                                          AuditEvent.object_id == str(user_id))).all()
    db.rollback()
    assert count == tries
    assert sorted(json.loads(d)["failed_logins"] for d in details) == list(range(1, tries + 1))
