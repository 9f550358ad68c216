"""The page 「热线分析」 (/hotline/analysis): the API's figures (``analysis_api.read``) drawn as inline
SVG charts, each with its table of figures below it; no script, no CDN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.permissions import Permission
from tongban.core.templating import render
from tongban.hotline import analysis, analysis_api

router = APIRouter(include_in_schema=False)
LINES = 5  # the weekly chart's line classes (hotline.css: .rx-line-0 … 4)


@dataclass(frozen=True)
class Bar:
    label: str
    title: str
    text: str
    y: int
    w: float
    text_y: int
    value_x: float


@dataclass(frozen=True)
class Bars:
    width: int
    height: int
    label_w: int
    axis_x: int
    bar_h: int
    bars: list[Bar]


def _short(name: str, size: int = 8) -> str:
    return name if len(name) <= size else name[:size - 1] + "…"


def bars(rows: list[tuple[str, int, float]]) -> Bars:
    """A horizontal bar per (name, count, share), the longest the largest count."""
    label_w, area, row_h, bar_h = 116, 160, 28, 18
    top = max((n for _, n, _ in rows), default=0) or 1
    drawn = []
    for i, (name, n, share) in enumerate(rows):
        w = round(area * n / top, 1)
        text = f"{n} 件（{share * 100:.1f}%）"
        drawn.append(Bar(label=_short(name), title=f"{name}：{text}", text=text, y=i * row_h + 5, w=w,
                         text_y=i * row_h + 19, value_x=label_w + w + 6))
    return Bars(width=label_w + area + 112, height=max(len(rows), 1) * row_h + 6, label_w=label_w, axis_x=label_w,
                bar_h=bar_h, bars=drawn)


@dataclass(frozen=True)
class Line:
    css: str
    name: str
    points: str
    dots: list[tuple[float, float, str]]


@dataclass(frozen=True)
class Lines:
    width: int
    height: int
    left: int
    right: int
    base: int
    label_y: int
    ticks: list[tuple[float, int]]
    labels: list[tuple[float, str]]
    lines: list[Line]


def lines(result: analysis.Analysis) -> Lines:
    """One line per charted category over the period's weeks."""
    weeks = result.weeks
    left, step, top, base = 44, 56, 12, 200
    width = max(left + step * len(weeks) + 20, 360)
    peak = max((n for w in weeks for n in w.by_category.values()), default=0)
    scale = max(peak, 4)
    ticks = [(round(base - (base - top) * v / scale, 1), v) for v in sorted({0, scale // 2, scale})]
    xs = [left + step * i + step / 2 for i in range(len(weeks))]
    drawn = []
    for k, series in enumerate(result.series):
        values = [w.by_category.get(series.category, 0) for w in weeks]
        ys = [round(base - (base - top) * v / scale, 1) for v in values]
        drawn.append(Line(css=f"rx-line-{k % LINES}", name=series.name, points=" ".join(f"{x},{y}" for x, y in zip(xs, ys)),
                          dots=[(x, y, f"{series.name}，{w.label}：{v} 件") for x, y, v, w in zip(xs, ys, values, weeks)]))
    labels = [(x, f"{w.week_start.month}/{w.week_start.day}") for x, w in zip(xs, weeks)]
    return Lines(width=width, height=base + 30, left=left, right=width - 10, base=base, label_y=base + 18, ticks=ticks,
                 labels=labels, lines=drawn)


@router.get("/hotline/analysis", summary="热线分析")
def analysis_page(request: Request, db: DbSession,
                  principal: Annotated[Principal, require(Permission.HOTLINE_CENTRE, Permission.SUPERVISION_READ)],
                  start: Annotated[str, Query(max_length=32)] = "", end: Annotated[str, Query(max_length=32)] = ""):
    error = None
    try:
        result = analysis_api.read(db, principal, start, end)
    except Problem as problem:
        if problem.status != 422:
            raise
        db.rollback()
        error = problem.detail
        result = analysis_api.read(db, principal, "", "")
    return render(request, "hotline_analysis.html", status_code=422 if error else 200, principal=principal, a=result,
                  error=error, asked={"start": start, "end": end},
                  category_chart=bars([(c.name, c.count, c.share) for c in result.categories]),
                  street_chart=bars([(s.name, s.count, s.share) for s in result.streets]),
                  week_chart=lines(result), Permission=Permission, can_open=principal.can(Permission.HOTLINE_CENTRE))
