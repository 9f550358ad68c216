"""Reading sessions (authentication, exchange reads) never hold a transaction a writer waits on,
and a request refused for want of a permission is still audited (through a writing session)."""

from __future__ import annotations

from helpers import assert_problem
from sqlalchemy import select, text

from tongban.accounts.models import User
from tongban.core.audit import AuditEvent


def test_a_reading_session_holds_no_transaction_open(app, db):
    reader = app.state.read_sessionmaker()
    first = select(User.id, User.phone).order_by(User.id).limit(1)
    try:
        user_id, phone = reader.execute(first).one()
        if db.get_bind().dialect.name == "postgresql":
            # Statement by statement (autocommit): the connection is idle, not idle in a transaction.
            pid = reader.scalar(text("SELECT pg_backend_pid()"))
            state = db.scalar(text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid})
            assert state == "idle"
        # A writer commits while the reader is still open, and the reader's next statement sees it
        # (on SQLite too: no snapshot is held between a reading session's statements).
        db.execute(text("UPDATE users SET phone = :phone WHERE id = :id"), {"phone": "13900000000", "id": user_id})
        db.commit()
        assert reader.execute(first).one() == (user_id, "13900000000")
    finally:
        reader.close()
        db.execute(text("UPDATE users SET phone = :phone WHERE id = :id"), {"phone": phone, "id": user_id})
        db.commit()


def test_a_refusal_for_want_of_a_permission_is_audited(client, as_role, db):
    before = db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    db.rollback()
    assert_problem(client.get("/api/v1/audit/events", headers=as_role("clerk")), 403, "permission-denied")
    refused = db.scalars(select(AuditEvent).where(AuditEvent.seq > before, AuditEvent.outcome == "denied")).all()
    assert [(e.action, e.details) for e in refused] == [("GET /api/v1/audit/events", '{"reason":"permission-denied"}')]


def _ended(app, work) -> tuple[list[str], object]:
    """Run ``work`` in a request's writing session, end it as a request does; (the connection
    events seen, the session's connection's driver connection)."""
    from sqlalchemy import event

    from tongban.core.db.session import _end

    seen: list[str] = []
    engine = app.state.sessionmaker.kw["bind"]
    listeners = [(name, lambda *_args, name=name: seen.append(name)) for name in ("commit", "rollback")]
    for name, listener in listeners:
        event.listen(engine, name, listener)
    session = app.state.sessionmaker()
    try:
        work(session)
        driver = session.connection().connection.driver_connection
        _end(session)
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
    return seen, driver


def test_a_request_that_only_read_ends_without_a_rollback(app, db):
    # Reads after the route's commit, or a listing: COMMIT is the same for them, and on
    # PostgreSQL a ROLLBACK would make psycopg forget the connection's prepared statements.
    seen, driver = _ended(app, lambda s: [s.scalar(select(User.id).where(User.id > n).limit(1)) for n in range(8)])
    assert seen == ["commit"]
    if db.get_bind().dialect.name == "postgresql":
        assert driver._prepared._names, "the statement read eight times is kept prepared"


def test_a_request_that_wrote_without_committing_is_rolled_back(app, db):
    name = db.scalar(select(User.display_name).where(User.id == 1))
    db.rollback()
    seen, _ = _ended(app, lambda s: s.execute(text("UPDATE users SET display_name = 'x' WHERE id = 1")))
    assert seen == ["rollback"]
    assert db.scalar(select(User.display_name).where(User.id == 1)) == name
    db.rollback()
    # Objects not yet flushed, and audit entries not yet linked, are rolled back too.
    def unflushed(session):
        session.scalar(select(User.id).limit(1))
        session.get(User, 1).display_name = "y"
    assert _ended(app, unflushed)[0] == ["rollback"]
    before = db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    db.rollback()

    def audited(session):
        from tongban.core import audit

        session.scalar(select(User.id).limit(1))
        audit.record(session, actor=audit.SYSTEM, action="test.uncommitted")
    assert _ended(app, audited)[0] == ["rollback"]
    assert db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) == before


def test_quick_work_of_an_async_route_runs_on_the_loop_unless_the_pool_is_nearly_spent(app):
    """``run_db``: on the event loop (no trip through the thread pool) on SQLite, and on PostgreSQL
    for a session of an async route's (the exchange's, marked by ``for_route``) unless the pool
    has no connection to spare: the loop must never wait for one. Other routes' work goes to a
    thread on PostgreSQL."""
    import asyncio
    import threading

    from types import SimpleNamespace

    from tongban.core.db.engine import PG_MAX_OVERFLOW, PG_POOL_SIZE

    from tongban.core.db.session import for_route, run_db
    from tongban.exchange.api import read_record
    from tongban.items.api import list_items

    def on_loop(db) -> bool:
        def work() -> int:
            db.execute(select(User.id).limit(1)).all()
            return threading.get_ident()

        async def where() -> bool:
            return await run_db(db, work) == threading.get_ident()

        found: list[bool] = []  # a loop of its own, in a thread of its own: the test may run inside another loop
        runner = threading.Thread(target=lambda: found.append(asyncio.run(where())))
        runner.start()
        runner.join()
        db.rollback()
        return found[0]

    # The routes as a request's scope names them (their endpoints): an exchange read, the item list.
    exchange_read, item_list = SimpleNamespace(endpoint=read_record), SimpleNamespace(endpoint=list_items)
    engine = app.state.engine
    postgresql = engine.dialect.name == "postgresql"
    reader = app.state.read_sessionmaker()
    held = []
    try:
        assert on_loop(for_route(reader, exchange_read))
        assert on_loop(for_route(reader, item_list)) is not postgresql
        assert on_loop(for_route(reader, None)) is not postgresql  # a session of no route's (a job's)
        if postgresql:
            for_route(reader, exchange_read)
            held = [engine.connect() for _ in range(PG_POOL_SIZE + PG_MAX_OVERFLOW - engine.pool.checkedout() - 2)]
            assert not on_loop(reader)
    finally:
        reader.close()
        for connection in held:
            connection.close()


def test_an_exchange_read_takes_one_connection_and_a_write_route_hands_its_sign_in_connection_back(client, app):
    """The exchange's sign-in check leaves its connection to the read that follows (one checkout per
    call); a route that writes gets the check's connection back to the pool before its own work."""
    import threading

    from sqlalchemy import event

    from helpers import bearer
    from tongban import demo

    seen: list[str] = []

    def note(what):
        def listener(*_args):
            # Only the requests' threads (the test client's event-loop portal and anyio's workers for sync
            # routes); the platform's own loops, warm-up and import jobs run in threads of their own.
            if threading.current_thread().name.startswith(("asyncio-portal", "AnyIO worker")):
                seen.append(what)
        return listener

    listeners = [(app.state.read_sessionmaker, "after_begin", note("read")),
                 (app.state.read_sessionmaker, "after_transaction_end", note("read-end")),
                 (app.state.sessionmaker, "after_begin", note("write"))]
    token = client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": demo.MZ_CLIENT_ID,
                                                    "client_secret": demo.DEMO_CLIENT_SECRET}).json()["access_token"]
    reviewer = bearer(client, "reviewer")
    for target, name, listener in listeners:
        event.listen(target, name, listener)
    try:
        answer = client.get("/api/v1/exchange/persons/records/110101199003074477", params={"purpose": "核对"},
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (200, 404), answer.text
        assert seen.count("read") == 1, seen  # the sign-in check and the read: one transaction, one connection
        seen.clear()
        decision = client.post("/api/v1/tasks/999999999/decision", headers=reviewer,
                               json={"decision": "approve", "opinion": "", "version": 1})
        assert decision.status_code == 404, decision.text
        assert seen[:3] == ["read", "read-end", "write"], seen
    finally:
        for target, name, listener in listeners:
            event.remove(target, name, listener)
