"""Staff pages of data sharing: requests and their answers, grants, and how shared data is used."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from tongban.core.security import check_csrf
from tongban.catalog.models import SHARING_LABELS, Resource
from tongban.core.auth import Principal, deny, ensure_department, require
from tongban.core.charts import nice_ceiling
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem
from tongban.core.inputs import Id
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission, Scope
from tongban.core.templating import date_field, flash, local_time, render
from tongban.core.workdays import WorkingCalendar
from tongban.exchange import usage
from tongban.org import service as org
from tongban.sharing import service
from tongban.sharing.models import (
    OUTCOME_LABELS,
    STATUS_LABELS,
    Grant,
    ItemOutcome,
    RequestStatus,
    SharingRequest,
)
from tongban.core import clock

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
STEP_LABELS = {"submitted": "提出申请", "granted": "即时授权", "provider_decided": "提供方答复",
               "escalated": "转电子政务办协调", "arbitrated": "电子政务办协调决定"}
DECIDED_BY_LABELS = {"catalog": "按目录", "provider": "提供方", "egov": "电子政务办"}
GRANTED_BY_LABELS = {"catalog": "目录无条件共享", "provider": "提供方同意", "egov": "电子政务办协调"}
ESCALATION_LABELS = {"refused": "提供方拒绝部分信息项", "overdue": "提供方逾期未答复", "requested": "申请方申请协调"}
LABELS = {"status": STATUS_LABELS, "outcome": OUTCOME_LABELS, "sharing": SHARING_LABELS, "step": STEP_LABELS,
          "decided_by": DECIDED_BY_LABELS, "granted_by": GRANTED_BY_LABELS, "escalation": ESCALATION_LABELS,
          "usage_outcome": usage.OUTCOME_LABELS}
_SHARING_PERMISSIONS = (Permission.SHARING_REQUEST, Permission.SHARING_DECIDE, Permission.SHARING_ARBITRATE)


def _beijing(moment: datetime | None) -> str:
    return local_time(moment) if moment else "—"


def _ensure_sharing_role(db, principal: Principal, action: str) -> None:
    """Requests and grants concern requesters, providers and the e-government office alike, and no
    one permission covers all three (电子政务办 decides and arbitrates but does not request), so
    these pages are guarded by the workbench permission and then by any one of the sharing ones."""
    if not any(principal.can(p) for p in _SHARING_PERMISSIONS):
        raise deny(db, principal, slug="permission-denied", action=action,
                   detail=f"当前账户（{'、'.join(principal.role_labels) or '无角色'}）没有共享申请相关权限")


# ---- requests -------------------------------------------------------------------------------


@router.get("/sharing/requests", summary="共享申请列表")
def request_list(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.WORKBENCH)],
                 status: Annotated[str | None, Query(pattern="^(provider|arbitration|closed|)$")] = None,
                 direction: Annotated[str | None, Query(pattern="^(mine|incoming|)$")] = None,
                 cursor: Annotated[str | None, Query(max_length=200)] = None):
    _ensure_sharing_role(db, principal, "sharing.list")
    query = service.visible_requests(db, principal, status=status or None)
    if direction == "mine":
        query = query.where(SharingRequest.requester_id == principal.department_id)
    elif direction == "incoming":
        query = query.where(SharingRequest.provider_id == principal.department_id)
    rows, next_cursor = paginate(db, query, SharingRequest.id, cursor=cursor, limit=PAGE_SIZE)
    counts = {r.id: {o: sum(1 for i in r.items if i.outcome == o) for o in ItemOutcome} for r in rows}
    filters = {"status": status or "", "direction": direction or ""}
    query_string = urlencode({k: v for k, v in filters.items() if v})
    return render(request, "sharing_requests.html", principal=principal, rows=rows, counts=counts, labels=LABELS,
                  filters=filters, sees_all=principal.scope_for(Permission.SHARING_ARBITRATE) == Scope.ALL,
                  next_url=f"/sharing/requests?cursor={next_cursor}&{query_string}" if next_cursor else None,
                  ItemOutcome=ItemOutcome)


def _visible(db, principal: Principal, request_id: Id) -> SharingRequest:
    found = db.scalar(service.visible_requests(db, principal).where(SharingRequest.id == request_id))
    if found is None:
        raise Problem("not-found", f"共享申请 {request_id} 不存在或无权查看")
    return found


def _open_for_arbitration(r: SharingRequest):
    return [i for i in r.items if i.outcome == ItemOutcome.PENDING
            or (i.outcome == ItemOutcome.REFUSED and i.decided_by == "provider")]


def _deadline(db, r: SharingRequest) -> dict | None:
    """The provider's deadline in working days: how many it had, how many are left."""
    if r.due_on is None:
        return None
    calendar = WorkingCalendar.load(db)
    today = clock.today()  # the service set the deadline from the server's own date
    submitted = r.created_at.astimezone().date()
    waiting = r.status == RequestStatus.PROVIDER
    return {"due": r.due_on, "provisional": r.due_provisional,
            "allowed": calendar.working_days_between(submitted, r.due_on),
            "left": calendar.working_days_between(today, r.due_on) if waiting and today <= r.due_on else None,
            "overdue": waiting and today > r.due_on}


def _detail(request: Request, db, principal: Principal, request_id: Id, *, status_code: int = 200,
            error: str | None = None, form: dict | None = None):
    r = _visible(db, principal, request_id)
    names = {item.code: item.name for item in r.resource.items}
    refused = any(i.outcome == ItemOutcome.REFUSED for i in r.items)
    return render(request, "sharing_request.html", status_code=status_code, principal=principal, r=r, names=names,
                  labels=LABELS, deadline=_deadline(db, r), beijing=_beijing, error=error, form=form or {},
                  pending=[i for i in r.items if i.outcome == ItemOutcome.PENDING],
                  open_items=_open_for_arbitration(r),
                  may_decide=r.status == RequestStatus.PROVIDER
                  and principal.can_for_department(Permission.SHARING_DECIDE, r.provider_id),
                  may_arbitrate=r.status == RequestStatus.ARBITRATION and principal.can(Permission.SHARING_ARBITRATE),
                  may_coordinate=r.status == RequestStatus.CLOSED and refused
                  and principal.can(Permission.SHARING_REQUEST) and r.requester_id == principal.department_id)


@router.get("/sharing/requests/{request_id}", summary="共享申请详情")
def request_page(request: Request, request_id: Id, db: DbSession,
                 principal: Annotated[Principal, require(Permission.WORKBENCH)]):
    _ensure_sharing_role(db, principal, "sharing.read")
    return _detail(request, db, principal, request_id)


def _answer(request: Request, db, principal: Principal, request_id: Id, form: dict, work, done: str):
    """Run one decision; on success redirect with a message, on a refusal show it on the request's page."""
    try:
        work()
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _detail(request, db, principal, request_id, status_code=problem.status, error=problem.detail, form=form)
    flash(request, done)
    return RedirectResponse(f"/sharing/requests/{request_id}", status_code=303)


@router.post("/sharing/requests/{request_id}/decision", summary="提供方答复共享申请")
def decide(request: Request, request_id: Id, db: DbSession,
           principal: Annotated[Principal, require(Permission.SHARING_DECIDE)],
           approve: Annotated[list[str] | None, Form(max_length=500)] = None,
           reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    r = service.request_or_404(db, request_id, lock=True)
    ensure_department(db, principal, Permission.SHARING_DECIDE, r.provider, action="sharing.decide")
    approve = approve or []
    # The page lists every pending item with a box: an unticked box is a refusal.
    refuse = [i.item_code for i in r.items if i.outcome == ItemOutcome.PENDING and i.item_code not in approve]

    def work():
        service.provider_decide(db, r, approve=approve, refuse=refuse, reason=reason.strip() or None, actor=principal)

    done = f"已答复：同意 {len(approve)} 项" + (f"，拒绝 {len(refuse)} 项，已转电子政务办协调。" if refuse else "，申请已办结。")
    return _answer(request, db, principal, request_id, {"approve": approve, "reason": reason}, work, done)


@router.post("/sharing/requests/{request_id}/arbitration", summary="电子政务办协调决定")
def arbitrate(request: Request, request_id: Id, db: DbSession,
              principal: Annotated[Principal, require(Permission.SHARING_ARBITRATE)],
              approve: Annotated[list[str] | None, Form(max_length=500)] = None,
              reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    r = service.request_or_404(db, request_id, lock=True)
    approve = approve or []
    refuse = [i.item_code for i in _open_for_arbitration(r) if i.item_code not in approve]

    def work():
        service.arbitrate(db, r, approve=approve, refuse=refuse, reason=reason.strip() or None, actor=principal)

    done = f"协调决定已作出：同意 {len(approve)} 项，不予共享 {len(refuse)} 项。"
    return _answer(request, db, principal, request_id, {"approve": approve, "reason": reason}, work, done)


@router.post("/sharing/requests/{request_id}/coordination", summary="申请方申请协调")
def coordinate(request: Request, request_id: Id, db: DbSession,
               principal: Annotated[Principal, require(Permission.SHARING_REQUEST)],
               reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    _visible(db, principal, request_id)
    r = service.request_or_404(db, request_id, lock=True)  # like the decisions: one at a time
    if r.requester_id != principal.department_id:
        raise deny(db, principal, slug="department-scope", detail="只有申请部门可以申请协调", action="sharing.coordinate",
                   object_type="sharing_request", object_id=r.number)

    def work():
        if len(reason.strip()) < 2:
            raise Problem("validation-error", "请填写申请协调的理由（至少 2 个字）")
        service.request_coordination(db, r, reason=reason.strip(), actor=principal)

    return _answer(request, db, principal, request_id, {"reason": reason}, work, "已申请电子政务办协调。")


# ---- grants ---------------------------------------------------------------------------------


def _grant_state(grant: Grant, today: date) -> str:
    if grant.revoked_at is not None:
        return "已撤销"
    if grant.valid_to < today:
        return "已过期"
    if grant.valid_from > today:
        return "未生效"
    return "有效"


def _item_names(resource: Resource, codes: list[str]) -> list[str]:
    names = {item.code: item.name for item in resource.items}
    return [names.get(code, code) for code in codes]


def _grants_page(request: Request, db, principal: Principal, *, include_revoked: bool, cursor: str | None,
                 status_code: int = 200, error: str | None = None, failed_id: int | None = None):
    rows, next_cursor = paginate(db, service.visible_grants(db, principal, include_revoked=include_revoked), Grant.id,
                                 cursor=cursor, limit=PAGE_SIZE)
    today = clock.today()
    return render(request, "sharing_grants.html", status_code=status_code, principal=principal, labels=LABELS,
                  grants=[{"grant": g, "items": _item_names(g.resource, json.loads(g.items)), "state": _grant_state(g, today),
                           "revocable": g.revoked_at is None
                           and principal.can_for_department(Permission.SHARING_DECIDE, g.resource.provider_id)}
                          for g in rows],
                  include_revoked=include_revoked, error=error, failed_id=failed_id,
                  next_url=f"/sharing/grants?cursor={next_cursor}" + ("&include_revoked=true" if include_revoked else "")
                  if next_cursor else None)


@router.get("/sharing/grants", summary="共享授权")
def grants(request: Request, db: DbSession, principal: Annotated[Principal, require(Permission.WORKBENCH)],
           include_revoked: bool = False, cursor: Annotated[str | None, Query(max_length=200)] = None):
    _ensure_sharing_role(db, principal, "sharing.grants")
    return _grants_page(request, db, principal, include_revoked=include_revoked, cursor=cursor)


@router.post("/sharing/grants/{grant_id}/revoke", summary="撤销共享授权")
def revoke(request: Request, grant_id: Id, db: DbSession,
           principal: Annotated[Principal, require(Permission.SHARING_DECIDE)],
           reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(request, csrf_token)
    grant = service.grant_or_404(db, grant_id, lock=True)
    ensure_department(db, principal, Permission.SHARING_DECIDE, grant.resource.provider, action="sharing.revoke")
    try:
        if len(reason.strip()) < 2:
            raise Problem("validation-error", "请填写撤销理由（至少 2 个字）")
        service.revoke(db, grant, reason=reason.strip(), actor=principal)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _grants_page(request, db, principal, include_revoked=False, cursor=None, status_code=problem.status,
                            error=f"授权 #{grant_id}：{problem.detail}", failed_id=grant_id)
    flash(request, f"已撤销{grant.department.short_name}对{grant.resource.name}的授权 #{grant_id}，下一次调用起生效。")
    return RedirectResponse("/sharing/grants", status_code=303)


# ---- usage ----------------------------------------------------------------------------------


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
    resources_query = select(Resource).order_by(Resource.code)
    if not everything:
        resources_query = resources_query.where(Resource.provider_id == principal.department_id)
    context = {"principal": principal, "filters": filters, "everything": everything, "labels": LABELS,
               "resources": list(db.scalars(resources_query)), "departments": org.list_all(db), "outcomes": usage.OUTCOMES}
    try:
        within = usage.period(date_field(from_, "开始日期"), date_field(to, "结束日期"))
        report = usage.report(db, principal, within=within, resource=resource or None, department=department or None)
    except Problem as problem:
        if problem.status >= 500:
            raise
        return render(request, "exchange_usage.html", status_code=problem.status, error=problem.detail, report=None,
                      **context)
    listed = {g.resource for g in report.unused_grants}
    item_names = {r.code: {i.code: i.name for i in r.items}
                  for r in db.scalars(select(Resource).where(Resource.code.in_(listed)))}
    return render(request, "exchange_usage.html", report=report, day_chart=_day_chart(report.per_day),
                  item_names=item_names,
                  department_chart=_department_chart(report.by_department), error=None, **context)
