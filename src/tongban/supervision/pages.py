"""Pages of 电子监察: the dashboard with its drill-down (department → clocks → one clock and its
history), the evaluations, the rectifications, the applicant's rating form, and the portal's
public summary of the published evaluations."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, or_, select

from tongban.core.security import Csrf, check_csrf
from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission, Scope
from tongban.core.templating import date_field, flash, render
from tongban.core.workdays import WorkingCalendar
from tongban.org import service as org
from tongban.supervision import dashboard, evaluation, ratings, service
from tongban.supervision.models import (
    KIND_LABELS,
    LEVEL_LABELS,
    STATUS_LABELS,
    ClockKind,
    ClockStatus,
    Level,
    Rectification,
    RectificationStatus,
    SupervisionClock,
    outcome_label,
)
from tongban.supervision.schemas import RECTIFICATION_STATUS_LABELS, REASON_LABELS, SCORE_LABELS, reason_labels
from tongban.core import clock as wall

router = APIRouter(include_in_schema=False)
Chosen = TypeVar("Chosen", bound=StrEnum)
PAGE_SIZE = 30
DateText = Annotated[str | None, Query(max_length=10)]
Choice = Annotated[str | None, Query(max_length=24)]
LABELS = {"kind": KIND_LABELS, "level": LEVEL_LABELS, "status": STATUS_LABELS,
          "rectification": RECTIFICATION_STATUS_LABELS, "score": SCORE_LABELS, "reason": REASON_LABELS}
ACTION_LABELS = {"started": "开始计时", "paused": "暂停计时", "resumed": "恢复计时", "extended": "延长期限", "assigned": "承办人变更",
                 "closed": "结束计时", "warned_yellow": "黄色预警", "warned_red": "红色预警"}


def _choice(kind: type[Chosen], raw: str | None, label: str) -> Chosen | None:
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise Problem("validation-error", f"{label}的取值「{raw}」无效") from None


def _back(request: Request, url: str, work, done: str):
    """Run one change; on success say so, on a refusal show its reason on the page it came from."""
    try:
        work()
    except Problem as problem:
        if problem.status >= 500:
            raise
        flash(request, problem.detail, "error")
        return RedirectResponse(url, status_code=303)
    flash(request, done)
    return RedirectResponse(url, status_code=303)


# ---- the dashboard and its drill-down -------------------------------------------------------------


@router.get("/supervision", summary="电子监察看板")
def dashboard_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                   from_: Annotated[str | None, Query(alias="from", max_length=10)] = None, to: DateText = None,
                   department: Annotated[str | None, Query(max_length=32)] = None):
    filters = {"from": from_ or "", "to": to or "", "department": department or ""}
    context: dict[str, Any] = {"principal": principal, "filters": filters, "labels": LABELS, "rate": evaluation.rate_percent,
               "departments": org.list_all(db)}
    try:
        board = dashboard.build(db, principal, period_start=date_field(from_, "开始日期"), period_end=date_field(to, "结束日期"),
                                department=department or None)
    except Problem as problem:
        if problem.status >= 500 or problem.status == 403:
            raise
        return render(request, "supervision_dashboard.html", status_code=problem.status, error=problem.detail,
                      board=None, **context)
    open_rectifications = db.scalar(select(func.count()).select_from(ratings.rectifications_query(
        db, principal, status=RectificationStatus.OPEN,
        department=board.department.code if board.department else None).subquery()))
    return render(request, "supervision_dashboard.html", board=board, error=None, open_rectifications=open_rectifications,
                  **context)


def _touching(query, start: date, end: date):
    """Clocks at work at some time in the period: started by its end and not closed before it."""
    return query.where(SupervisionClock.started_on <= end,
                       or_(SupervisionClock.closed_on.is_(None), SupervisionClock.closed_on >= start))


@router.get("/supervision/departments/{code}", summary="部门监察明细")
def department_page(request: Request, code: str, db: DbSession,
                    principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                    from_: Annotated[str | None, Query(alias="from", max_length=10)] = None, to: DateText = None,
                    level: Choice = None, status: Choice = None, kind: Choice = None, overdue: Choice = None,
                    cursor: Annotated[str | None, Query(max_length=200)] = None):
    # The filter form sends "" for 全部: empty is no filter, anything else must be a known value.
    chosen_level = _choice(Level, level, "预警")
    chosen_status, chosen_kind = _choice(ClockStatus, status, "状态"), _choice(ClockKind, kind, "工作类型")
    late = overdue == "true"
    board = dashboard.build(db, principal, period_start=date_field(from_, "开始日期"), period_end=date_field(to, "结束日期"),
                            department=code)
    department = board.department
    if department is None:  # asked for by its code: found, or 404 already
        raise Problem("not-found", f"部门代码 {code} 不存在")
    query = service.clocks_query(db, principal, department=code, kind=chosen_kind, level=chosen_level,
                                 status=chosen_status)
    if late:  # the evaluation's overdue work: closed late in the period, or open and overdue at its end
        query = query.where(SupervisionClock.id.in_(
            evaluation.overdue_clocks_query(department.id, board.period_start, board.period_end)
            .with_only_columns(SupervisionClock.id)))
    else:
        query = _touching(query, board.period_start, board.period_end)
    rows, next_cursor = paginate(db, query, SupervisionClock.id, cursor=cursor, limit=PAGE_SIZE)
    calendar, today = WorkingCalendar.load(db), wall.today()
    filters = {"level": chosen_level.value if chosen_level else "", "status": chosen_status.value if chosen_status else "",
               "kind": chosen_kind.value if chosen_kind else "", "overdue": "true" if late else ""}
    keep = {"from": board.period_start, "to": board.period_end, **{k: v for k, v in filters.items() if v}}
    return render(request, "supervision_department.html", principal=principal, board=board, labels=LABELS,
                  figures=board.rows[0].figures if board.rows else evaluation.figures(evaluation.combined([])),
                  rows=[(c, service.remaining_days(calendar, c, today)) for c in rows], filters=filters,
                  rate=evaluation.rate_percent, kinds=list(ClockKind), levels=list(Level), statuses=list(ClockStatus),
                  next_url=f"/supervision/departments/{code}?{urlencode({**keep, 'cursor': next_cursor})}"
                  if next_cursor else None)


@router.get("/supervision/clocks/{clock_id}", summary="一项计时及其经过")
def clock_page(request: Request, clock_id: Id, db: DbSession,
               principal: Annotated[Principal, require(Permission.SUPERVISION_READ)]):
    clock = service.clock_or_404(db, principal, clock_id)
    warnings, timeline = service.history(db, clock)
    application = None
    if clock.kind in (ClockKind.APPLICATION, ClockKind.ACCEPTANCE):
        application = ratings.application_by_number(db, clock.subject_ref)
    rating = ratings.rating_of(db, application.id) if application else None
    rectification = (db.get(Rectification, int(clock.subject_ref))
                     if clock.kind == ClockKind.RECTIFICATION and clock.subject_ref.isdigit() else None)
    may_acknowledge = {w.id: w.acknowledged_at is None and (
        principal.actor_id in (w.owner_account, clock.owner_account)
        or principal.can_for_department(Permission.WARNING_ACKNOWLEDGE, w.department_id)) for w in warnings}
    return render(request, "supervision_clock.html", principal=principal, clock=clock, warnings=warnings,
                  timeline=timeline, remaining=service.remaining_days(WorkingCalendar.load(db), clock, wall.today()),
                  labels=LABELS, actions=ACTION_LABELS, outcome_label=outcome_label, application=application, rating=rating, Permission=Permission,
                  rating_reasons=reason_labels(rating) if rating else [], rectification=rectification,
                  may_acknowledge=may_acknowledge)


@router.post("/supervision/warnings/{warning_id}/acknowledgement", summary="确认预警并说明")
def acknowledge(request: Request, warning_id: Id, db: DbSession,
                principal: Annotated[Principal, require(Permission.WARNING_ACKNOWLEDGE)],
                clock: Annotated[Id, Form()], explanation: Annotated[str, Form(max_length=2000)] = "",
                csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)

    def work():
        service.acknowledge(db, warning_id, principal, explanation=explanation)
        db.commit()

    return _back(request, f"/supervision/clocks/{clock}", work, "预警已确认，情况说明已记录。")


# ---- evaluations ----------------------------------------------------------------------------------


@router.get("/supervision/evaluations", summary="部门评估")
def evaluations_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                     period_start: DateText = None, period_end: DateText = None,
                     version: Annotated[Id | None, Query()] = None):
    start, end = date_field(period_start, "开始日期"), date_field(period_end, "结束日期")
    known = evaluation.periods(db)
    if not (start and end) and known:
        start, end = known[0]
    internal = principal.scope_for(Permission.EVALUATION_READ) == Scope.ALL
    rows: list[tuple[Any, Any, dict[str, Any]]] = []
    newest = shown = chosen = None
    changes: list[evaluation.FigureChange] = []
    history: list[evaluation.VersionHistory] = []
    names: dict[int, Any] = {}
    if start and end:
        newest = evaluation.latest(db, start, end)
        shown = evaluation.latest(db, start, end, published=True)
        chosen = evaluation.version_or_404(db, start, end, version) if version else newest
        stored = evaluation.rows_of(db, chosen, None if internal else principal.department_id)
        if internal and shown and newest and shown.id != newest.id:  # what publishing the newest would change
            changes = evaluation.changes(db, shown, newest)
        if internal:
            history = evaluation.history(db, start, end)
        names = evaluation.department_names(db, {r.department_id for r in stored} | {c.department_id for c in changes})
        rows = [(names[r.department_id], r, json.loads(r.figures)) for r in stored]
    return render(request, "supervision_evaluations.html", principal=principal, periods=known, start=start, end=end,
                  rows=rows, internal=internal, rate=evaluation.rate_percent, labels=LABELS,
                  may_run=principal.can(Permission.EVALUATION_RUN), newest=newest, shown=shown, chosen=chosen,
                  changes=changes, names=names, history=history,
                  default_start=wall.today().replace(day=1) if not start else start,
                  default_end=wall.today() if not end else end)


def _period_form(period_start: str, period_end: str) -> tuple[date, date]:
    start, end = date_field(period_start, "开始日期"), date_field(period_end, "结束日期")
    if not (start and end):
        raise Problem("validation-error", "请填写评估期间的开始和结束日期")
    return start, end


@router.post("/supervision/evaluations", summary="生成评估")
def run_evaluation(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_RUN)],
                   period_start: Annotated[str, Form(max_length=10)] = "",
                   period_end: Annotated[str, Form(max_length=10)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    said: list[str] = []

    def work():
        start, end = _period_form(period_start, period_end)
        outcome = evaluation.run(db, period_start=start, period_end=end, actor=principal)
        shown = evaluation.latest(db, start, end, published=True)
        db.commit()
        version = outcome.version
        if version is None:
            said.append(f"{start} 至 {end} 没有受监察的工作，没有生成评估。")
        elif not outcome.created:
            said.append(f"重新生成的数字与第 {version.number} 版相同，没有产生新版本。")
        elif shown is not None:
            said.append(f"重新生成得出不同的数字，已存为第 {version.number} 版；门户仍公示第 {shown.number} 版，"
                        "请核对下方差异后公布。")
        else:
            said.append(f"已生成 {start} 至 {end} 的评估（第 {version.number} 版），尚未在门户公布。")

    url = f"/supervision/evaluations?{urlencode({'period_start': period_start, 'period_end': period_end})}"
    response = _back(request, url, work, "")
    if said:
        flash(request, said[0])
    return response


@router.post("/supervision/evaluations/publication", summary="公布评估")
def publish_evaluation(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_RUN)],
                       period_start: Annotated[str, Form(max_length=10)] = "",
                       period_end: Annotated[str, Form(max_length=10)] = "",
                       version: Annotated[str, Form(max_length=9)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)

    def work():
        start, end = _period_form(period_start, period_end)
        if not (version.isascii() and version.isdigit()):  # the version the inspector checked is part of the form
            raise Problem("validation-error", "表单缺少要公布的版本号，请刷新页面后重试")
        evaluation.publish(db, period_start=start, period_end=end, actor=principal, version=int(version))
        db.commit()

    url = f"/supervision/evaluations?{urlencode({'period_start': period_start, 'period_end': period_end})}"
    return _back(request, url, work, f"{period_start} 至 {period_end} 的评估第 {version} 版已在门户公布。")


@router.get("/evaluations", summary="政务服务评估公示")
def public_page(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)],
                period: Annotated[str | None, Query(max_length=21, pattern=r"^(\d{4}-\d{2}-\d{2}/\d{4}-\d{2}-\d{2})?$")] = None):
    published = evaluation.periods(db, published_only=True)
    chosen = next((p for p in published if f"{p[0]}/{p[1]}" == period), published[0] if published else None)
    rows = []
    shown = None
    if chosen:
        shown = evaluation.latest(db, *chosen, published=True)
        stored = evaluation.rows_of(db, shown)
        names = evaluation.department_names(db, {r.department_id for r in stored})
        rows = [(names[r.department_id], evaluation.public_summary(json.loads(r.figures))) for r in stored]
    return render(request, "evaluations_public.html", principal=principal, periods=published, chosen=chosen, rows=rows,
                  shown=shown, rate=evaluation.rate_percent)


# ---- rectifications -------------------------------------------------------------------------------


@router.get("/supervision/rectifications", summary="整改")
def rectifications_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                        status: Choice = None, cursor: Annotated[str | None, Query(max_length=200)] = None):
    chosen = _choice(RectificationStatus, status, "状态")
    query = ratings.rectifications_query(db, principal, status=chosen)
    rows, next_cursor = paginate(db, query, Rectification.id, cursor=cursor, limit=PAGE_SIZE)
    names = evaluation.department_names(db, {r.department_id for r in rows})
    return render(request, "supervision_rectifications.html", principal=principal, rows=rows, names=names,
                  everything=principal.scope_for(Permission.EVALUATION_READ) == Scope.ALL,
                  labels=LABELS, status=chosen.value if chosen else "", statuses=list(RectificationStatus),
                  next_url=f"/supervision/rectifications?{urlencode({'status': chosen.value if chosen else '', 'cursor': next_cursor})}"
                  if next_cursor else None)


@router.get("/supervision/rectifications/{id}", summary="一项整改")
def rectification_page(request: Request, id: Id, db: DbSession,
                       principal: Annotated[Principal, require(Permission.EVALUATION_READ)]):
    row = ratings.rectification_or_404(db, principal, id)
    clock = db.get(SupervisionClock, row.clock_id) if row.clock_id else None
    department = evaluation.department_names(db, [row.department_id])[row.department_id]
    return render(request, "supervision_rectification.html", principal=principal, row=row, clock=clock,
                  department=department, labels=LABELS, open=row.status != RectificationStatus.CLOSED,
                  may_handle=principal.can_for_department(Permission.RECTIFICATION_HANDLE, row.department_id))


@router.post("/supervision/rectifications/{id}/follow-ups", summary="记录整改进展")
def follow_up(request: Request, id: Id, db: DbSession,
              principal: Annotated[Principal, require(Permission.RECTIFICATION_HANDLE)],
              text: Annotated[str, Form(max_length=2000)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)

    def work():
        ratings.follow_up(db, id, principal, text=text)
        db.commit()

    return _back(request, f"/supervision/rectifications/{id}", work, "整改进展已记录。")


@router.post("/supervision/rectifications/{id}/closure", summary="完成整改")
def close_rectification(request: Request, id: Id, db: DbSession,
                        principal: Annotated[Principal, require(Permission.RECTIFICATION_HANDLE)],
                        result: Annotated[str, Form(max_length=2000)] = "", csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)

    def work():
        ratings.close(db, id, principal, result=result)
        db.commit()

    return _back(request, f"/supervision/rectifications/{id}", work, "整改已完成，计时已结束。")


# ---- the applicant's rating ---------------------------------------------------------------------


@router.post("/applications/{number}/rating", summary="评价办件")
async def rate(request: Request, number: str, db: DbSession,
               principal: Annotated[Principal, require(Permission.RATING_SUBMIT)]):
    data = await request.form()
    token = data.get("csrf_token")
    check_csrf(request, token if isinstance(token, str) else None)  # a file is no token
    raw_score = str(data.get("score", ""))[:2]
    reasons = [str(r)[:40] for r in data.getlist("reason")][:8]
    comment = str(data.get("comment", ""))[:ratings.MAX_COMMENT + 1]

    def work():
        if not (raw_score.isascii() and raw_score.isdigit()):  # "²" is a digit to isdigit, not to int
            raise Problem("validation-error", "请选择 1 至 5 分的评分")
        _, rectification = ratings.rate(db, request.app.state.settings, number, principal, score=int(raw_score),
                                        reasons=reasons, comment=comment)
        db.commit()
        if rectification is not None:
            done.append("感谢您的评价。您的意见已转办理部门整改，整改结果将告知您。")

    done: list[str] = []
    response = _back(request, f"/applications/{number}", work, "感谢您的评价！")
    if done:
        flash(request, done[0])
    return response
