"""The public portal and the staff workbench."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from tongban.accounts import service as accounts
from tongban.audit import service as audit_log
from tongban.core.audit import ACTION_DOMAINS
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import ROLE_LABELS, Permission
from tongban.core.templating import render
from tongban.core import clock
from tongban.core.workdays import FIRST_START, LAST_START, DeadlineStart, WorkingCalendar
from tongban.org import service as org
from tongban.org.schemas import LEVEL_LABELS

router = APIRouter(include_in_schema=False)


@router.get("/", summary="门户首页")
def portal(request: Request, db: DbSession, principal: Annotated[Principal | None, require(Permission.PUBLIC)]):
    departments = [org.to_read(d) for d in org.list_all(db)]
    groups = {label: [d for d in departments if d.level_label == label] for label in LEVEL_LABELS.values()}
    return render(request, "portal.html", principal=principal, groups={k: v for k, v in groups.items() if v},
                  today=clock.today(), deadline=None, first_start=FIRST_START, last_start=LAST_START)


@router.get("/deadline", summary="办理时限计算")
def deadline_fragment(
    request: Request,
    db: DbSession,
    principal: Annotated[Principal | None, require(Permission.PUBLIC)],
    start: DeadlineStart,
    working_days: Annotated[int, Query(ge=0, le=1000)],
):
    result = WorkingCalendar.load(db).add_working_days(start, working_days)
    template = "deadline_result.html" if request.headers.get("hx-request") else "portal_deadline.html"
    return render(request, template, principal=principal, deadline=result)


@router.get("/staff", summary="工作台")
def workbench(request: Request, principal: Annotated[Principal, require(Permission.WORKBENCH)]):
    return render(request, "workbench.html", principal=principal, Permission=Permission)


@router.get("/staff/audit", summary="审计日志")
def audit_page(
    request: Request,
    db: DbSession,
    principal: Annotated[Principal, require(Permission.AUDIT_READ)],
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|denied|failed|)$")] = None,
    department_code: Annotated[str | None, Query(max_length=32)] = None,
    check: bool = False,
):
    page = audit_log.list_events(db, principal, cursor=cursor, limit=50, action=action or None,
                                 outcome=outcome or None, department_code=department_code or None)
    result = audit_log.verification(db, principal) if check else None
    return render(request, "audit.html", principal=principal, page=page, result=result,
                  domains=[(f"{domain}.", label) for domain, label in ACTION_DOMAINS.items()],
                  department_names={d.code: d.name for d in org.list_all(db)},
                  filters={"action": action or "", "outcome": outcome or "", "department_code": department_code or ""})


@router.get("/staff/departments/{code}", summary="部门人员")
def department_page(request: Request, code: str, db: DbSession,
                    principal: Annotated[Principal, require(Permission.USERS_READ)]):
    department = org.get_by_code_or_404(db, code)
    ensure_department(db, principal, Permission.USERS_READ, department, action="users.list")
    staff = accounts.list_staff(db, department=department)
    return render(request, "department.html", principal=principal, department=org.to_read(department), staff=staff,
                  can_manage=principal.can_for_department(Permission.USERS_MANAGE, department.id), role_labels=ROLE_LABELS)


@router.get("/staff/calendar", summary="工作日历")
def calendar_page(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.WORKBENCH)],
                  year: Annotated[int | None, Query(ge=2004, le=2100)] = None):
    calendar = WorkingCalendar.load(db)
    year = year or clock.today().year
    months = [(m, calendar.month(year, m)) for m in range(1, 13)]
    return render(request, "calendar.html", principal=principal, year=year, months=months,
                  known=calendar.is_known(year), published=year in calendar.stored_years)
