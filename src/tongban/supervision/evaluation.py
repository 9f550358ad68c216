"""Evaluations (绩效评估): each department's figures for a period, generated from the records.

Every figure comes from a few set-based aggregates (GROUP BY department), never from a loop over
rows: one pass over the clocks that touch the period, one over its ratings, one over its
warnings. SQL returns integer counts and sums only; rates and averages are divided and rounded
here with ``Decimal`` (half up), so both engines give the same digits, and the figures are
written as canonical JSON. Nothing depends on the moment of computing: run again for the same
period over the same records, an evaluation gives the same figures and stores nothing new.

Published figures never change silently. A period's evaluation is kept in versions: a re-run
whose figures differ from the newest version (an application or a clock entered late) adds a
version beside it, and the portal keeps showing the newest *published* version until an
inspector, shown what changed (``changes``: department, figure, published value → new value),
publishes the new one (audited).

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

Three levels of publication read the same rows: ``internal`` (everything, with each kind of
work and the list of overdue clocks: inspectors), ``department`` (the department's own summary:
its head) and ``public`` (volumes, on-time rate and satisfaction, no case and no person: the
portal: the published version, once an inspector has published one).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from sqlalchemy import Date, and_, case, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tongban.core import audit
from tongban.core.errors import Problem
from tongban.core.clock import BEIJING
from tongban.supervision.models import (
    KIND_LABELS, ClockKind, Evaluation, EvaluationVersion, Level, ServiceRating, SupervisionClock, SupervisionWarning,
)
from tongban.supervision.read_models import DepartmentRow, applications, departments
from tongban.core import clock as wall

CLOCKS = SupervisionClock.__table__
MAX_PERIOD_DAYS = 366
POOR_SCORE = 2  # a score at or below it is a poor rating (差评)

# The counters SQL sums per department and kind of work; everything else derives from them.
CLOCK_COUNTERS = ("started", "closed", "on_time", "used_days", "limit_days", "supplemented", "refused",
                  "open_at_end", "open_overdue", "closed_in_days")
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
    # Work on a limit in hours (a grid case's steps) counts in the closed and on-time figures, not
    # in the averages of working days, where its limit of 0 days would pull them down.
    closed_in_days = and_(closed, c.limit_hours.is_(None))
    open_at_end = or_(c.closed_on.is_(None), c.closed_on > last)
    # The day time stopped counting: the period's end, or the day the clock was paused before it.
    stood_still = case((and_(c.paused_since.is_not(None), c.paused_since < last), c.paused_since), else_=last)
    query = (select(c.department_id, c.kind,
                    _count(c.started_on >= first),
                    _count(closed),
                    _count(and_(closed, c.on_time.is_(True))),
                    _total(closed_in_days, c.used_days),
                    _total(closed_in_days, c.limit_days),
                    _count(and_(closed, c.pause_count > 0)),
                    _count(and_(closed, c.outcome == "refused")),
                    _count(open_at_end),
                    _count(and_(open_at_end, c.due_on < stood_still)),
                    _count(closed_in_days))
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
            "avg_used_days": _ratio(sums["used_days"], sums.get("closed_in_days", closed), "0.01"),
            "avg_limit_days": _ratio(sums["limit_days"], sums.get("closed_in_days", closed), "0.01"),
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


# ---- stored evaluations: versions ---------------------------------------------------------------


def versions(db: Session, period_start: date, period_end: date) -> list[EvaluationVersion]:
    """The period's versions, oldest first."""
    return list(db.scalars(select(EvaluationVersion).where(
        EvaluationVersion.period_start == period_start, EvaluationVersion.period_end == period_end)
        .order_by(EvaluationVersion.number)))


def latest(db: Session, period_start: date, period_end: date, *, published: bool = False) -> EvaluationVersion | None:
    """The period's newest version (what the inspectors see), or its newest published one (the portal's)."""
    query = select(EvaluationVersion).where(EvaluationVersion.period_start == period_start,
                                            EvaluationVersion.period_end == period_end)
    if published:
        query = query.where(EvaluationVersion.published_at.is_not(None))
    return db.scalar(query.order_by(EvaluationVersion.number.desc()).limit(1))


def version_or_404(db: Session, period_start: date, period_end: date, number: int) -> EvaluationVersion:
    found = db.scalar(select(EvaluationVersion).where(
        EvaluationVersion.period_start == period_start, EvaluationVersion.period_end == period_end,
        EvaluationVersion.number == number))
    if found is None:
        raise Problem("not-found", f"{period_start} 至 {period_end} 没有第 {number} 版评估")
    return found


def rows_of(db: Session, version: EvaluationVersion | None, department_id: int | None = None) -> list[Evaluation]:
    """One version's rows, by department."""
    if version is None:
        return []
    query = select(Evaluation).where(Evaluation.version_id == version.id).order_by(Evaluation.department_id)
    if department_id is not None:
        query = query.where(Evaluation.department_id == department_id)
    return list(db.scalars(query))


def stored(db: Session, period_start: date, period_end: date, department_id: int | None = None) -> list[Evaluation]:
    """The rows of the period's newest version."""
    return rows_of(db, latest(db, period_start, period_end), department_id)


def published_rows(db: Session, period_start: date, period_end: date) -> list[Evaluation]:
    """The rows the portal shows: the period's newest published version."""
    return rows_of(db, latest(db, period_start, period_end, published=True))


class Outcome(NamedTuple):
    """What a run of an evaluation left: the period's newest version, its rows, and whether the run added it."""

    version: EvaluationVersion | None
    rows: list[Evaluation]
    created: bool


def _evaluate(db: Session, period_start: date, period_end: date, computed_by: str) -> Outcome:
    computed = {department_id: dump(values) for department_id, values in
                compute(db, period_start, period_end).items()}
    current = latest(db, period_start, period_end)
    now = wall.now()
    if current is not None:
        rows = rows_of(db, current)
        if {row.department_id: row.figures for row in rows} == computed:  # nothing changed: no new version
            current.computed_at, current.computed_by = now, computed_by[:128]
            db.flush()
            return Outcome(current, rows, False)
    elif not computed:  # nothing to evaluate, and nothing evaluated before
        return Outcome(None, [], False)
    version = EvaluationVersion(period_start=period_start, period_end=period_end,
                                number=current.number + 1 if current else 1, created_at=now, computed_at=now,
                                computed_by=computed_by[:128])
    db.add(version)
    try:
        db.flush()
    except IntegrityError:  # two inspectors re-ran the period at once: one new version, the other is told (the unit of work rolls back)
        raise Problem("conflict", f"{period_start} 至 {period_end} 的评估正由他人同时重新生成，请刷新后查看最新版本") from None
    rows = [Evaluation(version_id=version.id, department_id=department_id, figures=text)
            for department_id, text in sorted(computed.items())]
    db.add_all(rows)
    db.flush()
    return Outcome(version, rows, True)


def evaluate(db: Session, *, period_start: date, period_end: date, computed_by: str) -> list[Evaluation]:
    """Compute the period's figures, one row per department with work in it. Figures that differ
    from the period's newest version are stored as a new version beside it (the published one
    stays what the portal shows until published again); the same figures add nothing."""
    return _evaluate(db, period_start, period_end, computed_by).rows


def run(db: Session, *, period_start: date, period_end: date, actor) -> Outcome:
    """``evaluate`` on behalf of a person, recorded in the audit log."""
    outcome = _evaluate(db, period_start, period_end, actor.actor_name)
    audit.record(db, actor=actor, action="supervision.evaluate", object_type="evaluation_period",
                 object_id=f"{period_start}/{period_end}",
                 details={"departments": len(outcome.rows),
                          "version": outcome.version.number if outcome.version else None,
                          "new_version": outcome.created})
    return outcome


def publish(db: Session, *, period_start: date, period_end: date, actor,
            version: int | None = None) -> list[Evaluation]:
    """Publish the period's newest version on the portal, in place of the version published
    before. ``version``, when given, is the one the inspector checked: a newer one computed since
    is refused, so nobody publishes figures they have not seen."""
    current = latest(db, period_start, period_end)
    rows = rows_of(db, current)
    if current is None or not rows:
        raise Problem("not-found", f"{period_start} 至 {period_end} 尚未生成评估，请先生成再公布")
    if version is not None and version != current.number:
        raise Problem("stale-version", f"该期间已重新生成为第 {current.number} 版，请核对与已公布数字的差异后再公布")
    if current.published_at is not None:  # already what the portal shows
        return rows
    before = latest(db, period_start, period_end, published=True)
    changed = changes(db, before, current) if before else []
    current.published_at, current.published_by = wall.now(), actor.actor_name[:128]
    audit.record(db, actor=actor, action="supervision.publish", object_type="evaluation_period",
                 object_id=f"{period_start}/{period_end}",
                 details={"departments": len(rows), "version": current.number,
                          "replaces": before.number if before else None, "changed_figures": len(changed)})
    db.flush()
    return rows


def periods(db: Session, *, published_only: bool = False, limit: int = 24) -> list[tuple[date, date]]:
    """The periods evaluated (or published), latest first."""
    v = EvaluationVersion
    query = select(v.period_start, v.period_end).distinct()
    if published_only:
        query = query.where(v.published_at.is_not(None))
    return [(s, e) for s, e in db.execute(query.order_by(v.period_end.desc(), v.period_start.desc()).limit(limit))]


# ---- what changed between two versions ---------------------------------------------------------

# Each figure's name for people (the exports' column headers too); by kind of work, the kind's name goes before it.
FIGURE_NAMES: dict[str, str] = {
    "started": "新收（件）", "closed": "办结（件）", "on_time": "按时办结", "closed_late": "超期办结",
    "open_at_end": "期末在办", "open_overdue": "期末超期", "overdue": "超期合计", "on_time_rate": "按时办结率",
    "avg_used_days": "平均用时（工作日）", "avg_limit_days": "平均承诺时限（工作日）",
    "used_days_total": "用时合计（工作日）", "limit_days_total": "承诺时限合计（工作日）",
    "applications_closed": "办件办结", "supplemented": "补正办件", "supplement_rate": "补正率",
    "refused": "不予许可", "refusal_rate": "不予许可率", "sharing_closed": "共享申请答复",
    "sharing_on_time": "共享按时答复", "sharing_timeliness": "共享答复及时率", "ratings": "评价（条）",
    "satisfaction": "满意度（平均分）", "poor_ratings": "差评", "poor_share": "差评占比",
    "yellow_warnings": "黄色预警", "red_warnings": "红色预警",
}
RATES = frozenset({"on_time_rate", "supplement_rate", "refusal_rate", "sharing_timeliness", "poor_share"})


@dataclass(frozen=True)
class FigureChange:
    """One figure of one department that differs between two versions; a department missing from
    a version (no work in the period then) has no value there."""

    department_id: int
    figure: str  # its key: "started", "ratings_by_score.5", "by_kind.application.on_time_rate"
    name: str  # its name for people
    before: Any
    after: Any
    public: bool  # shown on the portal

    @property
    def before_text(self) -> str:
        return figure_text(self.figure, self.before)

    @property
    def after_text(self) -> str:
        return figure_text(self.figure, self.after)


def figure_text(figure: str, value: Any) -> str:
    """A figure as people read it: a rate as a percentage, nothing as "—"."""
    if value is None:
        return "—"
    return rate_percent(value) if figure.rsplit(".", 1)[-1] in RATES else str(value)


def _flat(values: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Every figure of a department by key, with its name, in the order people read them."""
    flat = {key: (name, values.get(key)) for key, name in FIGURE_NAMES.items()}
    for score in SCORES:
        flat[f"ratings_by_score.{score}"] = (f"{score} 分评价", values.get("ratings_by_score", {}).get(score))
    for kind, work in sorted(values.get("by_kind", {}).items()):
        for key, name in FIGURE_NAMES.items():
            if key in work:
                flat[f"by_kind.{kind}.{key}"] = (f"{KIND_LABELS.get(kind, kind)} · {name}", work[key])
    return flat


def diff(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]) -> list[FigureChange]:
    """The figures that differ, department by department (ids in order), figure by figure."""
    found = []
    for department_id in sorted(before.keys() | after.keys()):
        old, new = _flat(before.get(department_id, {})), _flat(after.get(department_id, {}))
        for key in list(old) + [k for k in new if k not in old]:
            name = (old.get(key) or new[key])[0]
            was, now = old[key][1] if key in old else None, new[key][1] if key in new else None
            if was != now:
                found.append(FigureChange(department_id, key, name, was, now, key in PUBLIC_FIGURES))
    return found


def changes(db: Session, before: EvaluationVersion | None, after: EvaluationVersion) -> list[FigureChange]:
    """What ``after`` changes of ``before`` (of nothing, when there is no version before)."""
    return diff({r.department_id: json.loads(r.figures) for r in rows_of(db, before)},
                {r.department_id: json.loads(r.figures) for r in rows_of(db, after)})


@dataclass(frozen=True)
class VersionHistory:
    """One version of a period as the inspectors review it: what changed from the version before."""

    version: EvaluationVersion
    shown: bool  # the version the portal shows
    departments: int
    changes: list[FigureChange]
    names: dict[int, DepartmentRow]  # the departments the changes name


def history(db: Session, period_start: date, period_end: date) -> list[VersionHistory]:
    """The period's versions, newest first, each with its changes from the one before."""
    every = versions(db, period_start, period_end)
    shown = latest(db, period_start, period_end, published=True)
    figures = {v.id: {r.department_id: json.loads(r.figures) for r in rows_of(db, v)} for v in every}
    found = []
    for before, version in zip([None, *every], every):
        changed = diff(figures[before.id], figures[version.id]) if before else []
        found.append(VersionHistory(version, shown is not None and shown.id == version.id, len(figures[version.id]),
                                    changed, department_names(db, {c.department_id for c in changed})))
    return found[::-1]


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

