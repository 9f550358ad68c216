"""/api/v1/supervision: evaluations by level of publication, the dashboard and its exports; and
the public summary of the published evaluations (/api/v1/public/evaluations)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from tongban.core import clock
from tongban.core.auth import Principal, deny, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission, Scope
from tongban.core.workdays import WorkingCalendar
from tongban.org import service as org
from tongban.supervision import dashboard, evaluation, export, service
from tongban.supervision.models import EvaluationVersion, SupervisionClock
from tongban.supervision.report_schemas import (
    DashboardDay, DashboardDepartment, DashboardRead, EvaluationChanges, EvaluationRead, EvaluationVersionRead,
    PeriodIn, PublicationIn, PublicEvaluation, PublicEvaluations, change_reads, evaluation_read,
)
from tongban.supervision.schemas import ClockRead, clock_read

router = APIRouter(prefix="/api/v1/supervision", tags=["电子监察评估 evaluations"])
public = APIRouter(prefix="/api/v1/public", tags=["公开 public"])

From = Annotated[date | None, Query(alias="from", description="统计期间第一天（默认：30 天前）")]
To = Annotated[date | None, Query(description="统计期间最后一天（含；默认：今天）")]
Department = Annotated[str | None, Query(max_length=32, description="部门代码；部门负责人只能查看本部门")]


def _internal(principal: Principal) -> bool:
    return principal.scope_for(Permission.EVALUATION_READ) == Scope.ALL


def _reads(db, rows, level: str) -> list[EvaluationRead]:
    """Rows of one version, read at a level."""
    if not rows:
        return []
    version = db.get(EvaluationVersion, rows[0].version_id)
    shown = evaluation.latest(db, version.period_start, version.period_end, published=True)
    names = evaluation.department_names(db, {r.department_id for r in rows})
    return [evaluation_read(r, version, names[r.department_id], level, shown) for r in rows]


def _internal_only(db, principal: Principal, what: str, period: str) -> None:
    if not _internal(principal):
        raise deny(db, principal, slug="permission-denied", detail=f"{what}属内部评估资料，仅电子监察人员和电子政务办可查看",
                   action="supervision.evaluation_detail", object_type="evaluation_period", object_id=period)


@router.post("/evaluations", response_model=list[EvaluationRead],
             summary="生成（或重新生成）一个期间各部门的评估：数字与最新版本不同时存为新版本（已公布的数字不变，"
                     "待公布新版本）；相同则不产生新版本")
def run_evaluation(body: PeriodIn, db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_RUN)]):
    rows = evaluation.run(db, period_start=body.period_start, period_end=body.period_end, actor=principal).rows
    db.commit()
    return _reads(db, rows, "internal")


@router.post("/evaluations/publication", response_model=list[EvaluationRead],
             summary="在门户公布一个期间评估的最新版本（公开摘要），取代此前公布的版本")
def publish_evaluation(body: PublicationIn, db: DbSession,
                       principal: Annotated[Principal, require(Permission.EVALUATION_RUN)]):
    rows = evaluation.publish(db, period_start=body.period_start, period_end=body.period_end, actor=principal,
                              version=body.version)
    db.commit()
    return _reads(db, rows, "internal")


@router.get("/evaluations/changes", response_model=EvaluationChanges,
            summary="最新版本与门户公示版本的差异：部门、数字名称、公示值 → 新值")
def evaluation_changes(period_start: date, period_end: date, db: DbSession,
                       principal: Annotated[Principal, require(Permission.EVALUATION_READ)]):
    _internal_only(db, principal, "评估版本差异", f"{period_start}/{period_end}")
    newest = evaluation.latest(db, period_start, period_end)
    if newest is None:
        raise Problem("not-found", f"{period_start} 至 {period_end} 尚未生成评估")
    shown = evaluation.latest(db, period_start, period_end, published=True)
    changed = evaluation.changes(db, shown, newest) if shown and shown.id != newest.id else []
    return EvaluationChanges(period_start=period_start, period_end=period_end,
                             published_version=shown.number if shown else None, version=newest.number,
                             changes=change_reads(changed, evaluation.department_names(
                                 db, {c.department_id for c in changed})))


@router.get("/evaluations/versions", response_model=list[EvaluationVersionRead],
            summary="一个期间评估的版本记录（最新在前），每版与上一版相比变化的数字")
def evaluation_versions(period_start: date, period_end: date, db: DbSession,
                        principal: Annotated[Principal, require(Permission.EVALUATION_READ)]):
    _internal_only(db, principal, "评估版本记录", f"{period_start}/{period_end}")
    return [EvaluationVersionRead(number=h.version.number, created_at=h.version.created_at,
                                  computed_at=h.version.computed_at, computed_by=h.version.computed_by,
                                  published_at=h.version.published_at, published_by=h.version.published_by,
                                  shown=h.shown, departments=h.departments, changes=change_reads(h.changes, h.names))
            for h in evaluation.history(db, period_start, period_end)]


def _period_or_latest(db, period_start: date | None, period_end: date | None, *, published_only: bool = False):
    if period_start and period_end:
        return period_start, period_end
    if period_start or period_end:
        raise Problem("validation-error", "请同时给出评估期间的开始和结束日期",
                      errors=[{"field": "query.period_end" if period_start else "query.period_start",
                               "code": "required", "message": "缺少必填字段"}])
    latest = evaluation.periods(db, published_only=published_only, limit=1)
    return latest[0] if latest else (None, None)


@router.get("/evaluations", response_model=list[EvaluationRead],
            summary="评估：监察人员看内部明细（含各类工作），部门负责人看本部门汇总；默认最近一期")
def list_evaluations(db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                     period_start: date | None = None, period_end: date | None = None,
                     version: Annotated[Id | None, Query(description="版本号（默认：最新版本）")] = None):
    start, end = _period_or_latest(db, period_start, period_end)
    if start is None:
        return []
    chosen = (evaluation.version_or_404(db, start, end, version) if version is not None
              else evaluation.latest(db, start, end))
    if _internal(principal):
        return _reads(db, evaluation.rows_of(db, chosen), "internal")
    if principal.department_id is None:
        return []
    return _reads(db, evaluation.rows_of(db, chosen, principal.department_id), "department")


@router.get("/evaluations/{department}/overdue", response_model=Page[ClockRead],
            summary="内部明细：一个部门在期间内超期的计时（超期办结或期末超期）")
def overdue_clocks(department: str, period_start: date, period_end: date, db: DbSession,
                   principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                   cursor: Cursor = None, limit: Limit = 50):
    if not _internal(principal):
        raise deny(db, principal, slug="permission-denied", detail="超期明细属内部评估资料，仅电子监察人员和电子政务办可查看",
                   action="supervision.evaluation_detail", object_type="department", object_id=department)
    found = org.get_by_code_or_404(db, department)
    dashboard.period(period_start, period_end)  # the same limits on the period as the figures
    rows, next_cursor = paginate(db, evaluation.overdue_clocks_query(found.id, period_start, period_end),
                                 SupervisionClock.id, cursor=cursor, limit=limit)
    calendar, today = WorkingCalendar.load(db), clock.today()
    return Page[ClockRead](items=[clock_read(c, service.remaining_days(calendar, c, today)) for c in rows],
                           next_cursor=next_cursor)


@public.get("/evaluations", response_model=PublicEvaluations, summary="公开的部门评估摘要（默认最近公布的一期）")
def public_evaluations(db: DbSession, _: Annotated[Principal | None, require(Permission.PUBLIC)],
                       period_start: date | None = None, period_end: date | None = None):
    start, end = _period_or_latest(db, period_start, period_end, published_only=True)
    shown = evaluation.latest(db, start, end, published=True) if start and end else None
    rows = evaluation.rows_of(db, shown)
    return PublicEvaluations(version=shown.number if shown else None, period_start=start if shown else None,
                             period_end=end if shown else None, published_at=shown.published_at if shown else None,
                             departments=public_rows(db, rows))


def public_rows(db, rows) -> list[PublicEvaluation]:
    names = evaluation.department_names(db, {r.department_id for r in rows})
    return [PublicEvaluation(department=names[r.department_id].code, department_name=names[r.department_id].name,
                             **evaluation.public_summary(json.loads(r.figures))) for r in rows]


@router.get("/dashboard", response_model=DashboardRead, summary="监察看板的数字（部门负责人：本部门）")
def read_dashboard(db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                   from_: From = None, to: To = None, department: Department = None):
    board = dashboard.build(db, principal, period_start=from_, period_end=to, department=department)
    by_kind = board.everything  # the breakdown by kind is internal
    return DashboardRead(
        period_start=board.period_start, period_end=board.period_end,
        department=board.department.code if board.department else None,
        totals=board.totals if by_kind else evaluation.department_summary(board.totals),
        departments=[DashboardDepartment(department=r.department.code, department_name=r.department.name,
                                         figures=r.figures if by_kind else evaluation.department_summary(r.figures))
                     for r in board.rows],
        warnings_per_day=[DashboardDay(day=d.day, yellow=d.yellow, red=d.red) for d in board.per_day])


@router.get("/dashboard/xlsx", summary="导出监察看板 (Excel)", response_class=Response)
def dashboard_xlsx(db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                   from_: From = None, to: To = None, department: Department = None):
    board = dashboard.build(db, principal, period_start=from_, period_end=to, department=department)
    data = export.workbook(board, generated_by=principal.actor_name, generated_at=clock.now())
    return Response(data, media_type=export.MEDIA_XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{export.filename(board, "xlsx")}"'})


@router.get("/dashboard/pdf", summary="导出监察看板 (PDF，A4 横向)", response_class=Response)
def dashboard_pdf(db: DbSession, principal: Annotated[Principal, require(Permission.EVALUATION_READ)],
                  from_: From = None, to: To = None, department: Department = None):
    board = dashboard.build(db, principal, period_start=from_, period_end=to, department=department)
    data = export.pdf(board, generated_by=principal.actor_name, generated_at=clock.now())
    return Response(data, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{export.filename(board, "pdf")}"'})
