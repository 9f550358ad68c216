"""The audit log is append-only and chained; `tongban audit verify` names the first bad entry."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError
from typer.testing import CliRunner

from tongban.cli import app as cli
from tongban.core import audit
from tongban.core.audit import AuditEvent
from tongban.core.db.session import session_scope


def _write_entries(database, count: int) -> None:
    with session_scope(database.sessionmaker()) as db:
        for n in range(count):
            audit.record(db, actor=audit.SystemActor(actor_name="测试"), action="test.entry", object_id=str(n),
                         details={"n": n, "名称": "测试"})


def _verify(database):
    env = {"TONGBAN_DATABASE_URL": database.settings.database_url, "TONGBAN_ARGON2_PROFILE": "CHEAPEST",
           "TONGBAN_SECRET_KEY": database.settings.secret_key}
    return CliRunner().invoke(cli, ["audit", "verify"], env=env)


def _tamper(database, *statements: str) -> None:
    """What an attacker with database access does: switch off the guard, then change rows."""
    engine = database.sessionmaker().kw["bind"]
    with engine.begin() as connection:
        if database.engine_name == "postgresql":
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS audit_events_no_delete"))
        for statement in statements:
            connection.execute(text(statement))


def test_an_untouched_log_verifies(fresh_database):
    _write_entries(fresh_database, 20)
    result = _verify(fresh_database)
    assert result.exit_code == 0, result.output
    assert "审计日志完整" in result.output


def test_the_database_refuses_update_and_delete(fresh_database):
    _write_entries(fresh_database, 3)
    engine = fresh_database.sessionmaker().kw["bind"]
    for statement in ("UPDATE audit_events SET outcome = 'failed' WHERE seq = 2", "DELETE FROM audit_events WHERE seq = 2"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))


def test_an_edited_entry_is_named(fresh_database):
    _write_entries(fresh_database, 20)
    _tamper(fresh_database, "UPDATE audit_events SET actor_name = '别人' WHERE seq = 8")
    result = _verify(fresh_database)
    assert result.exit_code == 1
    assert "seq=8" in result.output and "kind=altered" in result.output
    assert "第 8 条" in result.output


def test_an_edit_that_recomputes_a_plain_hash_is_still_caught(fresh_database):
    import hashlib

    _write_entries(fresh_database, 10)
    # Without the audit key the attacker can only guess at the digest.
    forged = hashlib.sha256(b"forged").hexdigest()
    _tamper(fresh_database, f"UPDATE audit_events SET outcome = 'failed', hash = '{forged}' WHERE seq = 6",
            f"UPDATE audit_events SET prev_hash = '{forged}' WHERE seq = 7")
    result = _verify(fresh_database)
    assert result.exit_code == 1 and "seq=6" in result.output


def test_a_deleted_entry_is_named(fresh_database):
    _write_entries(fresh_database, 20)
    _tamper(fresh_database, "DELETE FROM audit_events WHERE seq = 13")
    result = _verify(fresh_database)
    assert result.exit_code == 1
    assert "seq=13" in result.output and "kind=deleted" in result.output


def test_deleting_the_newest_entries_is_named(fresh_database):
    _write_entries(fresh_database, 20)
    with session_scope(fresh_database.sessionmaker()) as db:
        last = db.scalar(select(func.max(AuditEvent.seq)))
    _tamper(fresh_database, f"DELETE FROM audit_events WHERE seq >= {last - 1}")
    result = _verify(fresh_database)
    assert result.exit_code == 1
    assert f"seq={last - 1}" in result.output and "kind=truncated" in result.output


def test_an_inserted_entry_is_named(fresh_database):
    _write_entries(fresh_database, 20)
    with session_scope(fresh_database.sessionmaker()) as db:
        last = db.scalar(select(func.max(AuditEvent.seq)))
        previous_hash = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == last))
    _tamper(fresh_database, (
        "INSERT INTO audit_events (seq, occurred_at, actor_type, actor_id, actor_name, department_code, action, "
        "object_type, object_id, purpose, outcome, request_id, details, prev_hash, hash) VALUES "
        f"({last + 1}, '2026-01-05 09:00:00+00:00', 'user', '1', '王晓燕', 'PD-SCJG', 'registry.read', 'person', "
        f"'310115199306151236', '核查', 'success', NULL, '{{}}', '{previous_hash}', '{'a' * 64}')"
    ))
    result = _verify(fresh_database)
    assert result.exit_code == 1
    assert f"seq={last + 1}" in result.output and "kind=inserted" in result.output


def test_an_entry_inserted_in_the_middle_is_named(fresh_database):
    _write_entries(fresh_database, 20)
    # Make room at seq 10 by moving the later rows up past the last one (a row at a time, no clash),
    # back down one above where they were, then slip a row in.
    with session_scope(fresh_database.sessionmaker()) as db:
        prev = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 9))
        past = db.scalar(select(func.max(AuditEvent.seq))) + 1
    shift = (f"UPDATE audit_events SET seq = seq + {past} WHERE seq >= 10",
             f"UPDATE audit_events SET seq = seq - {past - 1} WHERE seq >= {past + 10}")
    _tamper(fresh_database, *shift, (
        "INSERT INTO audit_events (seq, occurred_at, actor_type, actor_id, actor_name, department_code, action, "
        "object_type, object_id, purpose, outcome, request_id, details, prev_hash, hash) VALUES "
        f"(10, '2026-01-05 09:00:00+00:00', 'user', '1', '王晓燕', NULL, 'test.entry', NULL, NULL, NULL, "
        f"'success', NULL, '{{}}', '{prev}', '{'b' * 64}')"
    ))
    result = _verify(fresh_database)
    assert result.exit_code == 1
    assert "seq=10" in result.output and "kind=inserted" in result.output


def test_concurrent_writers_keep_one_unbroken_chain(fresh_database):
    sessions = fresh_database.sessionmaker()
    errors = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                with session_scope(sessions) as db:
                    audit.record(db, actor=audit.SystemActor(actor_name=f"writer-{n}"), action="test.concurrent",
                                 object_id=f"{n}-{i}")
        except Exception as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with session_scope(sessions) as db:
        assert db.scalar(select(func.count()).where(AuditEvent.action == "test.concurrent")) == 60
        assert audit.verify(db).ok


def test_inspectors_filter_the_log(client, as_role):
    inspector = as_role("inspector")
    client.get("/api/v1/audit/events", headers=as_role("clerk"))  # a denied attempt, to find again
    response = client.get("/api/v1/audit/events", params={"outcome": "denied", "action": "GET /api/v1/audit"},
                          headers=inspector)
    assert response.status_code == 200
    items = response.json()["items"]
    assert items and all(e["outcome"] == "denied" and e["action"].startswith("GET /api/v1/audit") for e in items)
    assert items[0]["actor_name"] == "王晓燕"


def test_audit_pages_through_with_a_cursor(client, as_role):
    inspector = as_role("inspector")
    first = client.get("/api/v1/audit/events", params={"limit": 2}, headers=inspector).json()
    second = client.get("/api/v1/audit/events", params={"limit": 2, "cursor": first["next_cursor"]}, headers=inspector).json()
    seqs = [e["seq"] for e in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 4
    bad = client.get("/api/v1/audit/events", params={"cursor": "not-a-cursor"}, headers=inspector)
    assert bad.status_code == 422


def test_verification_endpoint(client, as_role):
    body = client.get("/api/v1/audit/verification", headers=as_role("inspector")).json()
    assert body["ok"] is True and body["entries"] > 0


def test_entries_are_linked_at_commit_and_vanish_with_a_rollback(fresh_database):
    sessions = fresh_database.sessionmaker()
    db = sessions()
    try:
        audit.record(db, actor=audit.SystemActor(actor_name="回滚"), action="test.rolled_back")
        db.flush()
        db.rollback()
        audit.record(db, actor=audit.SystemActor(actor_name="放弃"), action="test.closed")
    finally:
        db.close()  # no commit: the entry goes with the transaction
    with session_scope(sessions) as db:  # the same session object reused after a rollback records afresh
        first = audit.record(db, actor=audit.SystemActor(actor_name="提交"), action="test.kept", object_id="1")
        second = audit.record(db, actor=audit.SystemActor(actor_name="提交"), action="test.kept", object_id="2")
    with session_scope(sessions) as db:
        kept = db.scalars(select(AuditEvent).where(AuditEvent.action.like("test.%")).order_by(AuditEvent.seq)).all()
        assert [(e.action, e.object_id) for e in kept] == [("test.kept", "1"), ("test.kept", "2")]
        assert kept[1].seq == kept[0].seq + 1 and kept[1].prev_hash == kept[0].hash
        assert (first.seq, second.seq) == (kept[0].seq, kept[1].seq)
        assert audit.verify(db).ok
    result = _verify(fresh_database)
    assert result.exit_code == 0, result.output


def test_a_commit_whose_entries_fail_keeps_nothing_of_its_transaction(fresh_database):
    """On PostgreSQL the entries, the head's move and the COMMIT go to the server in one trip: an
    entry the database refuses (too long for its column) must take the transaction's other writes
    with it, leave the head where it was, and leave the session usable. SQLite does not check
    lengths, so there the entry is kept and the chain still verifies."""
    sessions = fresh_database.sessionmaker()
    with session_scope(sessions) as db:
        before = db.execute(text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).one()
    db = sessions()
    try:
        db.execute(text("INSERT INTO reference_generation (id, token) VALUES (99, 'written-with-the-entry')"))
        audit.record(db, actor=audit.SystemActor(actor_name="过长"), action="test." + "长" * 80)
        if fresh_database.engine_name == "postgresql":
            with pytest.raises(DatabaseError):
                db.commit()
            db.rollback()
        else:
            db.commit()
        audit.record(db, actor=audit.SystemActor(actor_name="之后"), action="test.after")
        db.commit()  # the same session commits again afterwards
    finally:
        db.close()
    with session_scope(sessions) as db:
        written = db.scalar(text("SELECT count(*) FROM reference_generation WHERE id = 99"))
        head = db.execute(text("SELECT seq, hash FROM audit_chain_head WHERE id = 1")).one()
        after = db.scalar(select(AuditEvent).where(AuditEvent.action == "test.after"))
        if fresh_database.engine_name == "postgresql":
            assert written == 0
            assert after.seq == before.seq + 1 and after.prev_hash == before.hash
        else:
            assert written == 1 and after.seq == before.seq + 2
        assert (head.seq, head.hash) == (after.seq, after.hash)
        assert audit.verify(db).ok
