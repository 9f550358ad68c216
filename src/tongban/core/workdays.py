"""The one working-day calendar for every statutory deadline in the platform.

Known years come from ``chinese-calendar`` (the State Council's published holiday schedules,
with make-up working days). Years it does not know yet are entered by an administrator from
the State Council notice as a *published schedule* stored in the database; until then any
deadline that touches such a year is computed on weekends alone and marked provisional.
Entries stored for a year the package knows correct the package (the database wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache
from datetime import date, datetime, time, timedelta
from typing import Annotated

import chinese_calendar
from fastapi import Query
from sqlalchemy import Date, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tongban.core.db.base import Base, UTCDateTime

from tongban.core import clock
from tongban.core.db.cache import forget, per_generation


# Fixed-date statutory holidays used for a provisional guess in an unpublished year; the
# lunar ones (春节, 清明, 端午, 中秋) and the make-up days cannot be guessed.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}
_MAX_SPAN_DAYS = 3660  # no statutory limit runs ten years; bounds every loop
# The dates a deadline may start on: with the longest span after it, still a date Python can hold
# (year 9999 would overflow), and well inside any statutory deadline there is.
FIRST_START, LAST_START = date(1900, 1, 1), date(2100, 12, 31)
DeadlineStart = Annotated[date, Query(ge=FIRST_START, le=LAST_START, description="起算日期（1900-01-01 至 2100-12-31）")]
_MEMO = "tongban.workdays.calendar"
# Office hours of a working day (Beijing time): what a limit in working hours (工作小时) counts.
OFFICE_HOURS = ((time(9, 0), time(12, 0)), (time(13, 0), time(17, 0)))
# The package's answers never change while the process runs; asking it validates every date anew.
_package_workday = lru_cache(maxsize=8192)(chinese_calendar.is_workday)


class CalendarYear(Base):
    """A year whose schedule an administrator has entered from the State Council notice."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    notice: Mapped[str] = mapped_column(String(300))  # e.g. 国办发明电〔2026〕X号
    published_by: Mapped[str] = mapped_column(String(128))
    published_at = mapped_column(UTCDateTime, default=clock.now)


class CalendarDay(Base):
    """A day that differs from the plain Monday–Friday week: a holiday, or a make-up working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # holiday | workday
    name: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class Deadline:
    start: date
    working_days: int
    due: date
    provisional: bool
    unknown_years: tuple[int, ...] = field(default=())

    @property
    def note(self) -> str | None:
        if not self.provisional:
            return None
        years = "、".join(str(y) for y in self.unknown_years)
        return f"{years} 年节假日安排尚未公布，期限为暂定，公布后将重新计算"


# Each published year, with its listed days (a year may list none).
_CALENDAR = (select(CalendarYear.year, CalendarDay.day, CalendarDay.kind)
             .outerjoin(CalendarDay, CalendarDay.year == CalendarYear.year))


class WorkingCalendar:
    """The stored schedules plus the package's known years; read once per generation of the
    reference data and shared by every transaction of the process, so never changed in place."""

    def __init__(self, stored_years: set[int], stored_days: dict[date, str]) -> None:
        self.stored_years = stored_years
        self.stored_days = stored_days

    @classmethod
    def load(cls, db: Session) -> WorkingCalendar:
        """The calendar as the session's transaction sees it (``per_generation``)."""
        def read() -> WorkingCalendar:
            # One statement of plain columns: every write of a case reads the calendar.
            rows = db.execute(_CALENDAR).all()
            return cls({year for year, _day, _kind in rows}, {day: kind for _year, day, kind in rows if day is not None})

        return per_generation(db, _MEMO, read)

    @staticmethod
    @cache
    def package_knows(year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_known(self, year: int) -> bool:
        return year in self.stored_years or self.package_knows(year)

    def is_working_day(self, day: date) -> bool:
        if day in self.stored_days:
            return self.stored_days[day] == "workday"
        if day.year in self.stored_years:  # a published year: whatever is not listed is ordinary
            return day.weekday() < 5
        if self.package_knows(day.year):
            return _package_workday(day)
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS

    def add_working_days(self, start: date, working_days: int) -> Deadline:
        """The due date ``working_days`` working days after ``start`` (the start day not counted)."""
        if working_days < 0:
            raise ValueError("working_days must not be negative")
        day, counted, unknown = start, 0, set()
        if not self.is_known(start.year):
            unknown.add(start.year)
        while counted < working_days:
            day += timedelta(days=1)
            if (day - start).days > _MAX_SPAN_DAYS:
                raise ValueError("deadline span too long")
            if not self.is_known(day.year):
                unknown.add(day.year)
            if self.is_working_day(day):
                counted += 1
        return Deadline(start, working_days, day, bool(unknown), tuple(sorted(unknown)))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end <= start)."""
        if (end - start).days > _MAX_SPAN_DAYS:
            raise ValueError("span too long")
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def first_day_within(self, due: date, working_days: int) -> date:
        """The earliest day from which at most ``working_days`` working days remain until ``due``
        (``working_days_between(day, due) <= working_days``): where a "2 days before" warning starts."""
        if working_days < 0:
            raise ValueError("working_days must not be negative")
        day, remaining = due, 0
        while (due - day).days <= _MAX_SPAN_DAYS:
            remaining += 1 if self.is_working_day(day) else 0
            if remaining > working_days:
                return day
            day -= timedelta(days=1)
        raise ValueError("span too long")

    def _office_periods(self, first: date):
        """(start, end) of every office period from ``first`` on, as aware Beijing datetimes."""
        day = first
        while (day - first).days <= _MAX_SPAN_DAYS:
            if self.is_working_day(day):
                for opens, closes in OFFICE_HOURS:
                    yield (datetime.combine(day, opens, clock.BEIJING), datetime.combine(day, closes, clock.BEIJING))
            day += timedelta(days=1)
        raise ValueError("span too long")

    def add_working_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment ``minutes`` of office hours after ``start`` (a limit in 工作小时): time
        outside office hours and on rest days does not count. A limit of 0 is due at ``start``."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        left, cursor = timedelta(minutes=minutes), clock.beijing(start)
        if not left:
            return start
        for opens, closes in self._office_periods(cursor.date()):
            begin = max(opens, cursor)
            if begin >= closes:
                continue
            if closes - begin >= left:
                return begin + left
            left -= closes - begin
        raise ValueError("span too long")  # unreachable: the periods end by raising

    def working_minutes_between(self, start: datetime, end: datetime) -> int:
        """Minutes of office hours between two moments (0 if end <= start)."""
        start, end = clock.beijing(start), clock.beijing(end)
        if end <= start:
            return 0
        if (end - start).days > _MAX_SPAN_DAYS:
            raise ValueError("span too long")
        total = timedelta()
        for opens, closes in self._office_periods(start.date()):
            if opens >= end:
                break
            total += max(min(closes, end) - max(opens, start), timedelta())
        return int(total.total_seconds() // 60)

    def month(self, year: int, month: int) -> list[tuple[date, bool]]:
        first = date(year, month, 1)
        days = []
        day = first
        while day.month == month:
            days.append((day, self.is_working_day(day)))
            day += timedelta(days=1)
        return days


def publish_year(
    db: Session, *, year: int, notice: str, holidays: dict[date, str], workdays: dict[date, str], published_by: str
) -> CalendarYear:
    """Store (or replace) one year's schedule from the State Council notice."""
    for day in [*holidays, *workdays]:
        if day.year != year:
            raise ValueError(f"{day.isoformat()} 不属于 {year} 年")
    clash = set(holidays) & set(workdays)
    if clash:
        raise ValueError(f"{min(clash).isoformat()} 不能同时是节假日和调休上班日")
    existing = db.get(CalendarYear, year)
    if existing is not None:
        db.delete(existing)
        for row in db.scalars(select(CalendarDay).where(CalendarDay.year == year)):
            db.delete(row)
        db.flush()
    entry = CalendarYear(year=year, notice=notice, published_by=published_by, published_at=clock.now())
    db.add(entry)
    db.flush()
    db.add_all(CalendarDay(day=d, year=year, kind="holiday", name=n) for d, n in holidays.items())
    db.add_all(CalendarDay(day=d, year=year, kind="workday", name=n) for d, n in workdays.items())
    db.flush()
    forget(db, _MEMO)  # this transaction reads the new schedule from now on
    return entry
