"""Reference data kept between transactions (``per_generation``): reused while nothing changed,
read again after any write to it — by another process, by hand in SQL — and never taken from a
change that was rolled back."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select, text

from tongban.core.db.cache import ReferenceGeneration, request_generation

from tongban.core import clock
from tongban.core.workdays import CalendarDay, CalendarYear, WorkingCalendar
from helpers import bearer

HOLIDAY = date(2041, 3, 6)  # a Wednesday of a year no schedule is published for
PUBLISH_2041 = text("INSERT INTO calendar_years (year, notice, published_by, published_at) "
                    "VALUES (2041, '测试', 'test', CURRENT_TIMESTAMP)")
HOLIDAY_2041 = text("INSERT INTO calendar_days (day, year, kind, name) VALUES (:day, 2041, 'holiday', '测试假日')")


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_: seen.append(statement))
    return seen


def test_a_calendar_is_read_once_and_again_only_after_a_write(fresh_database):
    sessions = fresh_database.sessionmaker()
    with sessions() as db:
        first = WorkingCalendar.load(db)
        db.commit()
    seen = _statements(sessions.kw["bind"])
    with sessions() as db:
        assert WorkingCalendar.load(db) is first  # the next transaction reads the generation only
        db.commit()
    assert len([s for s in seen if "calendar" in s]) == 0 and len([s for s in seen if "reference_generation" in s]) == 1
    assert first.is_working_day(HOLIDAY)

    # Written by hand, as another process or an administrator's SQL would: the triggers move the generation.
    with sessions() as db:
        db.execute(PUBLISH_2041)
        db.execute(HOLIDAY_2041, {"day": HOLIDAY})
        db.commit()
    with sessions() as db:
        again = WorkingCalendar.load(db)
        assert again is not first and not again.is_working_day(HOLIDAY) and 2041 in again.stored_years
        db.commit()


def test_what_a_rolled_back_change_computed_is_never_reused(fresh_database):
    sessions = fresh_database.sessionmaker()
    with sessions() as db:
        assert WorkingCalendar.load(db).is_working_day(HOLIDAY)
        db.commit()
    with sessions() as db:
        db.execute(PUBLISH_2041)
        db.execute(HOLIDAY_2041, {"day": HOLIDAY})
        assert not WorkingCalendar.load(db).is_working_day(HOLIDAY)  # its own change, inside the transaction
        db.rollback()
    with sessions() as db:
        assert WorkingCalendar.load(db).is_working_day(HOLIDAY)
        db.commit()


@pytest.mark.parametrize("change", [
    "UPDATE departments SET name = name",
    "UPDATE service_items SET name = name",
    "UPDATE service_item_versions SET content = content",
    "INSERT INTO calendar_years (year, notice, published_by, published_at) VALUES (2042, 'x', 'x', CURRENT_TIMESTAMP)",
    "DELETE FROM calendar_days",
    "INSERT INTO supervision_rules (kind, yellow_days_before_due, red_days_after_due, enabled) VALUES ('zz', 1, 0, true)",
    "UPDATE catalog_resources SET name = name",
    "UPDATE catalog_items SET name = name",
    "UPDATE sharing_grants SET items = items",
])
def test_every_write_to_the_reference_data_moves_the_generation(fresh_database, change):
    with fresh_database.sessionmaker()() as db:
        if change.startswith("DELETE"):
            db.execute(PUBLISH_2041)
            db.execute(HOLIDAY_2041, {"day": HOLIDAY})
            db.commit()
        before = db.scalar(select(ReferenceGeneration.token))
        db.execute(text(change))
        assert db.scalar(select(ReferenceGeneration.token)) != before
        db.rollback()
        assert db.scalar(select(ReferenceGeneration.token)) == before


def test_a_request_uses_the_generation_read_with_its_principal(client, app):
    """The sign-in check's statement brings the generation: the request's work asks for it no more."""
    headers = bearer(client, "reviewer")
    url = "/api/v1/calendar/deadline?start=2026-12-01&working_days=3"
    client.get(url, headers=headers)  # warm: the first request of a generation computes the calendar
    seen = _statements(app.state.engine)
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.text
    tokens = [s for s in seen if "reference_generation" in s]
    assert len(tokens) == 1 and "users" in tokens[0], seen  # the principal's statement, nothing else
    assert not [s for s in seen if "calendar" in s]


def test_a_transaction_that_writes_reference_data_reads_the_generation_afresh(fresh_database):
    """Under a request's generation (read before the request wrote), what the request computes after
    its own write to reference data comes from the write, not from the generation it started with."""
    sessions = fresh_database.sessionmaker()
    with sessions() as db:
        token = db.scalar(select(ReferenceGeneration.token))
        assert WorkingCalendar.load(db).is_working_day(HOLIDAY)
        db.commit()
    started = request_generation.set(token)
    try:
        with sessions() as db:
            db.add(CalendarYear(year=2041, notice="测试", published_by="test", published_at=clock.now()))
            db.flush()
            db.add(CalendarDay(day=HOLIDAY, year=2041, kind="holiday", name="测试假日"))
            db.flush()  # ORM writes: no forget() called, the flush itself tells the session
            assert not WorkingCalendar.load(db).is_working_day(HOLIDAY)
            db.rollback()
    finally:
        request_generation.reset(started)
