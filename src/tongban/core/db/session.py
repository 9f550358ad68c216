"""The unit of work: one session per request or job, committed only when the caller says so.

A request's writing session commits where its route says; whatever it left uncommitted is rolled
back at the end of the request. Jobs and the CLI use ``session_scope``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Connection, Engine, QueuePool, event
from sqlalchemy.orm import Session, sessionmaker

from tongban.core.db.engine import _WROTE, PG_MAX_OVERFLOW, PG_POOL_SIZE

T = TypeVar("T")

_CONNECTION = "tongban.connection"  # in a session's info: the connection of its transaction
# In a session's info: a list of rows its commit will write outside the unit of work (the audit
# log's entries: ``core.audit`` appends them and writes them on commit). A transaction holding
# any has written, as one with new or changed objects has.
PENDING_WRITES = "tongban.pending_writes"


@event.listens_for(Session, "after_begin")
def _remember_connection(session: Session, _transaction, connection) -> None:
    session.info[_CONNECTION] = connection


def _wrote(db: Session) -> bool:
    """Whether ``db``'s transaction has changed anything: rows written, or objects and audit
    entries (``PENDING_WRITES``) waiting to be."""
    if db.new or db.dirty or db.deleted or db.info.get(PENDING_WRITES):
        return True
    connection = db.info.get(_CONNECTION)
    if connection is not None and not connection.closed and connection.invalidated:
        return True  # the database dropped it mid-transaction: only a rollback ends it
    return connection is not None and not connection.closed and bool(connection.info.get(_WROTE))


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work for jobs and the CLI: commits on success, rolls back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def transaction_apart(db: Session) -> Iterator[Session]:
    """A short transaction of its own, beside the caller's ``db``, for what must be kept although
    the caller's work is refused (a failed sign-in's count and audit entry): committed on leaving
    the block (``session_scope``), rolled back if the block fails. The caller's transaction is
    ended first, rolled back: the caller is about to be refused and has nothing to keep, and on
    SQLite its transaction holds the one write lock the transaction apart needs. Objects read
    through ``db`` are expired by that: read what the block needs from them before entering it."""
    db.rollback()
    with session_scope(sessionmaker(bind=db.get_bind(), expire_on_commit=False)) as apart:
        yield apart


async def run_db(db: Session, work: Callable[[], T]) -> T:
    """Run quick database work (a sign-in check, an exchange read: indexed statements that wait
    for no lock) from async code. On SQLite on the event loop: its calls are in-process and take
    microseconds, less than a trip to a worker thread. On PostgreSQL in a worker thread, unless
    the session is a route's whose endpoint runs on the loop by design (the exchange's: async,
    ``for_route`` marks it), and the work then stays there too. Measured on 2026-11-23: a hop to
    a thread and back cost about 140 µs of CPU, and keeping an exchange read's two hops on the
    loop took its server CPU from 4.0 to 2.5 ms; doing the same for every route's sign-in check
    made the applications run 10 % slower (a loop that waited on a socket while threads ran a
    case's steps waited again for the interpreter lock before it could serve anyone).

    The loop must never wait for a pooled connection: requests give theirs back through the
    loop, so a loop waiting for one could wait for ever. SQLite's pool is bigger than requests
    can ever hold; on PostgreSQL the work runs on the loop only while the pool has connections to
    spare, else in a worker thread, which may wait."""
    bind = db.get_bind()
    if bind.dialect.name == "sqlite" or (db.info.get(_ON_LOOP) and _has_spare_connections(bind)):
        return work()
    return await run_in_threadpool(work)


def for_route(session: Session, route: object) -> Session:
    """Mark ``session`` as serving ``route``: whether ``run_db`` may keep its work on the loop
    (the route's endpoint is async, so the request is on the loop anyway)."""
    session.info[_ON_LOOP] = inspect.iscoroutinefunction(getattr(route, "endpoint", None))
    return session


async def end_session(session: Session) -> None:
    """End a request's session (``_end``: what it left uncommitted is rolled back). Only if it
    still holds a connection does this touch the database, and then on PostgreSQL in a worker
    thread, whatever the route: the end may commit, which may wait."""
    if not session.in_transaction():
        session.close()
    elif session.get_bind().dialect.name == "sqlite":
        _end(session)
    else:
        await run_in_threadpool(_end, session)


_ON_LOOP = "tongban.on_loop"  # in a session's info: ``for_route``'s mark


def _has_spare_connections(bind: Engine | Connection) -> bool:
    pool = bind.pool if isinstance(bind, Engine) else bind.engine.pool
    return isinstance(pool, QueuePool) and pool.checkedout() + _SPARE_CONNECTIONS < PG_POOL_SIZE + PG_MAX_OVERFLOW


_SPARE_CONNECTIONS = 2  # the loop takes a connection only while more than these are free


def _end(session: Session) -> None:
    """Roll back what the request left uncommitted. A transaction that wrote nothing (reads after
    the route's commit, a listing) ends with COMMIT instead, which for it is the same: psycopg
    forgets every prepared statement of the connection on ROLLBACK, so each would be parsed and
    planned again by the next request on that connection. A transaction that a failed statement
    ended (the disk full, the connection lost) can only be rolled back: committing it would
    raise again and hide the first error, which the client must be told."""
    transaction = session.get_transaction()
    if _wrote(session) or (transaction is not None and not transaction.is_active):
        session.rollback()
    else:
        session.commit()
    session.close()


def _request_session(factory: str):
    """A request's session dependency. Async: making a session touches no database, and ending
    one (``end_session``) takes a trip through the thread pool only if it still holds a
    connection."""

    async def dependency(request: Request) -> AsyncIterator[Session]:
        session = for_route(getattr(request.app.state, factory)(), request.scope.get("route"))
        try:
            yield session
        finally:
            await end_session(session)

    return dependency


# One session per request; routes commit explicitly, anything uncommitted is rolled back.
get_db = _request_session("sessionmaker")
# One reading session per request (authentication, exchange reads); see ``make_sessionmaker``.
get_read_db = _request_session("read_sessionmaker")


DbSession = Annotated[Session, Depends(get_db, scope="function")]
ReadDbSession = Annotated[Session, Depends(get_read_db, scope="function")]
