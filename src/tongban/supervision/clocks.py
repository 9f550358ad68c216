"""The one way a module puts its deadlines under supervision: start, pause, resume, assign, close.

Each call runs in the caller's transaction, so a clock exists exactly when the work it times
does. A clock is found by its subject (kind + the subject's number or id); calls for a subject
without a clock (work begun before supervision existed) do nothing. Every day is a working day
of ``core.workdays``: the start day is not counted, pauses are not counted, holidays are not.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tongban.core.db.cache import per_generation

from tongban.core import clock as wall
from tongban.core.workdays import WorkingCalendar
from tongban.supervision.models import (
    CANCELLED, HOUR_BASIS_LABELS, YELLOW_SHARE_LEFT, ClockEvent, ClockKind, ClockStatus, HourBasis, Level,
    SupervisionClock, WarningRule,
)

DEFAULT_YELLOW_DAYS, DEFAULT_RED_DAYS = 2, 0


def rule_days(db: Session, kind: str) -> tuple[int, int]:
    """(yellow days before due, red days after due) of a kind; the defaults if it has no rule.
    Every kind's rule is read at once and kept while the reference data is unchanged
    (``per_generation``): a step of a case starts clocks of several kinds (the application's and
    its tasks'), and the rules are a handful of rows."""
    def read() -> dict[str, tuple[int, int]]:
        return {kind: (yellow, red) for kind, yellow, red in db.execute(_RULES)}

    return per_generation(db, RULES_KEY, read).get(kind, (DEFAULT_YELLOW_DAYS, DEFAULT_RED_DAYS))


RULES_KEY = "warning-rules"  # forgotten when a rule changes
_RULES = select(WarningRule.kind, WarningRule.yellow_days_before_due, WarningRule.red_days_after_due)


def warning_days(calendar: WorkingCalendar, started_on: date, due_on: date, yellow_days: int,
                 red_days: int) -> tuple[date, date]:
    """The first days the yellow and the red rule apply to a clock due on ``due_on``.

    Red: the day after the due date (after ``red_days`` more working days). Yellow: from the day
    at most ``yellow_days`` working days remain, but never on the start day itself (a one-day
    limit would otherwise warn at once) and never after red."""
    red_on = calendar.add_working_days(due_on, red_days).due + timedelta(days=1)
    yellow_on = max(calendar.first_day_within(due_on, yellow_days), started_on + timedelta(days=1))
    return min(yellow_on, red_on), red_on


def _after(clock: SupervisionClock, calendar: WorkingCalendar, start: datetime, minutes: int) -> datetime:
    """``minutes`` of the clock's hours after ``start`` (office hours, or every hour)."""
    if clock.hour_basis == HourBasis.CLOCK:
        return start + timedelta(minutes=minutes)
    return calendar.add_working_minutes(start, minutes)


def _minutes_between(clock: SupervisionClock, calendar: WorkingCalendar, start: datetime, end: datetime) -> int:
    if clock.hour_basis == HourBasis.CLOCK:
        return max(int((end - start).total_seconds() // 60), 0)
    return calendar.working_minutes_between(start, end)


def _schedule_hours(clock: SupervisionClock, calendar: WorkingCalendar) -> None:
    """Due, yellow and red moments of a clock in hours; the dates are their Beijing dates (the
    scan's indexes are on dates; the moments decide within the day)."""
    assert clock.started_at is not None and clock.limit_hours is not None  # an hours clock has both
    limit = clock.limit_hours * 60
    clock.due_at = _after(clock, calendar, clock.started_at, limit + clock.paused_minutes)
    clock.yellow_at = _after(clock, calendar, clock.started_at,
                             round(limit * (1 - YELLOW_SHARE_LEFT)) + clock.paused_minutes)
    clock.red_at = clock.due_at + timedelta(seconds=1)  # overdue: the moment after the limit
    clock.due_on, clock.provisional = wall.beijing(clock.due_at).date(), False
    clock.yellow_on, clock.red_on = wall.beijing(clock.yellow_at).date(), wall.beijing(clock.red_at).date()


def _schedule(db: Session, clock: SupervisionClock, calendar: WorkingCalendar) -> None:
    """Due date and warning days from the start, the limit and the working days paused so far."""
    if clock.limit_hours is not None:
        _schedule_hours(clock, calendar)
        return
    deadline = calendar.add_working_days(clock.started_on, clock.limit_days + clock.paused_days)
    clock.due_on, clock.provisional = deadline.due, deadline.provisional
    clock.yellow_on, clock.red_on = warning_days(calendar, clock.started_on, deadline.due, *rule_days(db, clock.kind))


def _event(db: Session, clock: SupervisionClock, action: str, day: date, note: str | None = None) -> None:
    if clock.id is None:  # started in this transaction: its row first
        db.flush()
    db.add(ClockEvent(clock_id=clock.id, action=action, day=day, at=wall.now(), note=note[:500] if note else None))


def find(db: Session, kind: str, subject: str | int) -> SupervisionClock | None:
    return db.scalar(_FIND, {"kind": kind, "subject": str(subject)})


# Built once: every step of a case looks its clocks up.
_FIND = select(SupervisionClock).where(SupervisionClock.kind == bindparam("kind"),
                                       SupervisionClock.subject_ref == bindparam("subject"))


def start(db: Session, *, kind: ClockKind, subject: str | int, title: str, department_id: int, limit_days: int,
          started_on: date, owner: str | None = None, link: str | None = None,
          calendar: WorkingCalendar | None = None, new_subject: bool = False,
          limit_hours: int | None = None, hour_basis: HourBasis = HourBasis.WORKING) -> SupervisionClock:
    """Start timing a piece of work. Starting it again returns the clock already there, resumed
    on ``started_on`` if it was paused (a resubmission after the window asked for materials).
    ``new_subject``: the work was created in this transaction, so it can have no clock yet.
    ``limit_hours``: a limit in hours (``hour_basis``) from this moment instead of ``limit_days``."""
    existing = None if new_subject else find(db, kind, subject)
    if existing is not None:
        return _resume(db, existing, started_on, None, calendar) if existing.status == ClockStatus.PAUSED else existing
    now = wall.now()
    clock = SupervisionClock(kind=kind, subject_ref=str(subject), title=title[:200], link=link,
                             department_id=department_id, owner_account=owner, started_on=started_on,
                             limit_days=max(limit_days, 0), paused_days=0, pause_count=0, status=ClockStatus.OPEN,
                             level=Level.NONE, created_at=now, paused_minutes=0)
    if limit_hours is not None:
        clock.limit_hours, clock.hour_basis, clock.started_at = max(limit_hours, 0), hour_basis.value, now
        clock.started_on, clock.limit_days = wall.beijing(now).date(), 0
    _schedule(db, clock, calendar or WorkingCalendar.load(db))
    db.add(clock)  # its start and its end are in the row itself; events record what happens between
    return clock


def pause(db: Session, kind: ClockKind, subject: str | int, *, on: date, note: str | None = None) -> SupervisionClock | None:
    """Stop the clock while the work waits on someone outside the department (a supplement)."""
    clock = find(db, kind, subject)
    if clock is None or clock.status != ClockStatus.OPEN:
        return clock
    clock.status, clock.paused_since = ClockStatus.PAUSED, on
    if clock.limit_hours is not None:
        clock.paused_at = wall.now()
    clock.pause_count += 1
    _event(db, clock, "paused", on, note)
    return clock


def _fold_pause(clock: SupervisionClock, on: date, calendar: WorkingCalendar) -> None:
    if clock.limit_hours is not None:
        if clock.paused_at is not None:
            clock.paused_minutes += _minutes_between(clock, calendar, clock.paused_at, wall.now())
        clock.paused_at = None
    elif clock.paused_since is not None:  # a paused clock has the day it stopped
        clock.paused_days += calendar.working_days_between(clock.paused_since, on)
    clock.paused_since = None


def resume(db: Session, kind: ClockKind, subject: str | int, *, on: date, note: str | None = None,
           calendar: WorkingCalendar | None = None) -> SupervisionClock | None:
    """Run again; the due date (and the warning days) move by the working days spent paused."""
    clock = find(db, kind, subject)
    if clock is None or clock.status != ClockStatus.PAUSED:
        return clock
    return _resume(db, clock, on, note, calendar)


def _resume(db: Session, clock: SupervisionClock, on: date, note: str | None,
            calendar: WorkingCalendar | None) -> SupervisionClock:
    calendar = calendar or WorkingCalendar.load(db)
    _fold_pause(clock, on, calendar)
    clock.status = ClockStatus.OPEN
    _schedule(db, clock, calendar)
    _event(db, clock, "resumed", on, f"暂停累计 {_paused_text(clock)}，期限顺延至 {due_text(clock)}"
           + (f"；{note}" if note else ""))
    return clock


def due_text(clock: SupervisionClock) -> str:
    """The clock's due date, or moment for a clock in hours, as people read it."""
    return wall.beijing_text(clock.due_at) if clock.due_at is not None else clock.due_on.isoformat()


def limit_text(clock: SupervisionClock) -> str:
    if clock.limit_hours is not None:
        return f"{clock.limit_hours} 个{HOUR_BASIS_LABELS[HourBasis(clock.hour_basis or HourBasis.WORKING)]}"
    return f"{clock.limit_days} 个工作日"


def _paused_text(clock: SupervisionClock) -> str:
    if clock.limit_hours is not None:
        return f"{clock.paused_minutes} 分钟"
    return f"{clock.paused_days} 个工作日"


def extend(db: Session, kind: ClockKind, subject: str | int, *, days: int, on: date, note: str | None = None,
           calendar: WorkingCalendar | None = None) -> SupervisionClock | None:
    """An approved extension of the limit (政府信息公开条例第三十三条): the due date and the warning
    days move by ``days`` working days (a clock in hours: by ``days`` of its hours); a paused
    clock stays paused."""
    clock = find(db, kind, subject)
    if clock is None or clock.status == ClockStatus.CLOSED or days <= 0:
        return clock
    if clock.limit_hours is not None:
        clock.limit_hours += days
        unit = HOUR_BASIS_LABELS[HourBasis(clock.hour_basis or HourBasis.WORKING)]
    else:
        clock.limit_days += days
        unit = "工作日"
    _schedule(db, clock, calendar or WorkingCalendar.load(db))
    _event(db, clock, "extended", on, f"延长 {days} 个{unit}，期限至 {due_text(clock)}" + (f"；{note}" if note else ""))
    return clock


def assign(db: Session, kind: ClockKind, subject: str | int, owner: str | None, *, on: date,
           name: str | None = None) -> SupervisionClock | None:
    """The person now on the work (a claimed task): warnings go to them."""
    clock = find(db, kind, subject)
    if clock is None or clock.status == ClockStatus.CLOSED or clock.owner_account == owner:
        return clock
    clock.owner_account = owner
    _event(db, clock, "assigned", on, f"承办人：{name or owner}")
    return clock


def close(db: Session, kind: ClockKind, subject: str | int, *, on: date, outcome: str,
          calendar: WorkingCalendar | None = None) -> SupervisionClock | None:
    """The work is done: on time or not, and the working days it used. Closing twice changes nothing."""
    return close_clock(db, find(db, kind, subject), on=on, outcome=outcome, calendar=calendar)


def close_clock(db: Session, clock: SupervisionClock | None, *, on: date, outcome: str,
                calendar: WorkingCalendar | None = None) -> SupervisionClock | None:
    """``close`` for a clock the caller has read already (with the row it times, in one statement)."""
    if clock is None or clock.status == ClockStatus.CLOSED:
        return clock
    calendar = calendar or WorkingCalendar.load(db)
    if clock.status == ClockStatus.PAUSED:
        _fold_pause(clock, on, calendar)
        _schedule(db, clock, calendar)
    clock.status, clock.closed_on, clock.outcome = ClockStatus.CLOSED, on, outcome[:24]
    clock.used_days = max(calendar.working_days_between(clock.started_on, on) - clock.paused_days, 0)
    clock.on_time = None if outcome == CANCELLED else on <= clock.due_on
    if clock.limit_hours is not None and clock.started_at is not None and clock.due_at is not None:
        now = wall.now()
        clock.closed_at = now
        clock.used_minutes = max(_minutes_between(clock, calendar, clock.started_at, now) - clock.paused_minutes, 0)
        clock.on_time = None if outcome == CANCELLED else now <= clock.due_at
    return clock


def cancel(db: Session, kind: ClockKind, subject: str | int, *, on: date,
           calendar: WorkingCalendar | None = None) -> SupervisionClock | None:
    """The work was withdrawn (the case ended elsewhere): closed, counted neither on time nor late."""
    return close(db, kind, subject, on=on, outcome=CANCELLED, calendar=calendar)
