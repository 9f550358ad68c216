"""Hot statements run on the driver's own cursor (``DriverStatement``) answer what SQLAlchemy would
answer, tell the engine's observers, raise SQLAlchemy's errors; the exchange's usage log, which
writes through one, keeps its connection only while calls come and recovers from a broken one."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import (
    Boolean, Column, Date, Integer, MetaData, Numeric, String, Table, bindparam, event, exc, func, select, text, update,
)

from tongban.core.auth import principal_for
from tongban.core.db.base import UTCDateTime
from tongban.core.db.bulk import in_list, list_parameter
from tongban.core.db.driver import DriverStatement
from tongban.core.db.engine import make_engine, make_sessionmaker
from tongban.core.db.session import _wrote
from tongban.core.errors import Problem
from tongban.exchange.models import ExchangeCall
from tongban.exchange.service import Call, UsageLog

_METADATA = MetaData()
_SAMPLES = Table("driver_samples", _METADATA,
                 Column("id", Integer, primary_key=True), Column("name", String(20)), Column("flag", Boolean),
                 Column("day", Date), Column("at", UTCDateTime), Column("amount", Numeric(20, 4)))
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
def samples(fresh_database):
    engine = make_engine(fresh_database.settings)
    _METADATA.create_all(engine)
    with engine.begin() as connection:
        connection.execute(_SAMPLES.insert(), [
            {"id": 1, "name": "甲", "flag": True, "day": date(2026, 11, 23), "at": datetime(2026, 11, 23, 4, 5, 6, 789, UTC),
             "amount": Decimal("12.5000")},
            {"id": 2, "name": "乙", "flag": False, "day": date(2024, 2, 29), "at": datetime(2026, 1, 1, tzinfo=UTC),
             "amount": Decimal("0.0001")},
            {"id": 3, "name": None, "flag": None, "day": None, "at": None, "amount": None}])
    yield make_sessionmaker(engine)
    engine.dispose()


def test_a_driver_statement_reads_what_sqlalchemy_reads(samples):
    with samples() as db:
        dialect = db.get_bind().dialect.name
        # A time bound in another zone (the column's bind processor makes it UTC) and a list bound whole.
        statement = (select(_SAMPLES).where(in_list(dialect, _SAMPLES.c.name, "names") | _SAMPLES.c.name.is_(None),
                                            (_SAMPLES.c.at == bindparam("at")) | _SAMPLES.c.at.is_(None)
                                            | (_SAMPLES.c.id == 2))
                     .order_by(_SAMPLES.c.id))
        params = {"names": list_parameter(db, ["甲", "乙"]), "at": datetime(2026, 11, 23, 12, 5, 6, 789, SHANGHAI)}
        expected = [tuple(row) for row in db.execute(statement, params).all()]
        assert [row[0] for row in expected] == [1, 2, 3]
        driver = DriverStatement(statement)
        assert driver.rows(db, params) == expected
        assert driver.rows(db, params) == expected  # and again, with what the first run learnt
        first = driver.rows(db, params)[0]
        assert (first[2], first[3], first[4], first[5]) == (True, date(2026, 11, 23),
                                                            datetime(2026, 11, 23, 4, 5, 6, 789, UTC), Decimal("12.5000"))
        # Row 1 is there only if the time was bound as UTC; without its name, only the row of no name is.
        assert driver.rows(db, {**params, "names": list_parameter(db, ["丙"])}) == [expected[2]]


def test_a_driver_statement_is_seen_by_the_engines_observers_and_counts_as_a_write(samples):
    with samples() as db:
        seen = []
        engine = db.get_bind()
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert DriverStatement(select(func.count()).select_from(_SAMPLES)).rows(db, {}) == [(3,)]
            assert not _wrote(db)
            DriverStatement(update(_SAMPLES).where(_SAMPLES.c.id == bindparam("key")).values(name="丁")).rows(db, {"key": 1})
            assert _wrote(db)  # the session knows its transaction has something to commit
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        ours = [statement for statement in seen if "driver_samples" in statement]  # not SQLite's BEGIN
        assert len(ours) == 2 and ours[1].lstrip().upper().startswith("UPDATE")
        db.rollback()
        assert db.scalar(select(_SAMPLES.c.name).where(_SAMPLES.c.id == 1)) == "甲"


def test_a_driver_error_is_raised_as_sqlalchemys(samples):
    statement = DriverStatement(select(_SAMPLES.c.id).where(_SAMPLES.c.id == bindparam("key")))
    with samples() as db:
        assert statement.rows(db, {"key": 2}) == [(2,)]
        db.rollback()
        _METADATA.drop_all(db.get_bind())
        with pytest.raises(exc.DBAPIError):
            statement.rows(db, {"key": 2})


def _call(number: int) -> Call:
    principal = principal_for(actor_type="client", actor_id="test-client", actor_name="测试系统", kind="system",
                              department=None, roles=[])
    return Call(principal, "persons", "record", f"测试用途 {number}", keys_count=1, items=["name"])


def _calls_logged(sessions) -> list[str]:
    with sessions() as db:
        return list(db.scalars(select(ExchangeCall.purpose).where(ExchangeCall.client_id == "test-client")
                               .order_by(ExchangeCall.id)))


def _run(coroutine) -> None:
    """Run on a thread of its own: the browser tests' Playwright keeps a loop running on this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def _wait_for(condition, seconds: float = 10.0) -> None:
    stop = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < stop, "waited in vain"
        time.sleep(0.02)


def test_the_usage_log_keeps_a_connection_only_while_calls_come(fresh_database):
    engine = make_engine(fresh_database.settings)
    sessions = make_sessionmaker(engine)
    log = UsageLog(sessions, idle_seconds=0.3)

    async def calls(first: int, count: int) -> None:
        await asyncio.gather(*[log.write(_call(first + n)) for n in range(count)])

    _run(calls(0, 20))
    assert _calls_logged(sessions) == [f"测试用途 {n}" for n in range(20)]  # each answered call has its row
    if engine.dialect.name == "postgresql":
        assert engine.pool.checkedout() == 1  # kept for the next calls
    _wait_for(lambda: engine.pool.checkedout() == 0)  # quiet: given back
    _run(calls(20, 5))
    assert len(_calls_logged(sessions)) == 25
    engine.dispose()


def test_a_usage_log_whose_connection_broke_fails_those_calls_and_writes_the_next(fresh_database):
    engine = make_engine(fresh_database.settings)
    if engine.dialect.name != "postgresql":
        pytest.skip("the kept connection is PostgreSQL's (SQLite writes each batch in a session of its own)")
    sessions = make_sessionmaker(engine)
    log = UsageLog(sessions, idle_seconds=30)
    _run(log.write(_call(0)))
    with sessions() as db:  # the server ends the log's connection, as a restart would
        kept = log._connection.driver_connection.info.backend_pid
        assert db.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": kept})
    with pytest.raises(Problem) as failed:
        _run(log.write(_call(1)))
    assert failed.value.slug == "service-unavailable"
    _run(log.write(_call(2)))  # on a new connection
    assert _calls_logged(sessions) == ["测试用途 0", "测试用途 2"]
    engine.dispose()
