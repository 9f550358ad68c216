"""Staff pages of data sharing: a catalog resource and asking to share it, requests and their
answers, grants."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from tongban.catalog import service as catalog
from tongban.catalog.schemas import (
    CLASSIFICATION_LABELS, DATA_TYPES, OPENNESS_LABELS, SHARING_LABELS, STATUS_LABELS as RESOURCE_STATUS_LABELS,
    ResourceStatus, SharingType,
)
from tongban.core import clock
from tongban.core.auth import Principal, deny, ensure_department, require
from tongban.core.db.session import DbSession
from tongban.core.errors import Problem, validation_errors
from tongban.core.inputs import Id
from tongban.core.pagination import paginate
from tongban.core.permissions import Permission, Scope
from tongban.core.security import Csrf, check_csrf
from tongban.core.templating import flash, render
from tongban.core.workdays import WorkingCalendar
from tongban.org import service as org
from tongban.sharing import service
from tongban.sharing.models import Grant, SharingRequest
from tongban.sharing.schemas import (
    GRANTED_BY_LABELS, OUTCOME_LABELS, STATUS_LABELS, ItemOutcome, RequestCreate, RequestStatus,
)

if TYPE_CHECKING:
    from tongban.catalog.models import Resource

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 30
STEP_LABELS = {"submitted": "提出申请", "granted": "即时授权", "provider_decided": "提供方答复",
               "escalated": "转电子政务办协调", "arbitrated": "电子政务办协调决定"}
DECIDED_BY_LABELS = {"catalog": "按目录", "provider": "提供方", "egov": "电子政务办"}
ESCALATION_LABELS = {"refused": "提供方拒绝部分信息项", "overdue": "提供方逾期未答复", "requested": "申请方申请协调"}
LABELS = {"status": STATUS_LABELS, "outcome": OUTCOME_LABELS, "sharing": SHARING_LABELS, "step": STEP_LABELS,
          "decided_by": DECIDED_BY_LABELS, "granted_by": GRANTED_BY_LABELS, "escalation": ESCALATION_LABELS}
_SHARING_PERMISSIONS = (Permission.SHARING_REQUEST, Permission.SHARING_DECIDE, Permission.SHARING_ARBITRATE)


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
                  labels=LABELS, deadline=_deadline(db, r), error=error, form=form or {},
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
           reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Csrf = ""):
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
              reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Csrf = ""):
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
               reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Csrf = ""):
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
           reason: Annotated[str, Form(max_length=500)] = "", csrf_token: Csrf = ""):
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


# ---- a catalog resource: what it offers, and asking to share it ------------------------------
# The catalog's page of one resource is where a department asks for it: it shows the resource
# (the catalog's service) with the requests and grants on it (sharing's own), so it lives here.

RESOURCE_LABELS = {"classification": CLASSIFICATION_LABELS, "sharing": SHARING_LABELS, "status": RESOURCE_STATUS_LABELS,
                   "openness": OPENNESS_LABELS, "data_types": DATA_TYPES, "request_status": STATUS_LABELS,
                   "outcome": OUTCOME_LABELS}
REQUEST_FIELD_LABELS = {"items": "信息项", "duty": "履职依据", "basis": "法律或业务依据", "purpose": "用途",
                        "valid_from": "使用期限开始", "valid_to": "使用期限结束"}


def _may_request(principal: Principal, resource: Resource) -> bool:
    """Only a department other than the provider asks; the provider uses its own data freely."""
    return (principal.can(Permission.SHARING_REQUEST) and principal.department_id is not None
            and resource.provider_id != principal.department_id)


def _resource_detail(request: Request, db, principal: Principal, resource: Resource, *, status_code: int = 200,
            error: str | None = None, errors: list[dict] | None = None, form: dict | None = None):
    requests = []
    if any(principal.can(p) for p in _SHARING_PERMISSIONS):
        requests = list(db.scalars(service.visible_requests(db, principal)
                                   .where(SharingRequest.resource_id == resource.id)
                                   .order_by(SharingRequest.id.desc()).limit(20)))
    held = service.items_of(service.active_grants(db, principal.department_id, resource.id)) \
        if principal.department_id and resource.provider_id != principal.department_id else set()
    today = clock.today()
    form = form or {"items": [], "duty": "", "basis": "", "purpose": "", "valid_from": today.isoformat(),
                    "valid_to": (today + timedelta(days=365)).isoformat()}
    return render(request, "catalog_resource.html", status_code=status_code, principal=principal, resource=resource,
                  labels=RESOURCE_LABELS, may_request=_may_request(principal, resource),
                  published=resource.status == ResourceStatus.PUBLISHED, held=held, requests=requests,
                  may_manage=principal.can_for_department(Permission.CATALOG_MANAGE, resource.provider_id)
                  and resource.registry_name is None,  # the base registries are kept by the platform
                  SharingType=SharingType, ItemOutcome=ItemOutcome, error=error, errors=errors or [],
                  field_labels=REQUEST_FIELD_LABELS, form=form)


@router.get("/catalog/{code}", summary="信息资源详情")
def resource_page(request: Request, code: str, db: DbSession,
                  principal: Annotated[Principal, require(Permission.CATALOG_READ)]):
    return _resource_detail(request, db, principal, catalog.get_or_404(db, code))


@router.post("/catalog/{code}/requests", summary="提出共享申请")
def submit_request(request: Request, code: str, db: DbSession,
                   principal: Annotated[Principal, require(Permission.SHARING_REQUEST)],
                   items: Annotated[list[str] | None, Form(max_length=500)] = None,
                   duty: Annotated[str, Form(max_length=1000)] = "", basis: Annotated[str, Form(max_length=1000)] = "",
                   purpose: Annotated[str, Form(max_length=1000)] = "",
                   valid_from: Annotated[str, Form(max_length=20)] = "", valid_to: Annotated[str, Form(max_length=20)] = "",
                   csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    resource = catalog.get_or_404(db, code)
    items = items or []
    form = {"items": items, "duty": duty, "basis": basis, "purpose": purpose, "valid_from": valid_from,
            "valid_to": valid_to}
    try:
        if principal.department_code is None:
            raise Problem("validation-error", "共享申请须以部门名义提出，当前账户不属于任何部门")
        # The same rules as the API's request body; a mistake comes back on this page, in Chinese.
        try:
            body = RequestCreate(resource=code, items=items, duty=duty.strip(), basis=basis.strip(),
                                 purpose=purpose.strip(), valid_from=valid_from, valid_to=valid_to)
        except ValidationError as error:
            _, found = validation_errors(RequestValidationError(error.errors()))
            raise Problem("validation-error", "申请内容有误，请按提示修改", errors=found) from None
        created = service.submit(db, resource=resource, requester=org.get_by_code_or_404(db, principal.department_code),
                                 item_codes=body.items, duty=body.duty, basis=body.basis, purpose=body.purpose,
                                 valid_from=body.valid_from, valid_to=body.valid_to, actor=principal,
                                 response_days=request.app.state.settings.sharing_response_days)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _resource_detail(request, db, principal, catalog.get_or_404(db, code), status_code=problem.status,
                       error=problem.detail, errors=problem.extensions.get("errors"), form=form)
    counts = {outcome: sum(1 for i in created.items if i.outcome == outcome) for outcome in ItemOutcome}
    flash(request, f"共享申请 {created.number} 已提交：即时授权 {counts[ItemOutcome.GRANTED]} 项，"
                   f"待提供方答复 {counts[ItemOutcome.PENDING]} 项，不予共享 {counts[ItemOutcome.REFUSED]} 项。")
    return RedirectResponse(f"/sharing/requests/{created.id}", status_code=303)


@router.post("/catalog/{code}/status", summary="发布或撤回信息资源")
def change_status(request: Request, code: str, db: DbSession,
                  principal: Annotated[Principal, require(Permission.CATALOG_MANAGE)],
                  status: Annotated[str, Form(pattern="^(published|withdrawn)$")],
                  csrf_token: Csrf = ""):
    check_csrf(request, csrf_token)
    resource = catalog.get_or_404(db, code)
    ensure_department(db, principal, Permission.CATALOG_MANAGE, resource.provider, action="catalog.status")
    try:
        catalog.set_status(db, resource, ResourceStatus(status), actor=principal)
        db.commit()
    except Problem as problem:
        if problem.status >= 500:
            raise
        db.rollback()
        return _resource_detail(request, db, principal, catalog.get_or_404(db, code), status_code=problem.status,
                       error=problem.detail)
    flash(request, f"{resource.name}已{RESOURCE_STATUS_LABELS[ResourceStatus(status)]}。")
    return RedirectResponse(f"/catalog/{code}", status_code=303)
