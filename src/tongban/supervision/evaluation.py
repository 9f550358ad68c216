"""Evaluations (绩效评估): each department's figures for a period, generated from the records.

Every figure comes from a few set-based aggregates (GROUP BY department), never from a loop over
rows: one pass over the clocks that touch the period, one over its ratings, one over its
warnings. SQL returns integer counts and sums only; rates and averages are divided and rounded
here with ``Decimal`` (half up), so both engines give the same digits, and the figures are
written as canonical JSON. Nothing depends on the moment of computing: run again for the same
period over the same records, an evaluation gives the same figures, and replaces its row.

Which work counts, for a period ``[start, end]`` (Beijing dates, both inclusive):

- *closed*: clocks closed in the period, cancelled work excluded (it is neither on time nor late);
  on-time rate, average working days used against the limit committed, closed late;
- *open at the period's end*: started by ``end`` and not closed by then; overdue if its due date
  had passed by ``end`` (or by the day it was paused, when it was paused then);
- application clocks (办件) closed: the share with a supplement asked (paused at least once) and
  the share refused; sharing-request clocks closed: the share answered on time;
- ratings (好差评) given in the period, counted for the department of the application's clock;
- warnings raised in the period.

Figures are computed from the clocks as they stand: a clock paused over the period's end and
resumed since is judged by its moved due date.

Three levels of publication read the same row: ``internal`` (everything, with each kind of
work and the list of overdue clocks: inspectors), ``department`` (the department's own summary:
its head) and ``public`` (volumes, on-time rate and satisfaction, no case and no person: the
portal, once an inspector has published the period).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Date, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.errors import Problem
from tongban.core.clock import BEIJING
from tongban.supervision.models import (
    ClockKind, Evaluation, Level, ServiceRating, SupervisionClock, SupervisionWarning,
)
from tongban.supervision.read_models import DepartmentRow, applications, departments
from tongban.core import clock as wall

CLOCKS = SupervisionClock.__table__
MAX_PERIOD_DAYS = 366
INTERNAL, PUBLIC = "internal", "public"  # Evaluation.grade: how widely the row is published
POOR_SCORE = 2  # a score at or below it is a poor rating (差评)

# The counters SQL sums per department and kind of work; everything else derives from them.
CLOCK_COUNTERS = ("started", "closed", "on_time", "used_days", "limit_days", "supplemented", "refused",
                  "open_at_end", "open_overdue")
SCORES = ("1", "2", "3", "4", "5")


def _check_period(period_start: date, period_end: date) -> None:
    if period_end < period_start:
        raise Problem("validation-error", "结束日期不能早于开始日期",
                      errors=[{"field": "period_end", "code": "before_start", "message": "结束日期不能早于开始日期"}])
    if (period_end - period_start).days >= MAX_PERIOD_DAYS:
        raise Problem("validation-error", f"评估期间不能超过 {MAX_PERIOD_DAYS} 天",
                      errors=[{"field": "period_end", "code": "too_long", "message": "评估期间过长"}])


def _count(condition) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _total(condition, column) -> Any:
    return func.coalesce(func.sum(case((condition, column), else_=0)), 0)


def _clock_counters(db: Session, start: date, end: date, department_ids: Iterable[int] | None):
    """One pass over the clocks that touch the period: (department, kind, counters…) per group."""
    c = CLOCKS.c
    first, last = literal(start, Date), literal(end, Date)
    closed = and_(c.closed_on >= first, c.closed_on <= last, c.on_time.is_not(None))  # cancelled: on_time NULL
    open_at_end = or_(c.closed_on.is_(None), c.closed_on > last)
    # The day time stopped counting: the period's end, or the day the clock was paused before it.
    stood_still = case((and_(c.paused_since.is_not(None), c.paused_since < last), c.paused_since), else_=last)
    query = (select(c.department_id, c.kind,
                    _count(c.started_on >= first),
                    _count(closed),
                    _count(and_(closed, c.on_time.is_(True))),
                    _total(closed, c.used_days),
                    _total(closed, c.limit_days),
                    _count(and_(closed, c.pause_count > 0)),
                    _count(and_(closed, c.outcome == "refused")),
                    _count(open_at_end),
                    _count(and_(open_at_end, c.due_on < stood_still)))
             .where(c.started_on <= last, or_(c.closed_on.is_(None), c.closed_on >= first))
             .group_by(c.department_id, c.kind))
    if department_ids is not None:
        query = query.where(c.department_id.in_(list(department_ids)))
    return db.execute(query).all()


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's Beijing days as a half-open UTC interval (ratings carry a moment, not a day)."""
    return (datetime.combine(start, time(0), BEIJING).astimezone(UTC),
            datetime.combine(end + timedelta(days=1), time(0), BEIJING).astimezone(UTC))


def _rating_counters(db: Session, start: date, end: date, department_ids: Iterable[int] | None):
    """(department, score, count): ratings of the period, for the department of the application's clock."""
    since, until = _utc_bounds(start, end)
    clock = SupervisionClock
    query = (select(clock.department_id, ServiceRating.score, func.count())
             .select_from(ServiceRating)
             .join(applications, applications.c.id == ServiceRating.application_id)
             .join(clock, and_(clock.kind == ClockKind.APPLICATION.value, clock.subject_ref == applications.c.number))
             .where(ServiceRating.rated_at >= since, ServiceRating.rated_at < until)
             .group_by(clock.department_id, ServiceRating.score))
    if department_ids is not None:
        query = query.where(clock.department_id.in_(list(department_ids)))
    return db.execute(query).all()


def _warning_counters(db: Session, start: date, end: date, department_ids: Iterable[int] | None):
    w = SupervisionWarning
    query = (select(w.department_id, w.level, func.count())
             .where(w.raised_on >= start, w.raised_on <= end)
             .group_by(w.department_id, w.level))
    if department_ids is not None:
        query = query.where(w.department_id.in_(list(department_ids)))
    return db.execute(query).all()


def _empty() -> dict[str, Any]:
    return {"kinds": {}, "scores": dict.fromkeys(SCORES, 0), "yellow": 0, "red": 0}


def counters(db: Session, period_start: date, period_end: date,
             department_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """Raw counters per department with any work, rating or warning in the period."""
    _check_period(period_start, period_end)
    found: dict[int, dict[str, Any]] = {}
    for department_id, kind, *values in _clock_counters(db, period_start, period_end, department_ids):
        found.setdefault(department_id, _empty())["kinds"][kind] = dict(zip(CLOCK_COUNTERS, map(int, values)))
    for department_id, score, count in _rating_counters(db, period_start, period_end, department_ids):
        found.setdefault(department_id, _empty())["scores"][str(score)] += int(count)
    for department_id, level, count in _warning_counters(db, period_start, period_end, department_ids):
        if level in (Level.YELLOW, Level.RED):
            found.setdefault(department_id, _empty())[level] += int(count)
    return found


# ---- figures from counters ---------------------------------------------------------------------


def _ratio(part: int, whole: int, places: str = "0.0001") -> str | None:
    """A rate or an average as a decimal string, rounded half up; None when there is nothing to divide."""
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _work(sums: dict[str, int]) -> dict[str, Any]:
    closed, on_time = sums["closed"], sums["on_time"]
    return {"started": sums["started"], "closed": closed, "on_time": on_time, "closed_late": closed - on_time,
            "open_at_end": sums["open_at_end"], "open_overdue": sums["open_overdue"],
            "overdue": closed - on_time + sums["open_overdue"],
            "on_time_rate": _ratio(on_time, closed),
            "avg_used_days": _ratio(sums["used_days"], closed, "0.01"),
            "avg_limit_days": _ratio(sums["limit_days"], closed, "0.01"),
            "used_days_total": sums["used_days"], "limit_days_total": sums["limit_days"]}


def _add(into: dict[str, int], sums: dict[str, int]) -> dict[str, int]:
    for key in CLOCK_COUNTERS:
        into[key] = into.get(key, 0) + sums.get(key, 0)
    return into


def figures(raw: dict[str, Any]) -> dict[str, Any]:
    """Every figure of one department (or of several counters added together)."""
    kinds: dict[str, dict[str, int]] = raw["kinds"]
    all_work: dict[str, int] = {}
    for sums in kinds.values():
        _add(all_work, sums)
    empty = dict.fromkeys(CLOCK_COUNTERS, 0)
    application = kinds.get(ClockKind.APPLICATION.value, empty)
    sharing = kinds.get(ClockKind.SHARING_REQUEST.value, empty)
    scores = raw["scores"]
    rated = sum(scores.values())
    poor = sum(scores[s] for s in SCORES if int(s) <= POOR_SCORE)
    return {
        **_work(all_work or empty),
        "applications_closed": application["closed"],
        "supplemented": application["supplemented"],
        "supplement_rate": _ratio(application["supplemented"], application["closed"]),
        "refused": application["refused"],
        "refusal_rate": _ratio(application["refused"], application["closed"]),
        "sharing_closed": sharing["closed"],
        "sharing_on_time": sharing["on_time"],
        "sharing_timeliness": _ratio(sharing["on_time"], sharing["closed"]),
        "ratings": rated,
        "satisfaction": _ratio(sum(int(s) * n for s, n in scores.items()), rated, "0.01"),
        "poor_ratings": poor,
        "poor_share": _ratio(poor, rated),
        "ratings_by_score": dict(scores),
        "yellow_warnings": raw["yellow"],
        "red_warnings": raw["red"],
        "by_kind": {kind: _work(sums) for kind, sums in sorted(kinds.items())},
    }


def combined(raws: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The counters of several departments added up (the platform's totals)."""
    total = _empty()
    for raw in raws:
        for kind, sums in raw["kinds"].items():
            _add(total["kinds"].setdefault(kind, {}), sums)
        for score, count in raw["scores"].items():
            total["scores"][score] += count
        total["yellow"] += raw["yellow"]
        total["red"] += raw["red"]
    return total


def compute(db: Session, period_start: date, period_end: date,
            department_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """Figures per department for the period, without storing them (the dashboard's view)."""
    return {department_id: figures(raw)
            for department_id, raw in counters(db, period_start, period_end, department_ids).items()}


def dump(values: dict[str, Any]) -> str:
    """Canonical JSON: the same figures are always the same text."""
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


# ---- stored evaluations --------------------------------------------------------------------------


def evaluate(db: Session, *, period_start: date, period_end: date, computed_by: str) -> list[Evaluation]:
    """Compute and store one evaluation per department with work in the period, replacing the
    period's earlier rows (one per department and period). A row whose figures did not change
    keeps its publication; changed figures go back to internal until published again."""
    computed = compute(db, period_start, period_end)
    existing = {row.department_id: row for row in db.scalars(
        select(Evaluation).where(Evaluation.period_start == period_start, Evaluation.period_end == period_end))}
    now, rows = wall.now(), []
    for department_id in sorted(computed):
        text = dump(computed[department_id])
        row = existing.pop(department_id, None)
        if row is None:
            row = Evaluation(department_id=department_id, period_start=period_start, period_end=period_end,
                             grade=INTERNAL)
            db.add(row)
        elif row.figures != text:
            row.grade, row.published_at = INTERNAL, None
        row.figures, row.computed_at, row.computed_by = text, now, computed_by[:128]
        rows.append(row)
    for stale in existing.values():  # a department whose records no longer place it in the period
        db.delete(stale)
    db.flush()
    return rows


def run(db: Session, *, period_start: date, period_end: date, actor) -> list[Evaluation]:
    """``evaluate`` on behalf of a person, recorded in the audit log."""
    rows = evaluate(db, period_start=period_start, period_end=period_end, computed_by=actor.actor_name)
    audit.record(db, actor=actor, action="supervision.evaluate", object_type="evaluation_period",
                 object_id=f"{period_start}/{period_end}", details={"departments": len(rows)})
    return rows


def publish(db: Session, *, period_start: date, period_end: date, actor) -> list[Evaluation]:
    """Publish the period's public summaries on the portal (its rows must have been computed)."""
    rows = stored(db, period_start, period_end)
    if not rows:
        raise Problem("not-found", f"{period_start} 至 {period_end} 尚未生成评估，请先生成再公布")
    now = wall.now()
    for row in rows:
        if row.grade != PUBLIC:
            row.grade, row.published_at = PUBLIC, now
    audit.record(db, actor=actor, action="supervision.publish", object_type="evaluation_period",
                 object_id=f"{period_start}/{period_end}", details={"departments": len(rows)})
    db.flush()
    return rows


def stored(db: Session, period_start: date, period_end: date, department_id: int | None = None) -> list[Evaluation]:
    query = (select(Evaluation).where(Evaluation.period_start == period_start, Evaluation.period_end == period_end)
             .order_by(Evaluation.department_id))
    if department_id is not None:
        query = query.where(Evaluation.department_id == department_id)
    return list(db.scalars(query))


def periods(db: Session, *, published_only: bool = False, limit: int = 24) -> list[tuple[date, date]]:
    """The periods evaluated (or published), latest first."""
    query = select(Evaluation.period_start, Evaluation.period_end).distinct()
    if published_only:
        query = query.where(Evaluation.grade == PUBLIC)
    return [(s, e) for s, e in db.execute(query.order_by(Evaluation.period_end.desc(),
                                                         Evaluation.period_start.desc()).limit(limit))]


# ---- the levels of publication -----------------------------------------------------------------

# What the portal shows: volumes, timeliness, satisfaction; no case, no person, no internal detail.
PUBLIC_FIGURES = ("started", "closed", "on_time_rate", "avg_used_days", "avg_limit_days", "ratings", "satisfaction")


def department_summary(values: dict[str, Any]) -> dict[str, Any]:
    """A department head's view of the department: every figure but the breakdown by kind."""
    return {key: value for key, value in values.items() if key != "by_kind"}


def public_summary(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values[key] for key in PUBLIC_FIGURES}


def overdue_clocks_query(department_id: int, period_start: date, period_end: date):
    """The department's clocks that were late in the period: closed late in it, or open and overdue at its end."""
    c = SupervisionClock
    last = literal(period_end, Date)
    stood_still = case((and_(c.paused_since.is_not(None), c.paused_since < last), c.paused_since), else_=last)
    closed_late = and_(c.closed_on >= period_start, c.closed_on <= period_end, c.on_time.is_(False))
    open_overdue = and_(c.started_on <= period_end, or_(c.closed_on.is_(None), c.closed_on > period_end),
                        c.due_on < stood_still)
    return select(c).where(c.department_id == department_id, or_(closed_late, open_overdue))


def department_names(db: Session, ids: Iterable[int]) -> dict[int, DepartmentRow]:
    """The departments of these ids (org's table), read at once: the reports name their rows."""
    ids = list(ids)
    if not ids:
        return {}
    d = departments.c
    return {row.id: row for row in (DepartmentRow(*values) for values in db.execute(
        select(d.id, d.code, d.name, d.short_name).where(d.id.in_(ids))))}


def rate_percent(value: str | None, places: int = 1) -> str:
    """"0.8750" → "87.5%" for people; "—" when there was nothing to count."""
    if value is None:
        return "—"
    return f"{(Decimal(value) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)}%"

