"""The one clock of the platform: what time and what day it is in the district.

Every "now" and "today" in the code comes from here, never from ``datetime.now()`` or
``date.today()`` (server-local, and a server in UTC turns the day over at 16:00 Beijing time).
Times are timezone-aware; dates are Beijing dates, from which every deadline counts.

Tests and tools set the clock instead of sleeping or patching modules: ``set_clock(FixedClock(...))``
or the ``frozen`` context manager. The clock is process-wide (background loops read it too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still at ``moment`` (moved with ``advance``/``set``): tests and replays."""

    def __init__(self, moment: datetime | date) -> None:
        self.set(moment)

    def set(self, moment: datetime | date) -> None:
        if not isinstance(moment, datetime):  # a date: its Beijing morning, inside office hours
            moment = datetime.combine(moment, time(9, 0), BEIJING)
        if moment.tzinfo is None:
            raise ValueError("a clock's moment must be timezone-aware")
        self.moment = moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)

    def now(self) -> datetime:
        return self.moment


_clock: Clock = SystemClock()


def set_clock(clock: Clock | None) -> None:
    """Use ``clock`` from now on (``None``: the system clock again)."""
    global _clock
    _clock = clock if clock is not None else SystemClock()


def current() -> Clock:
    return _clock


@contextmanager
def frozen(moment: datetime | date) -> Iterator[FixedClock]:
    """The clock standing at ``moment`` inside the block, the previous clock after it."""
    previous = _clock
    clock = FixedClock(moment)
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def now() -> datetime:
    """The current moment in UTC (what the database stores)."""
    return _clock.now().astimezone(UTC)


def beijing_now() -> datetime:
    """The current moment in Beijing time (what people are shown)."""
    return _clock.now().astimezone(BEIJING)


def today() -> date:
    """Today in the district: deadlines count from it whatever the server's zone."""
    return beijing_now().date()


def beijing(moment: datetime) -> datetime:
    """A stored (aware) moment as Beijing time."""
    return moment.astimezone(BEIJING)


def beijing_text(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as people read it: Beijing time, minutes (empty for none)."""
    return "" if moment is None else moment.astimezone(BEIJING).strftime(fmt)
