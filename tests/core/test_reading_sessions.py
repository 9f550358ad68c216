"""Reading sessions (authentication, exchange reads) never hold a transaction a writer waits on,
and a request refused for want of a permission is still audited (through a writing session)."""

from __future__ import annotations

from helpers import assert_problem
from sqlalchemy import select, text

from tongban.accounts.models import User
from tongban.core.audit import AuditEvent


def test_a_reading_session_holds_no_transaction_open(app, db):
    reader = app.state.read_sessionmaker()
    try:
        assert reader.scalar(select(User.id).limit(1)) is not None
        if db.get_bind().dialect.name == "postgresql":
            # Statement by statement (autocommit): the connection is idle, not idle in a transaction.
            pid = reader.scalar(text("SELECT pg_backend_pid()"))
            state = db.scalar(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            assert state == "idle"
        # A writer commits while the reader is still open (on SQLite the reader began DEFERRED).
        db.execute(text("UPDATE users SET phone = phone WHERE id = (SELECT min(id) FROM users)"))
        db.commit()
    finally:
        reader.close()


def test_a_refusal_for_want_of_a_permission_is_audited(client, as_role, db):
    before = db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    db.rollback()
    assert_problem(client.get("/api/v1/audit/events", headers=as_role("clerk")), 403, "permission-denied")
    refused = db.scalars(select(AuditEvent).where(AuditEvent.seq > before, AuditEvent.outcome == "denied")).all()
    assert [(e.action, e.details) for e in refused] == [("GET /api/v1/audit/events", '{"reason":"permission-denied"}')]
