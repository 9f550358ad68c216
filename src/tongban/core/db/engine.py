"""Engines for SQLite (the embedded default) and PostgreSQL, and their sessions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tongban.core.config import Settings

PG_POOL_SIZE, PG_MAX_OVERFLOW = 10, 20  # connections a server process keeps, and opens beyond them at most


def make_engine(settings: Settings) -> Engine:
    url = settings.sqlalchemy_url
    if settings.is_sqlite:
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # More connections than requests can ever hold at once (the thread pool's 40 routes, each with
        # its reading and its writing session): on SQLite the permission check takes its connection on
        # the event loop, and an exhausted pool would block the loop that returns connections.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=20, max_overflow=100)
        _make_sqlite_serializable(engine)
    else:
        # Recycling instead of pinging before every checkout: a ping is one more round trip per request.
        engine = create_engine(url, pool_size=PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW, pool_recycle=1800)
    _track_writes(engine)
    return engine


_WROTE = "tongban_wrote"  # in a connection's info: its transaction has written


def _track_writes(engine: Engine) -> None:
    """Note on each connection whether its transaction has written anything (``_wrote``)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _note(connection, _cursor, statement, _parameters, _context, _executemany):
        verb = statement.lstrip()[:6].upper().rstrip()  # "BEGIN" (IMMEDIATE on SQLite) starts, not writes
        if verb not in ("SELECT", "BEGIN"):
            connection.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _ended(connection):
        # A connection the database dropped (a restart) is discarded with its info; asking for the
        # info would fail the rollback that lets the request's session recover.
        if not connection.invalidated:
            connection.info.pop(_WROTE, None)


def _make_sqlite_serializable(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so concurrent writers queue instead of failing.

    pysqlite's own transaction handling starts transactions late and lets two writers both
    read, then one fails to upgrade its lock; taking the write lock at BEGIN avoids lost updates.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MB of pages: big registries stay fast
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Sessions that only read begin no transaction at all: each statement reads the latest
        # committed state on its own, as on PostgreSQL (see ``make_sessionmaker``), and readers
        # never wait for the write lock.
        if not connection.get_execution_options().get(READS_ONLY):
            connection.exec_driver_sql("BEGIN IMMEDIATE")


READS_ONLY = "tongban_reads_only"


def make_sessionmaker(engine: Engine, *, reads_only: bool = False) -> sessionmaker[Session]:
    """Sessions of the engine; ``reads_only`` for work that only reads (writes go through a
    writing session). Such a session runs each statement on its own, on both engines
    (autocommit on PostgreSQL, no BEGIN on SQLite): under READ COMMITTED every statement already
    sees its own snapshot, so a reading transaction bought nothing but a BEGIN and a ROLLBACK,
    two round trips per request on PostgreSQL, about 25 µs of a read's 150 on SQLite."""
    if not reads_only:
        return sessionmaker(bind=engine, expire_on_commit=False)
    options: dict[str, Any] = {READS_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)


def reading(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Reads-only sessions of the same engine: for a background loop's "anything to do?" look,
    which on SQLite must not take the write lock several times a second."""
    return make_sessionmaker(sessions.kw["bind"], reads_only=True)
