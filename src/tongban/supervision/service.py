"""电子监察: the warning scan, the rules it follows, reading clocks and warnings, explanations.

The scan is a handful of set-based statements whatever the number of clocks: raise the warnings
(INSERT … SELECT over the open clocks whose precomputed warning day has come), mark the clocks,
then notify everyone concerned with one INSERT … SELECT per kind of recipient. A clock gets at
most one warning per level (a unique key), so running the scan again, or twice at once, raises
nothing twice. Paused clocks are not open, so they never warn.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement, Date, Select, String, Table, and_, bindparam, case, cast as sql_cast, func, literal,
    or_, select, text, update,
)
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.auth import Principal, deny, ensure_department
from tongban.core.db.base import UTCDateTime, affected, insert_for
from tongban.core.db.cache import forget
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Role, Scope
from tongban.core.workdays import WorkingCalendar
from tongban.notifications import service as notifications
from tongban.org import service as org
from tongban.supervision.clocks import DEFAULT_RED_DAYS, DEFAULT_YELLOW_DAYS, RULES_KEY, warning_days
from tongban.supervision.models import (
    KIND_LABELS, LEVEL_LABELS, outcome_label, ClockEvent, ClockKind, ClockStatus, Level, RectificationStatus, SupervisionClock,
    SupervisionWarning, WarningRule,
)
from tongban.supervision.read_models import user_roles, users
from tongban.core import clock as wall
# The public face of supervision for other domains (the only module, with ``schemas``, they may
# import): the deadline clocks they start, pause and close (``clocks`` does the work), and the
# 好差评 an applicant gives (``ratings``). ``ClockKind`` names what is timed.
from tongban.supervision.clocks import (  # noqa: F401 (re-exported)
    due_text as clock_due_text, limit_text as clock_limit_text, assign as assign_clock, cancel as cancel_clock, extend as extend_clock, close as close_clock, close_clock as close_found_clock,
    find as find_clock, pause as pause_clock, resume as resume_clock, start as start_clock,
)
from tongban.supervision.evaluation import evaluate, publish as publish_evaluation  # noqa: F401 (re-exported)
from tongban.supervision.ratings import (  # noqa: F401 (re-exported)
    close as close_rectification, follow_up as follow_up_rectification, rate, rating_of, rectifications_query,
)
from tongban.supervision.schemas import Deadline, reason_labels as rating_reasons  # noqa: F401 (re-exported)

# The mapped classes' tables (their stubs say FromClause), for the set-based statements.
CLOCKS = cast(Table, SupervisionClock.__table__)
WARNINGS = cast(Table, SupervisionWarning.__table__)
# Written exactly as the partial indexes' predicates (models), so both engines use those indexes.
_BELOW_YELLOW = text("status = 'open' AND level = 'none'")
_BELOW_RED = text("status = 'open' AND level <> 'red'")
_SCAN_LOCK = 0x7B_5C_A7  # the advisory lock key of the warning scan


@dataclass(frozen=True)
class ScanResult:
    today: date
    yellow: int
    red: int
    notifications: int


def _raise(db: Session, level: Level, due: ColumnElement[bool], *, today: date, now: datetime) -> int:
    """Warnings of one level for every open clock the condition selects; the clocks marked."""
    disabled = select(WarningRule.kind).where(WarningRule.enabled.is_(False))
    # Who is told (the owner, or the whole department when nobody owns it), for the record.
    owner_first = ["owner"] if level == Level.YELLOW else ["owner", "department_head", "inspectors"]
    nobody_first = ["department", *owner_first[1:]]
    notified = case((CLOCKS.c.owner_account.is_(None), literal(json.dumps(nobody_first))),
                    else_=literal(json.dumps(owner_first)))
    below = _BELOW_YELLOW if level == Level.YELLOW else _BELOW_RED
    chosen = select(CLOCKS.c.id, literal(level.value, String), CLOCKS.c.kind, CLOCKS.c.department_id,
                    CLOCKS.c.owner_account, CLOCKS.c.due_on, literal(today, Date), literal(now, UTCDateTime), notified
                    ).where(below, due, CLOCKS.c.kind.not_in(disabled))
    columns = ["clock_id", "level", "kind", "department_id", "owner_account", "due_on", "raised_on", "raised_at",
               "notified"]
    raised = affected(db, insert_for(db, WARNINGS).from_select(columns, chosen).on_conflict_do_nothing())
    if raised:
        this_scan = select(WARNINGS.c.clock_id).where(_this_scan(today, now), WARNINGS.c.level == level.value)
        db.execute(update(CLOCKS).where(CLOCKS.c.id.in_(this_scan)).values(level=level.value))
    return raised


def _this_scan(today: date, now: datetime) -> ColumnElement[bool]:
    """The warnings this scan raised: at its moment, on its day (a clock standing still, as in
    tests, gives scans of different days one moment)."""
    return and_(WARNINGS.c.raised_at == literal(now, UTCDateTime), WARNINGS.c.raised_on == literal(today, Date))


def _notify(db: Session, today: date, now: datetime) -> int:
    """This scan's warnings to their recipients: one INSERT … SELECT per kind of recipient."""
    kind_label = case(*((WARNINGS.c.kind == str(kind), label) for kind, label in KIND_LABELS.items()),
                      else_=WARNINGS.c.kind)
    red = WARNINGS.c.level == Level.RED.value
    title = func.substr(case((red, literal("红色预警：")), else_=literal("黄色预警：")) + CLOCKS.c.title, 1, 200)
    body = (kind_label + literal("期限 ") + sql_cast(WARNINGS.c.due_on, String)
            + case((red, literal("，已逾期。请立即办理，并在电子监察中说明原因。")),
                   else_=literal("，即将到期，请抓紧办理。")))
    kind = literal("supervision.") + WARNINGS.c.level
    this_scan = _this_scan(today, now)
    joined = WARNINGS.join(CLOCKS, CLOCKS.c.id == WARNINGS.c.clock_id)
    # Inspectors are told in their own department (监察委), addressed by role.
    inspector_departments = list(db.scalars(
        select(users.c.department_id).distinct().join(user_roles, user_roles.c.user_id == users.c.id)
        .where(user_roles.c.role == Role.INSPECTOR.value, users.c.is_active.is_(True),
               users.c.department_id.is_not(None))))
    # Those who do the work are sent to it; the head and the inspectors, who watch it, to the clock
    # with its history (the work's own page may not be theirs to open: a task is its reviewers').
    watch = literal("/supervision/clocks/") + sql_cast(CLOCKS.c.id, String)
    recipients = [
        # the owner, or the department's staff when nobody owns the work
        # (an unclaimed review task: its department's reviewers, who alone can open it)
        (WARNINGS.c.department_id, case((and_(WARNINGS.c.owner_account.is_(None), WARNINGS.c.kind == ClockKind.TASK.value),
                                         literal(Role.REVIEWER.value)), else_=literal(None, String)),
         WARNINGS.c.owner_account, CLOCKS.c.link, this_scan),
        (WARNINGS.c.department_id, literal(Role.DEPARTMENT_HEAD.value), literal(None, String), watch, and_(this_scan, red)),
        *((literal(department_id), literal(Role.INSPECTOR.value), literal(None, String), watch, and_(this_scan, red))
          for department_id in inspector_departments),
    ]
    return sum(notifications.notify_selected(
        db, select(department, role, account, title, body, link, kind).select_from(joined).where(condition),
        at=now) for department, role, account, link, condition in recipients)


def scan(db: Session, *, today: date | None = None, actor=audit.SYSTEM) -> ScanResult:
    """Raise the warnings due ``today`` (Beijing time unless given) and notify, in the caller's transaction."""
    if db.get_bind().dialect.name == "postgresql":  # one scan at a time across workers (SQLite: the write lock)
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCAN_LOCK})
    else:
        db.connection()  # begin: wait for the write lock before asking the date
    today = today or wall.today()  # the day the scan runs, not the day it began waiting
    now = wall.now()
    # Dates select (the partial indexes); a clock in hours is decided by its moments within the day.
    at = literal(now, UTCDateTime)
    red_due = and_(CLOCKS.c.red_on <= today, or_(CLOCKS.c.red_at.is_(None), CLOCKS.c.red_at <= at))
    yellow_due = and_(CLOCKS.c.yellow_on <= today, or_(CLOCKS.c.yellow_at.is_(None), CLOCKS.c.yellow_at <= at),
                      or_(CLOCKS.c.red_on > today, and_(CLOCKS.c.red_at.is_not(None), CLOCKS.c.red_at > at)))
    yellow = _raise(db, Level.YELLOW, yellow_due, today=today, now=now)
    red = _raise(db, Level.RED, red_due, today=today, now=now)
    sent = _notify(db, today, now) if yellow or red else 0
    if yellow or red or actor is not audit.SYSTEM:  # the schedule's empty runs are not worth a log line
        audit.record(db, actor=actor, action="supervision.scan", object_type="supervision_scan",
                     object_id=today.isoformat(), details={"yellow": yellow, "red": red, "notifications": sent})
    return ScanResult(today, yellow, red, sent)


def scan_job(sessions) -> ScanResult:
    """The periodic scan of the server: warnings are raised without anyone opening a page."""
    with sessions() as db:
        result = scan(db)
        db.commit()
        return result


def clocks_of_subjects(db: Session, kinds: list[str], subject: str) -> list[SupervisionClock]:
    """Every clock of these kinds timing ``subject`` or one of its rounds (``subject/2`` …), in order."""
    return list(db.scalars(select(SupervisionClock).where(
        SupervisionClock.kind.in_(kinds),
        (SupervisionClock.subject_ref == subject) | SupervisionClock.subject_ref.startswith(f"{subject}/", autoescape=True))
        .order_by(SupervisionClock.id)))


# ---- rules ----------------------------------------------------------------------------------------


def rules(db: Session) -> list[WarningRule]:
    """Every kind's rule; a kind without a row shows the defaults it warns by."""
    stored = {rule.kind: rule for rule in db.scalars(select(WarningRule))}
    return [stored.get(kind) or WarningRule(kind=kind, yellow_days_before_due=DEFAULT_YELLOW_DAYS,
                                            red_days_after_due=DEFAULT_RED_DAYS, enabled=True)
            for kind in ClockKind] + [rule for kind, rule in stored.items() if kind not in set(ClockKind)]


def update_rule(db: Session, kind: ClockKind, *, yellow_days: int, red_days: int, enabled: bool,
                actor: Principal) -> tuple[WarningRule, int]:
    """Change a kind's rule; the running clocks of that kind move their warning days at once."""
    rule = db.get(WarningRule, kind.value)
    if rule is None:
        rule = WarningRule(kind=kind.value)
        db.add(rule)
    before = {"yellow": rule.yellow_days_before_due, "red": rule.red_days_after_due, "enabled": rule.enabled}
    rule.yellow_days_before_due, rule.red_days_after_due, rule.enabled = yellow_days, red_days, enabled
    rule.updated_by, rule.updated_at = actor.actor_name, wall.now()
    db.flush()
    forget(db, RULES_KEY)
    moved = _reschedule(db, kind.value, yellow_days, red_days)
    audit.record(db, actor=actor, action="supervision.rule", object_type="supervision_rule", object_id=kind.value,
                 details={"before": before, "after": {"yellow": yellow_days, "red": red_days, "enabled": enabled},
                          "clocks_rescheduled": moved})
    return rule, moved


def _reschedule(db: Session, kind: str, yellow_days: int, red_days: int) -> int:
    """New warning days for the kind's running clocks; computed once per (start, due) pair."""
    calendar = WorkingCalendar.load(db)
    rows = db.execute(select(CLOCKS.c.id, CLOCKS.c.started_on, CLOCKS.c.due_on)
                      .where(CLOCKS.c.kind == kind, CLOCKS.c.status != ClockStatus.CLOSED.value)).all()
    memo: dict[tuple[date, date], tuple[date, date]] = {}
    changes = []
    for clock_id, started_on, due_on in rows:
        if (started_on, due_on) not in memo:
            memo[started_on, due_on] = warning_days(calendar, started_on, due_on, yellow_days, red_days)
        yellow_on, red_on = memo[started_on, due_on]
        changes.append({"clock": clock_id, "yellow": yellow_on, "red": red_on})
    if changes:
        db.execute(update(CLOCKS).where(CLOCKS.c.id == bindparam("clock"))
                   .values(yellow_on=bindparam("yellow"), red_on=bindparam("red")), changes)
    return len(changes)


# ---- reading --------------------------------------------------------------------------------------


def _department_filter(db: Session, principal: Principal, department: str | None, column, action: str):
    """The department asked for (within the reader's scope), or the reader's own unless they see all."""
    if department:
        found = org.get_by_code_or_404(db, department)
        ensure_department(db, principal, Permission.SUPERVISION_READ, found, action=action)
        return column == found.id
    if principal.scope_for(Permission.SUPERVISION_READ) == Scope.ALL:
        return None
    return column == principal.department_id


def clocks_query(db: Session, principal: Principal, *, department: str | None = None, kind: str | None = None,
                 level: str | None = None, status: str | None = None) -> Select:
    query = select(SupervisionClock)
    scoped = _department_filter(db, principal, department, SupervisionClock.department_id, "supervision.clocks")
    if scoped is not None:
        query = query.where(scoped)
    if kind:
        query = query.where(SupervisionClock.kind == kind)
    if level:
        query = query.where(SupervisionClock.level == level)
    if status:
        query = query.where(SupervisionClock.status == status)
    return query


def warnings_query(db: Session, principal: Principal, *, department: str | None = None, level: str | None = None,
                   kind: str | None = None, acknowledged: bool | None = None) -> Select:
    query = select(SupervisionWarning)
    scoped = _department_filter(db, principal, department, SupervisionWarning.department_id, "supervision.warnings")
    if scoped is not None:
        query = query.where(scoped)
    if level:
        query = query.where(SupervisionWarning.level == level)
    if kind:
        query = query.where(SupervisionWarning.kind == kind)
    if acknowledged is not None:
        query = query.where(SupervisionWarning.acknowledged_at.is_not(None) if acknowledged
                            else SupervisionWarning.acknowledged_at.is_(None))
    return query


def count_overdue(db: Session, principal: Principal) -> int:
    """The department's red clocks still open (逾期), as its monitoring page lists them filtered
    by 红色 and 进行中 (``/supervision/departments/<code>?level=red&status=open``)."""
    query = clocks_query(db, principal, level=Level.RED.value, status=ClockStatus.OPEN.value).where(
        SupervisionClock.started_on <= wall.today())
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


# The two filters of a queue by its clocks: past the red day (红色预警, 已逾期) or past the yellow
# day and not yet red (黄色预警, 即将到期). By the days, not by the scan's marks, so a count and its
# list agree whenever they are read.
DUE_FILTERS = {"overdue": "已逾期", "soon": "即将到期"}


def due_subjects(kind: ClockKind, due: str) -> Select:
    """The subjects (as stored: strings) of a kind's running clocks that are overdue or due soon
    today (``DUE_FILTERS``), for a domain to filter its own rows on."""
    today = wall.today()
    query = select(SupervisionClock.subject_ref).where(SupervisionClock.kind == kind,
                                                       SupervisionClock.status == ClockStatus.OPEN)
    if due == "overdue":
        return query.where(SupervisionClock.red_on <= today)
    if due == "soon":
        return query.where(SupervisionClock.yellow_on <= today, SupervisionClock.red_on > today)
    raise ValueError(f"unknown due filter {due!r}")


def count_open_rectifications(db: Session, principal: Principal) -> int:
    """The rectifications still open that the reader sees (``/supervision/rectifications?status=open``)."""
    query = rectifications_query(db, principal, status=RectificationStatus.OPEN)
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0


def clock_or_404(db: Session, principal: Principal, clock_id: int) -> SupervisionClock:
    clock = db.get(SupervisionClock, clock_id)
    if clock is None:
        raise Problem("not-found", f"没有编号为 {clock_id} 的监察计时")
    ensure_department(db, principal, Permission.SUPERVISION_READ, clock.department, action="supervision.clock")
    return clock


def history(db: Session, clock: SupervisionClock) -> tuple[list[SupervisionWarning], list[dict[str, Any]]]:
    """The clock's warnings, and its timeline: the start, what happened between, the end."""
    warnings = list(db.scalars(select(SupervisionWarning).where(SupervisionWarning.clock_id == clock.id)
                               .order_by(SupervisionWarning.id)))
    timeline: list[dict[str, Any]] = [{"action": "started", "day": clock.started_on, "at": clock.created_at,
                 "note": f"时限 {clock.limit_days} 个工作日"}]
    timeline += [{"action": e.action, "day": e.day, "at": e.at, "note": e.note} for e in db.scalars(
        select(ClockEvent).where(ClockEvent.clock_id == clock.id).order_by(ClockEvent.id))]
    timeline += [{"action": f"warned_{w.level}", "day": w.raised_on, "at": w.raised_at,
                  "note": f"{LEVEL_LABELS[w.level]}（期限 {w.due_on}）"} for w in warnings]
    if clock.status == ClockStatus.CLOSED:
        verdict = "" if clock.on_time is None else ("，按时" if clock.on_time else "，超期")
        timeline.append({"action": "closed", "day": clock.closed_on, "at": None,
                         "note": f"{outcome_label(clock.kind, clock.outcome)}；用时 {clock.used_days} 个工作日{verdict}"})
    timeline.sort(key=lambda entry: entry["day"])  # stable: same-day entries keep their order
    return warnings, timeline


def remaining_days(calendar: WorkingCalendar, clock: SupervisionClock, today: date) -> int | None:
    """Working days left (negative when overdue); None once closed. A paused clock stands still."""
    if clock.status == ClockStatus.CLOSED:
        return None
    day = clock.paused_since or today
    if day <= clock.due_on:
        return calendar.working_days_between(day, clock.due_on)
    return -calendar.working_days_between(clock.due_on, day)


def _deadline(clock: SupervisionClock, calendar: WorkingCalendar, today: date) -> Deadline:
    return Deadline(started_on=clock.started_on, limit_days=clock.limit_days, due_on=clock.due_on,
                    paused=clock.status == ClockStatus.PAUSED, paused_since=clock.paused_since,
                    paused_days=clock.paused_days, closed=clock.status == ClockStatus.CLOSED,
                    remaining_days=remaining_days(calendar, clock, today))


def deadline_of(db: Session, kind: ClockKind, subject: str | int) -> Deadline | None:
    """The deadline of one piece of work as its clock keeps it; None when it has no clock."""
    clock = find_clock(db, kind, subject)
    return None if clock is None else _deadline(clock, WorkingCalendar.load(db), wall.today())


def deadlines_of(db: Session, kind: ClockKind, subjects: Iterable[str | int]) -> dict[str, Deadline]:
    """``deadline_of`` for a list (a page of applications, a task queue) in one statement, by subject
    (as a string); the subjects without a clock are absent."""
    wanted = sorted({str(subject) for subject in subjects})
    if not wanted:
        return {}
    calendar, today = WorkingCalendar.load(db), wall.today()
    return {clock.subject_ref: _deadline(clock, calendar, today) for clock in db.scalars(
        select(SupervisionClock).where(SupervisionClock.kind == kind, SupervisionClock.subject_ref.in_(wanted)))}


# ---- explanations ---------------------------------------------------------------------------------


def acknowledge(db: Session, warning_id: int, principal: Principal, *, explanation: str) -> SupervisionWarning:
    """The owner of the work, or the department's head, acknowledges a warning and explains it, once."""
    # Locked, so of two explanations at once one is kept and the other told so.
    warning = db.get(SupervisionWarning, warning_id, with_for_update={"of": SupervisionWarning})
    if warning is None:
        raise Problem("not-found", f"没有编号为 {warning_id} 的预警")
    own = principal.actor_type == "user" and principal.actor_id in (warning.owner_account, warning.clock.owner_account)
    if not own and not principal.can_for_department(Permission.WARNING_ACKNOWLEDGE, warning.department_id):
        other = principal.department_id != warning.department_id
        raise deny(db, principal, slug="department-scope" if other else "permission-denied",
                   detail=f"该预警属于{warning.clock.department.name}，无权确认" if other
                   else "只有承办人或本部门负责人可以确认该预警",
                   action="supervision.acknowledge", object_type="supervision_warning", object_id=str(warning_id))
    if warning.acknowledged_at is not None:
        raise Problem("already-acknowledged", f"该预警已于 {warning.acknowledged_at.astimezone(wall.BEIJING):%Y-%m-%d %H:%M} "
                      f"由{warning.acknowledged_by}确认说明：{warning.explanation}")
    explanation = " ".join((explanation or "").split())
    if not explanation:
        raise Problem("validation-error", "请填写情况说明",
                      errors=[{"field": "body.explanation", "code": "required", "message": "情况说明不能为空"}])
    warning.explanation, warning.acknowledged_by = explanation[:2000], principal.actor_name
    warning.acknowledged_account, warning.acknowledged_at = principal.actor_id, wall.now()
    audit.record(db, actor=principal, action="supervision.acknowledge", object_type="supervision_warning",
                 object_id=str(warning.id), details={"clock": warning.clock_id, "level": warning.level})
    db.flush()
    return warning
