"""The supervision dashboard (监察看板): a period's figures by department, warnings day by day,
the ratings, and the geometry of their charts.

The figures are the evaluation's own (``evaluation.counters``), computed on the fly for whatever
period and department is asked, so the dashboard and a stored evaluation never disagree. Charts
are inline SVG drawn by the template from the coordinates computed here: no script, no CDN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tongban.core import clock
from tongban.core.auth import Principal, ensure_department
from tongban.core.charts import nice_ceiling
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Scope
from tongban.org import service as org
from tongban.supervision import evaluation
from tongban.supervision.models import KIND_LABELS, Level, SupervisionWarning
from tongban.supervision.read_models import Department

DEFAULT_DAYS = 30


@dataclass
class DepartmentFigures:
    department: Department
    figures: dict[str, Any]


@dataclass
class DayWarnings:
    day: date
    yellow: int = 0
    red: int = 0


@dataclass
class Dashboard:
    period_start: date
    period_end: date
    everything: bool  # the reader sees every department (inspectors, the e-government office)
    department: Department | None  # the department filter, if any
    rows: list[DepartmentFigures]
    totals: dict[str, Any]
    per_day: list[DayWarnings]
    charts: dict[str, dict] = field(default_factory=dict)

    @property
    def query(self) -> str:
        """The filters as a query string, for the links that keep them (drill-down, exports)."""
        return f"from={self.period_start}&to={self.period_end}" + (f"&department={self.department.code}"
                                                                     if self.department else "")


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for; by default the 30 days up to today (Beijing time)."""
    end = end or clock.today()
    start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise Problem("validation-error", "结束日期不能早于开始日期",
                      errors=[{"field": "query.to", "code": "before_start", "message": "结束日期不能早于开始日期"}])
    if (end - start).days >= evaluation.MAX_PERIOD_DAYS:
        raise Problem("validation-error", f"统计期间不能超过 {evaluation.MAX_PERIOD_DAYS} 天",
                      errors=[{"field": "query.from", "code": "too_long", "message": "统计期间过长"}])
    return start, end


def scope(db: Session, principal: Principal, department: str | None, action: str) -> tuple[bool, Department | None]:
    """(sees every department, the department to show): a head sees only the department."""
    everything = principal.scope_for(Permission.EVALUATION_READ) == Scope.ALL
    if department:
        found = org.get_by_code_or_404(db, department)
        ensure_department(db, principal, Permission.EVALUATION_READ, found, action=action)
        return everything, found
    if everything:
        return True, None
    if principal.department_id is None or principal.department_code is None:
        raise Problem("department-scope", "当前账户不属于任何部门")
    return False, org.get_by_code_or_404(db, principal.department_code)


def _warnings_per_day(db: Session, start: date, end: date, department_id: int | None) -> list[DayWarnings]:
    w = SupervisionWarning
    query = (select(w.raised_on, w.level, func.count()).where(w.raised_on >= start, w.raised_on <= end)
             .group_by(w.raised_on, w.level))
    if department_id is not None:
        query = query.where(w.department_id == department_id)
    days = {start + timedelta(days=n): DayWarnings(start + timedelta(days=n)) for n in range((end - start).days + 1)}
    for day, level, count in db.execute(query):
        if level in (Level.YELLOW, Level.RED):
            setattr(days[day], level, int(count))
    return list(days.values())


def build(db: Session, principal: Principal, *, period_start: date | None = None, period_end: date | None = None,
          department: str | None = None) -> Dashboard:
    start, end = period(period_start, period_end)
    everything, chosen = scope(db, principal, department, "supervision.dashboard")
    raw = evaluation.counters(db, start, end, [chosen.id] if chosen else None)
    names = evaluation.department_names(db, raw)
    rows = sorted((DepartmentFigures(names[d], evaluation.figures(counts)) for d, counts in raw.items()),
                  key=lambda row: row.department.id)
    board = Dashboard(start, end, everything, chosen, rows, evaluation.figures(evaluation.combined(raw.values())),
                      _warnings_per_day(db, start, end, chosen.id if chosen else None))
    board.charts = charts(board)
    return board


# ---- chart geometry ------------------------------------------------------------------------------

WIDTH, HALF = 720, 480  # a chart across the page; one of two side by side (drawn at the size it is shown)


def _horizontal(rows: list[tuple[str, list[tuple[int | float, str]], str, str]], top_value: float) -> dict:
    """Stacked horizontal bars: (label, [(value, css class)], text after the bar, tooltip) per row."""
    label_w, row_h, bar_h = 100, 26, 17
    room = HALF - label_w - 56
    bars = []
    for n, (label, segments, text, title) in enumerate(rows):
        x: float = label_w
        parts = []
        for value, css in segments:
            w = round(room * value / top_value, 1) if top_value else 0
            if w > 0:
                parts.append({"x": round(x, 1), "w": w, "css": css})
            x += w
        bars.append({"label": label, "y": n * row_h + 5, "text_y": n * row_h + 19, "h": bar_h, "parts": parts,
                     "value_x": round(x + 6, 1), "text": text, "title": title})
    return {"width": HALF, "height": max(len(rows), 1) * row_h + 6, "label_w": label_w, "bars": bars,
            "axis_x": label_w}


def _vertical(columns: list[tuple[str | None, list[tuple[int, str]], str]], *, height: int = 200,
              width: int = WIDTH) -> dict:
    """Stacked vertical bars: (axis label or None, [(value, css class)], tooltip) per column."""
    left, bottom, top = 44, 26, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    top_value = nice_ceiling(max([sum(v for v, _ in segments) for _, segments, _ in columns] + [1]))
    slot = plot_w / max(len(columns), 1)
    bars = []
    for n, (label, segments, title) in enumerate(columns):
        x, base, parts = left + n * slot + slot * 0.15, float(top + plot_h), []
        for value, css in segments:
            h = plot_h * value / top_value
            if h > 0:
                parts.append({"y": round(base - h, 1), "h": round(h, 1), "css": css})
            base -= h
        bars.append({"x": round(x, 1), "w": round(slot * 0.7, 1), "cx": round(x + slot * 0.35, 1), "label": label,
                     "parts": parts, "title": title})
    ticks = [{"value": v, "y": round(top + plot_h - plot_h * v / top_value, 1)} for v in (0, top_value // 2, top_value)]
    return {"width": width, "height": height, "left": left, "right": width - 8, "base": top + plot_h,
            "label_y": height - 8, "bars": bars, "ticks": ticks}


def charts(board: Dashboard) -> dict[str, dict]:
    rows = board.rows
    names = [row.department.short_name for row in rows]
    volume_peak = nice_ceiling(max([r.figures["closed"] + r.figures["open_at_end"] for r in rows] + [1]))
    volumes = _horizontal([
        (name, [(f["on_time"], "seg-ok"), (f["closed_late"], "seg-late"), (f["open_at_end"], "seg-open")],
         f"{f['closed'] + f['open_at_end']}",
         f"{name}：按时办结 {f['on_time']}，超期办结 {f['closed_late']}，期末在办 {f['open_at_end']}")
        for name, f in ((n, r.figures) for n, r in zip(names, rows))], volume_peak)
    timeliness = _horizontal([
        (name, [(float(f["on_time_rate"] or 0) * 100, "seg-brand")], evaluation.rate_percent(f["on_time_rate"]),
         f"{name}：按时办结率 {evaluation.rate_percent(f['on_time_rate'])}（办结 {f['closed']} 件）")
        for name, f in ((n, r.figures) for n, r in zip(names, rows))], 100)
    warning_peak = nice_ceiling(max([r.figures["yellow_warnings"] + r.figures["red_warnings"] for r in rows] + [1]))
    warnings = _horizontal([
        (name, [(f["yellow_warnings"], "seg-yellow"), (f["red_warnings"], "seg-red")],
         f"{f['yellow_warnings'] + f['red_warnings']}", f"{name}：黄色预警 {f['yellow_warnings']}，红色预警 {f['red_warnings']}")
        for name, f in ((n, r.figures) for n, r in zip(names, rows))], warning_peak)
    every = max(1, math.ceil(len(board.per_day) / 10))  # about ten date labels, whatever the period
    per_day = _vertical([
        (d.day.strftime("%m-%d") if n % every == 0 else None, [(d.yellow, "seg-yellow"), (d.red, "seg-red")],
         f"{d.day:%Y-%m-%d}：黄色预警 {d.yellow}，红色预警 {d.red}") for n, d in enumerate(board.per_day)])
    scores = board.totals["ratings_by_score"]
    ratings = _vertical([(f"{s} 分", [(scores[s], "seg-late" if int(s) <= evaluation.POOR_SCORE else "seg-ok")],
                          f"{s} 分：{scores[s]} 条") for s in evaluation.SCORES], height=200, width=HALF)
    return {"volumes": volumes, "timeliness": timeliness, "warnings": warnings, "per_day": per_day, "ratings": ratings}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)
