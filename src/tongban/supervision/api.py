"""/api/v1/supervision: clocks, warnings and their explanations, warning rules, the scan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tongban.core.auth import Principal, require
from tongban.core.db.session import DbSession
from tongban.core.inputs import Id
from tongban.core.pagination import Cursor, Limit, Page, paginate
from tongban.core.permissions import Permission
from tongban.core.workdays import WorkingCalendar
from tongban.supervision import service
from tongban.supervision.models import ClockKind, ClockStatus, Level, SupervisionClock, SupervisionWarning
from tongban.supervision.schemas import (
    Acknowledgement, ClockDetail, ClockRead, RuleRead, RuleUpdate, RuleUpdated, ScanRead, WarningRead, clock_detail,
    clock_read, rule_read, warning_read,
)
from tongban.core import clock as wall

router = APIRouter(prefix="/api/v1/supervision", tags=["电子监察 supervision"])

Department = Annotated[str | None, Query(max_length=32, description="部门代码；部门角色只能查看本部门")]


@router.get("/clocks", response_model=Page[ClockRead], summary="监察计时列表（部门角色：本部门）")
def list_clocks(db: DbSession, principal: Annotated[Principal, require(Permission.SUPERVISION_READ)],
                department: Department = None, kind: ClockKind | None = None, level: Level | None = None,
                status: ClockStatus | None = None, cursor: Cursor = None, limit: Limit = 50):
    query = service.clocks_query(db, principal, department=department, kind=kind, level=level, status=status)
    rows, next_cursor = paginate(db, query, SupervisionClock.id, cursor=cursor, limit=limit)
    calendar, today = WorkingCalendar.load(db), wall.today()
    return Page[ClockRead](items=[clock_read(c, service.remaining_days(calendar, c, today)) for c in rows],
                           next_cursor=next_cursor)


@router.get("/clocks/{clock_id}", response_model=ClockDetail, summary="一项计时：期限、预警和全部经过")
def read_clock(clock_id: Id, db: DbSession, principal: Annotated[Principal, require(Permission.SUPERVISION_READ)]):
    clock = service.clock_or_404(db, principal, clock_id)
    warnings, timeline = service.history(db, clock)
    remaining = service.remaining_days(WorkingCalendar.load(db), clock, wall.today())
    return clock_detail(clock, remaining, warnings, timeline)


@router.get("/warnings", response_model=Page[WarningRead], summary="预警列表（部门角色：本部门）")
def list_warnings(db: DbSession, principal: Annotated[Principal, require(Permission.SUPERVISION_READ)],
                  department: Department = None, level: Level | None = None, kind: ClockKind | None = None,
                  acknowledged: bool | None = None, cursor: Cursor = None, limit: Limit = 50):
    query = service.warnings_query(db, principal, department=department, level=level, kind=kind,
                                   acknowledged=acknowledged)
    rows, next_cursor = paginate(db, query, SupervisionWarning.id, cursor=cursor, limit=limit)
    return Page[WarningRead](items=[warning_read(w) for w in rows], next_cursor=next_cursor)


@router.post("/warnings/{warning_id}/acknowledgement", response_model=WarningRead,
             summary="确认预警并说明情况（承办人或部门负责人，仅一次）")
def acknowledge(warning_id: Id, body: Acknowledgement, db: DbSession,
                principal: Annotated[Principal, require(Permission.WARNING_ACKNOWLEDGE)]):
    warning = service.acknowledge(db, warning_id, principal, explanation=body.explanation)
    db.commit()
    return warning_read(warning)


@router.get("/rules", response_model=list[RuleRead], summary="各类事项的预警规则")
def list_rules(db: DbSession, principal: Annotated[Principal, require(Permission.SUPERVISION_READ)]):
    return [rule_read(rule) for rule in service.rules(db)]


@router.put("/rules/{kind}", response_model=RuleUpdated, summary="修改预警规则（进行中的计时随即按新规则预警）")
def update_rule(kind: ClockKind, body: RuleUpdate, db: DbSession,
                principal: Annotated[Principal, require(Permission.SUPERVISION_MANAGE)]):
    rule, moved = service.update_rule(db, kind, yellow_days=body.yellow_days_before_due,
                                      red_days=body.red_days_after_due, enabled=body.enabled, actor=principal)
    db.commit()
    return RuleUpdated(**rule_read(rule).model_dump(), clocks_rescheduled=moved)


@router.post("/scan", response_model=ScanRead, summary="立即扫描预警（平台也按时自动执行）")
def run_scan(db: DbSession, principal: Annotated[Principal, require(Permission.SUPERVISION_MANAGE)]):
    result = service.scan(db, actor=principal)
    db.commit()
    return ScanRead(today=result.today, yellow=result.yellow, red=result.red, notifications=result.notifications)
