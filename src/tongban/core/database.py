"""One database layer for SQLite (embedded default) and PostgreSQL.

Transactions are explicit: a unit of work commits only when the caller says so.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import (
    DateTime, Engine, MetaData, String, Table, any_, bindparam, create_engine, event, func, literal_column, select,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, object_session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tongban.core.config import Settings

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """A timestamp that is always timezone-aware UTC, on SQLite (which drops zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def insert_for(db: Session, table):
    """An INSERT of the session's dialect, for ``on_conflict_do_nothing`` (both engines have it)."""
    return (pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


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


_CONNECTION = "tongban.connection"  # in a session's info: the connection of its transaction


@event.listens_for(Session, "after_begin")
def _remember_connection(session: Session, _transaction, connection) -> None:
    session.info[_CONNECTION] = connection


def _wrote(db: Session) -> bool:
    """Whether ``db``'s transaction has changed anything: rows written, or objects and audit
    entries waiting to be."""
    from tongban.core import audit

    if db.new or db.dirty or db.deleted or audit.has_pending(db):
        return True
    connection = db.info.get(_CONNECTION)
    if connection is not None and not connection.closed and connection.invalidated:
        return True  # the database dropped it mid-transaction: only a rollback ends it
    return connection is not None and not connection.closed and bool(connection.info.get(_WROTE))


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


def bulk_insert(db: Session, table: Table, rows: list[dict]) -> None:
    """Insert many rows (dicts of Python values) in the caller's transaction."""
    if not rows:
        return
    columns = list(rows[0])
    dialect = db.connection().dialect
    if dialect.name == "postgresql":  # COPY adapts Python values itself
        bulk_insert_values(db, table, columns, [tuple(row[c] for c in columns) for row in rows])
        return
    # Each column's own bind processor, applied once per distinct value (timestamps and dates repeat).
    processors = [table.c[c].type._cached_bind_processor(dialect) for c in columns]
    memos: list[dict] = [{} for _ in columns]

    def bound(value, process, memo):
        if process is None or value is None:
            return value
        try:
            return memo[value]
        except KeyError:
            memo[value] = result = process(value)
            return result
        except TypeError:  # unhashable
            return process(value)

    triples = list(zip(columns, processors, memos))
    bulk_insert_values(db, table, columns, [tuple(bound(row[c], p, m) for c, p, m in triples) for row in rows])


def bulk_insert_values(db: Session, table: Table, columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows already in the database's own form: text for dates and numbers,
    ``db_value`` for timestamps. COPY on PostgreSQL, the DB-API's executemany on SQLite
    (SQLAlchemy's per-row parameter handling would cost more than SQLite's insert itself)."""
    if not rows:
        return
    connection = db.connection()
    connection.info[_WROTE] = True  # written through the driver, past the statement events
    if connection.dialect.name != "postgresql":
        placeholders = ", ".join("?" * len(columns))
        sql = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})'
        connection.connection.driver_connection.cursor().executemany(sql, rows)
        return
    column_list = ", ".join(f'"{c}"' for c in columns)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)


class DriverStatement:
    """A hot statement, built with SQLAlchemy, compiled once per dialect and run on the driver's
    own cursor: the reads and the log row that every exchange call makes. SQLAlchemy's handling
    of an execution (the cache key, the execution context, the result object) cost more CPU than
    the statement's round trip (measured 2026-11-23: about 100 of the 220 µs a statement cost on
    PostgreSQL, a tenth of a served exchange read). Values pass through the column types'
    bind and result processors as SQLAlchemy would pass them; the engine's cursor events are
    told of the statement (the write tracking and whoever observes statements); a driver error
    is raised as SQLAlchemy's. Rows are plain tuples."""

    def __init__(self, statement) -> None:
        self.statement = statement
        self._forms: dict[str, _DriverForm] = {}

    def rows(self, db: Session, params: dict) -> list[tuple]:
        connection = db.connection()
        form = self.form(connection.dialect)
        driver = connection.connection.driver_connection
        values = form.values(params)
        try:
            cursor = driver.cursor()
            try:
                for listen in connection.dispatch.before_cursor_execute:
                    listen(connection, cursor, form.sql, values, None, False)
                cursor.execute(form.sql, values)
                rows = cursor.fetchall() if cursor.description is not None else []
                for listen in connection.dispatch.after_cursor_execute:
                    listen(connection, cursor, form.sql, values, None, False)
                results = form.results if form.results is not None else form.read_results(cursor)
            finally:
                cursor.close()
        except connection.dialect.loaded_dbapi.Error as error:
            raise driver_error(connection.dialect, driver, form.sql, values, error) from error
        processed = [(index, process) for index, process in enumerate(results) if process is not None]
        if processed:  # only the columns that need it: a batch reads thousands of rows
            done = []
            for row in rows:
                row = list(row)
                for index, process in processed:
                    if row[index] is not None:
                        row[index] = process(row[index])
                done.append(tuple(row))
            rows = done
        return rows

    def execute_many(self, driver, dialect, rows: list[dict]) -> None:
        """Run the statement once per row on a psycopg connection held by the caller, in one round
        trip (its pipeline mode: the rows end in one Sync, so in autocommit they commit together
        or not at all)."""
        form = self.form(dialect)
        values = [form.values(row) for row in rows]
        try:
            with driver.pipeline(), driver.cursor() as cursor:
                cursor.executemany(form.sql, values)
        except dialect.loaded_dbapi.Error as error:
            raise driver_error(dialect, driver, form.sql, values, error) from error

    def form(self, dialect) -> _DriverForm:
        """The statement as the dialect's driver takes it: ``.sql``, and ``.values(params)`` for
        the parameters (for work that sends several statements in one pipeline itself)."""
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = _DriverForm(self.statement, dialect)
        return form


class _DriverForm:
    """A statement as one dialect's driver takes it."""

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise TypeError("a driver statement takes lists as one parameter (in_list), not expanded")
        self.sql = str(compiled)
        self.dialect = dialect
        self.defaults = dict(compiled.params)  # the values the statement binds itself
        self.positions = compiled.positiontup if dialect.paramstyle in ("qmark", "numeric") else None
        self.binds = {name: process for name, bind in compiled.binds.items()
                      if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None}
        self.columns = [column.type for column in statement.selected_columns] if statement.is_select else []
        self.results: list | None = None  # known at the first execution (a processor may ask the column's type)

    def values(self, params: dict):
        merged = {**self.defaults, **params}
        for name, process in self.binds.items():
            if merged.get(name) is not None:
                merged[name] = process(merged[name])
        return merged if self.positions is None else tuple(merged[name] for name in self.positions)

    def read_results(self, cursor) -> list:
        described = cursor.description or []
        self.results = [type_.dialect_impl(self.dialect).result_processor(self.dialect, column[1])
                        for type_, column in zip(self.columns, described)]
        return self.results


def driver_error(dialect, driver, sql: str, params, error: Exception) -> DBAPIError:
    """A driver's error as SQLAlchemy would have raised it: callers catch SQLAlchemy's types."""
    return DBAPIError.instance(sql, params, error, dialect.loaded_dbapi.Error,
                               connection_invalidated=dialect.is_disconnect(error, driver, None), dialect=dialect)


def in_list(dialect: str, column, name: str):
    """``column IN (:name)`` with the whole list bound as one parameter (give it with
    ``list_parameter``): an array on PostgreSQL, a JSON list read by json_each on SQLite. Bound
    one by one, a thousand keys cost SQLAlchemy more than the database needs to find them; one
    named parameter also lets a hot statement be built once and reused."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name, type_=String))))


def list_parameter(db: Session, values: list) -> list | str:
    """The value of an ``in_list`` parameter."""
    return list(values) if db.get_bind().dialect.name == "postgresql" else json.dumps(list(values))


def db_value(db: Session, column, value):
    """``value`` as the driver takes it for ``column`` (for ``bulk_insert_values``)."""
    dialect = db.connection().dialect
    if dialect.name == "postgresql":
        return value
    process = column.type._cached_bind_processor(dialect)
    return process(value) if process else value


READS_ONLY = "tongban_reads_only"


def make_sessionmaker(engine: Engine, *, reads_only: bool = False) -> sessionmaker[Session]:
    """Sessions of the engine; ``reads_only`` for work that only reads (writes go through a
    writing session). Such a session runs each statement on its own, on both engines
    (autocommit on PostgreSQL, no BEGIN on SQLite): under READ COMMITTED every statement already
    sees its own snapshot, so a reading transaction bought nothing but a BEGIN and a ROLLBACK,
    two round trips per request on PostgreSQL, about 25 µs of a read's 150 on SQLite."""
    if not reads_only:
        return sessionmaker(bind=engine, expire_on_commit=False)
    options = {READS_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(bind=engine.execution_options(**options), expire_on_commit=False)


def reading(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Reads-only sessions of the same engine: for a background loop's "anything to do?" look,
    which on SQLite must not take the write lock several times a second."""
    return make_sessionmaker(sessions.kw["bind"], reads_only=True)


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


_MEMO = "tongban.memo"


def per_transaction(db: Session, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per transaction of ``db``: reference data (the working calendar, a
    published item) that one unit of work reads many times. ``forget`` after changing it."""
    transaction = db.get_transaction()
    hit = db.info.get(_MEMO, {}).get(key)
    if hit is not None and transaction is not None and hit[0] is transaction:
        return hit[1]
    value = compute()
    db.info.setdefault(_MEMO, {})[key] = (db.get_transaction(), value)
    return value


def forget(db: Session, key: str) -> None:
    """``db``'s transaction changed what ``key`` holds: read it again, and (for ``per_generation``)
    the generation too, which the change has moved."""
    db.info.get(_MEMO, {}).pop(key, None)
    _reference_written(db)


class ReferenceGeneration(Base):
    """One row whose token is replaced by database triggers (migration 0007) on every write to the
    reference data each step of a case reads: departments, service items and their versions, the
    working calendar, the warning rules. A random token rather than a counter: a rolled-back
    change's token is never seen again, so nothing computed inside it can be taken for the
    committed state."""

    __tablename__ = "reference_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


_GENERATION = "tongban.reference-generation"
_TOKEN = select(ReferenceGeneration.token).where(ReferenceGeneration.id == 1)
_SHARED: dict[str, tuple[str, object]] = {}  # key -> (generation token, value), for every session of the process
# The tables whose writes move the generation (their triggers: migrations 0007 and 0008).
REFERENCE_TABLES = frozenset({"departments", "service_items", "service_item_versions", "calendar_years", "calendar_days",
                              "supervision_rules", "catalog_resources", "catalog_items", "sharing_grants"})
_WRITTEN = "tongban.reference-written"
# The generation as the request's sign-in check read it, in the statement that read the principal
# (``GENERATION_COLUMN``): the request's sessions use it instead of asking again. A request reads
# the reference data as of its sign-in, as if it had asked then; a transaction that writes
# reference data reads the generation afresh (``_reference_written``).
request_generation: ContextVar[str | None] = ContextVar("request_generation", default=None)
GENERATION_COLUMN = _TOKEN.scalar_subquery().label("reference_generation")


def per_generation(db: Session, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per generation of the reference data, shared by every session of the
    process: a step of a case reads the calendar, rules, items and departments, and reading them
    again in each transaction was a fifth of its statements. One statement per transaction reads
    the generation instead; a write to any reference table (by any process, even by hand in SQL)
    moves it, and the next transaction computes afresh. The value must be plain data that no
    caller changes (never ORM objects: they belong to one session)."""
    token = per_transaction(db, _GENERATION, lambda: _generation(db))
    if token is None:  # a database without the row: nothing is shared
        return compute()
    hit = _SHARED.get(key)
    if hit is not None and hit[0] == token:
        return hit[1]
    value = compute()
    _SHARED[key] = (token, value)
    return value


_SIGN_IN = "tongban.sign-in-generation"


def note_generation(db: Session, token: str | None) -> None:
    """The generation read with a principal (``GENERATION_COLUMN``), for the sign-in check to take."""
    db.info[_SIGN_IN] = token


def take_generation(db: Session) -> str | None:
    return db.info.pop(_SIGN_IN, None)


def _generation(db: Session) -> str | None:
    token = request_generation.get()
    if token is None or db.info.get(_WRITTEN):
        return db.scalar(_TOKEN)
    return token


def _reference_written(db: Session) -> None:
    """The session wrote reference data: its transaction moved the generation, which it reads
    again (from the database, not the request's) for everything it computes from now on."""
    db.info.get(_MEMO, {}).pop(_GENERATION, None)
    db.info[_WRITTEN] = True


@event.listens_for(Base, "after_insert", propagate=True)
@event.listens_for(Base, "after_update", propagate=True)
@event.listens_for(Base, "after_delete", propagate=True)
def _wrote_row(_mapper, _connection, target) -> None:
    if target.__table__.name in REFERENCE_TABLES:
        session = object_session(target)
        if session is not None:
            _reference_written(session)


async def run_db(db: Session, work: Callable[[], T], *, async_route: bool = False) -> T:
    """Run quick database work (a sign-in check, an exchange read: indexed statements that wait
    for no lock) from async code. On SQLite on the event loop: its calls are in-process and take
    microseconds, less than a trip to a worker thread. On PostgreSQL in a worker thread, unless
    ``async_route``: the request is one of the routes that run on the loop by design (the
    exchange's), and the work then stays there too. Measured on 2026-11-23: a hop to a thread and
    back cost about 140 µs of CPU, and keeping an exchange read's two hops on the loop took its
    server CPU from 4.0 to 2.5 ms; doing the same for every route's sign-in check made the
    applications run 10 % slower (a loop that waited on a socket while threads ran a case's
    steps waited again for the interpreter lock before it could serve anyone).

    The loop must never wait for a pooled connection: requests give theirs back through the
    loop, so a loop waiting for one could wait for ever. SQLite's pool is bigger than requests
    can ever hold; on PostgreSQL the work runs on the loop only while the pool has connections to
    spare, else in a worker thread, which may wait."""
    bind = db.get_bind()
    if bind.dialect.name == "sqlite" or (
            async_route and bind.pool.checkedout() + _SPARE_CONNECTIONS < PG_POOL_SIZE + PG_MAX_OVERFLOW):
        return work()
    return await run_in_threadpool(work)


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
    one goes through ``run_db`` only if it still holds a connection (work that released its
    connection already ends here, without a trip through the thread pool)."""

    async def dependency(request: Request) -> AsyncIterator[Session]:
        session = getattr(request.app.state, factory)()
        try:
            yield session
        finally:
            if session.in_transaction():
                await run_db(session, lambda: _end(session))
            else:
                session.close()

    return dependency


# One session per request; routes commit explicitly, anything uncommitted is rolled back.
get_db = _request_session("sessionmaker")
# One reading session per request (authentication, exchange reads); see ``make_sessionmaker``.
get_read_db = _request_session("read_sessionmaker")


DbSession = Annotated[Session, Depends(get_db, scope="function")]
ReadDbSession = Annotated[Session, Depends(get_read_db, scope="function")]
