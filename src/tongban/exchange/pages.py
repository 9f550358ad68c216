"""Staff pages of the exchange: how shared data is used (from the exchange's call log)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from tongban.core.auth import Principal, require
from tongban.core.charts import nice_ceiling
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission, Scope
from tongban.core.templating import date_field, render
from tongban.exchange import usage
from tongban.org import service as org
from tongban.sharing.schemas import GRANTED_BY_LABELS

router = APIRouter(include_in_schema=False)

LABELS = {"usage_outcome": usage.OUTCOME_LABELS, "granted_by": GRANTED_BY_LABELS}


def _day_chart(per_day: list[usage.DayUsage]) -> dict:
    """Bar geometry for calls per day, drawn as inline SVG by the template (no script, no CDN)."""
    width, height, left, bottom, top = 720, 220, 44, 26, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([d.calls for d in per_day] + [1])
    top_value = nice_ceiling(peak)
    slot = plot_w / max(len(per_day), 1)
    every = max(1, math.ceil(len(per_day) / 10))  # about ten date labels, whatever the period
    bars = []
    for n, d in enumerate(per_day):
        total_h = plot_h * d.calls / top_value
        ok_h = plot_h * d.ok / top_value
        x = left + n * slot + slot * 0.15
        bars.append({"x": round(x, 1), "w": round(slot * 0.7, 1), "y": round(top + plot_h - total_h, 1),
                     "h": round(total_h, 1), "ok_y": round(top + plot_h - ok_h, 1), "ok_h": round(ok_h, 1),
                     "label": d.day.strftime("%m-%d") if n % every == 0 else None, "cx": round(x + slot * 0.35, 1),
                     "title": f"{d.day:%Y-%m-%d}：调用 {d.calls} 次，成功 {d.ok} 次"})
    ticks = [{"value": v, "y": round(top + plot_h - plot_h * v / top_value, 1)} for v in (0, top_value // 2, top_value)]
    return {"width": width, "height": height, "left": left, "right": width - 8, "base": top + plot_h,
            "label_y": height - 8, "bars": bars, "ticks": ticks}


def _department_chart(rows: list[usage.DepartmentUsage]) -> dict:
    """Horizontal bars of calls by calling department, longest first."""
    width, label_w, row_h = 720, 150, 28
    peak = max([r.calls for r in rows] + [1])
    bar_room = width - label_w - 70
    bars = [{"y": n * row_h + 4, "text_y": n * row_h + 19, "label": r.department_name,
             "w": round(bar_room * r.calls / peak, 1), "ok_w": round(bar_room * r.ok / peak, 1),
             "value_x": label_w + round(bar_room * r.calls / peak, 1) + 6, "calls": r.calls, "ok": r.ok}
            for n, r in enumerate(rows)]
    return {"width": width, "height": max(len(rows), 1) * row_h + 4, "label_w": label_w, "bars": bars}


@router.get("/exchange/usage", summary="数据使用情况")
def usage_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.USAGE_READ)],
               from_: Annotated[str | None, Query(alias="from", max_length=10)] = None,
               to: Annotated[str | None, Query(max_length=10)] = None,
               resource: Annotated[str | None, Query(max_length=40)] = None,
               department: Annotated[str | None, Query(max_length=32)] = None):
    filters = {"from": from_ or "", "to": to or "", "resource": resource or "", "department": department or ""}
    everything = principal.scope_for(Permission.USAGE_READ) == Scope.ALL
    context: dict[str, Any] = {"principal": principal, "filters": filters, "everything": everything, "labels": LABELS,
               "resources": usage.resources(db, principal),
               "departments": org.list_all(db), "outcomes": usage.OUTCOMES}
    try:
        within = usage.period(date_field(from_, "开始日期"), date_field(to, "结束日期"))
        report = usage.report(db, principal, within=within, resource=resource or None, department=department or None)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return render(request, "exchange_usage.html", status_code=problem.status, error=problem.detail, report=None,
                      **context)
    item_names = usage.item_names(db, {g.resource for g in report.unused_grants})
    return render(request, "exchange_usage.html", report=report, day_chart=_day_chart(report.per_day),
                  item_names=item_names,
                  department_chart=_department_chart(report.by_department), error=None, **context)
