"""The public portal and the staff workbench."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from sqlalchemy.orm import Session

from tongban.accounts import service as accounts
from tongban.audit import service as audit_log
from tongban.cases import service as cases
from tongban.core.audit import ACTION_DOMAINS
from tongban.core.auth import Principal, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.permissions import ROLE_LABELS, Permission, Scope
from tongban.core.templating import render
from tongban.core import clock
from tongban.core.workdays import FIRST_START, LAST_START, DeadlineStart, WorkingCalendar
from tongban.grid import service as grid
from tongban.hotline import service as hotline
from tongban.items import service as items
from tongban.org import service as org
from tongban.org.schemas import LEVEL_LABELS
from tongban.registry import service as registry
from tongban.sharing import service as sharing
from tongban.supervision import service as supervision

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


@dataclass(frozen=True)
class Waiting:
    """One count of what waits for this person on the workbench, linking to the page listing it."""

    label: str
    count: int
    href: str


def waiting_for(db: Session, principal: Principal) -> list[Waiting]:
    """What waits for this person, only where their permissions let them act or watch; each count
    is the owning domain's and equals the rows of the page it links to."""
    found: list[Waiting] = []
    if principal.can(Permission.CASES_ACCEPT):
        found.append(Waiting("待受理", cases.count_window_queue(db), "/staff/window"))
    if principal.can(Permission.CASES_REVIEW):
        found.append(Waiting("待审查决定", cases.count_queue(db, principal), "/staff/tasks"))
        # The department's own steps past their time, or nearly: its reviewers' and its head's to act on.
        found.append(Waiting("已逾期的待办", cases.count_queue(db, principal, due="overdue"), "/staff/tasks?due=overdue"))
        found.append(Waiting("即将到期的待办", cases.count_queue(db, principal, due="soon"), "/staff/tasks?due=soon"))
    if principal.scope_for(Permission.EVALUATION_READ) == Scope.DEPARTMENT and principal.department_code:
        found.append(Waiting("已逾期（红色预警）", supervision.count_overdue(db, principal),
                             f"/supervision/departments/{principal.department_code}?level=red&status=open"))
    if principal.can(Permission.CORRECTION_DECIDE):
        found.append(Waiting("待处理的纠错", registry.count_corrections_to_decide(db, principal), "/staff/corrections"))
    waiting_requests = sharing.count_waiting(db, principal)
    if waiting_requests is not None:
        found.append(Waiting("待答复的共享申请", waiting_requests,
                             f"/sharing/requests?{urlencode(sharing.waiting_filters(principal))}"))
    if principal.can(Permission.CONSULTATION_ANSWER):
        found.append(Waiting("待答复的咨询", items.count_open_consultations(db, principal), "/staff/consultations"))
    waiting_cases = grid.count_waiting(db, principal)
    if waiting_cases is not None:
        found.append(Waiting("待办城管案件", waiting_cases, "/grid/cases?tab=mine"))
    found += [Waiting(label, count, href) for label, count, href in hotline.waiting(db, principal)]
    if principal.can(Permission.EVALUATION_READ):
        found.append(Waiting("未完成的整改", supervision.count_open_rectifications(db, principal),
                             "/supervision/rectifications?status=open"))
    return found


@router.get("/staff", summary="工作台")
def workbench(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.WORKBENCH)]):
    return render(request, "workbench.html", principal=principal, Permission=Permission,
                  waiting=waiting_for(db, principal))


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
